"""API: the departments of the caller's organisation."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.tenancy import operations as ops
from service.tenancy import queries
from service.tenancy.schemas import DepartmentIn, DepartmentOut
from service.web.context import actor, db


@bp.get("/departments")
@doc(tags=["departments"], responses={200: items_of(DepartmentOut)})
def list_departments():
    """List the departments of the caller's organisation, by name."""
    return jsonify({"items": DepartmentOut(many=True).dump(queries.list_departments(db(), actor()))})


@bp.post("/departments")
@doc(tags=["departments"], body=DepartmentIn, responses={201: DepartmentOut}, errors=(400, 403, 404))
def create_department():
    """Add a department (administrators)."""
    return jsonify(DepartmentOut().dump(ops.create_department(db(), actor(), json_body()))), 201


@bp.get("/departments/<int:department_id>")
@doc(tags=["departments"], responses={200: DepartmentOut}, errors=(404,))
def get_department(department_id: int):
    """Return one department."""
    return jsonify(DepartmentOut().dump(queries.get_department(db(), actor(), department_id)))


@bp.patch("/departments/<int:department_id>")
@doc(
    tags=["departments"],
    summary="Change the given fields only.",
    body=DepartmentIn(partial=True),
    responses={200: DepartmentOut},
    errors=(400, 403, 404),
)
def update_department(department_id: int):
    """Rename a department or change its head (administrators)."""
    queries.get_department(db(), actor(), department_id)  # another firm's id is 404 whatever the body
    updated = ops.update_department(db(), actor(), department_id, json_body(), partial=True)
    return jsonify(DepartmentOut().dump(updated))


@bp.delete("/departments/<int:department_id>")
@doc(tags=["departments"], responses={204: "Removed."}, errors=(403, 404, 409))
def delete_department(department_id: int):
    """Remove a department that no instrument belongs to (administrators)."""
    ops.delete_department(db(), actor(), department_id)
    return "", 204
