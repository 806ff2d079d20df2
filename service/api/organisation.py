"""API: the caller's own organisation."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc
from service.api.helpers import json_body
from service.tenancy import operations as ops
from service.tenancy import queries
from service.tenancy.schemas import OrgOut, OrgProfileIn
from service.web.context import actor, db


@bp.get("/organisation")
@doc(tags=["organisation"], responses={200: OrgOut})
def get_organisation():
    """Return the caller's organisation."""
    return jsonify(OrgOut().dump(queries.get_org(db(), actor())))


@bp.patch("/organisation")
@doc(
    tags=["organisation"],
    summary="Change the given fields only.",
    body=OrgProfileIn(partial=True),
    responses={200: OrgOut},
    errors=(400, 403),
)
def update_organisation():
    """Change the caller's organisation's profile (admins)."""
    return jsonify(OrgOut().dump(ops.update_org_profile(db(), actor(), json_body(), partial=True)))
