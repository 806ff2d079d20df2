"""API: the departments of the caller's organisation."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.helpers import json_body
from service.tenancy import operations as ops
from service.tenancy.schemas import DepartmentOut
from service.web.context import actor, db


@bp.get("/departments")
def list_departments():
    """List the departments of the caller's organisation, by name.

    ---
    get:
      tags: [departments]
      responses:
        200:
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: DepartmentOut}
    """
    return jsonify({"items": DepartmentOut(many=True).dump(ops.list_departments(db(), actor()))})


@bp.post("/departments")
def create_department():
    """Add a department (administrators).

    ---
    post:
      tags: [departments]
      requestBody:
        required: true
        content:
          application/json:
            schema: DepartmentIn
      responses:
        201:
          content:
            application/json:
              schema: DepartmentOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    return jsonify(DepartmentOut().dump(ops.create_department(db(), actor(), json_body()))), 201


@bp.get("/departments/<int:department_id>")
def get_department(department_id: int):
    """Return one department.

    ---
    get:
      tags: [departments]
      parameters: [department_id]
      responses:
        200:
          content:
            application/json:
              schema: DepartmentOut
        404: NotFound
    """
    return jsonify(DepartmentOut().dump(ops.get_department(db(), actor(), department_id)))


@bp.patch("/departments/<int:department_id>")
def update_department(department_id: int):
    """Rename a department or change its head (administrators).

    ---
    patch:
      tags: [departments]
      summary: Change the given fields only.
      parameters: [department_id]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/DepartmentPatch'}
      responses:
        200:
          content:
            application/json:
              schema: DepartmentOut
        400: Invalid
        403: Forbidden
        404: NotFound
    """
    ops.get_department(db(), actor(), department_id)  # another firm's id is 404 whatever the body
    updated = ops.update_department(db(), actor(), department_id, json_body(), partial=True)
    return jsonify(DepartmentOut().dump(updated))


@bp.delete("/departments/<int:department_id>")
def delete_department(department_id: int):
    """Remove a department that no instrument belongs to (administrators).

    ---
    delete:
      tags: [departments]
      parameters: [department_id]
      responses:
        204:
          description: Removed.
        403: Forbidden
        404: NotFound
        409: Conflict
    """
    ops.delete_department(db(), actor(), department_id)
    return "", 204
