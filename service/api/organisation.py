"""API: the caller's own organisation."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.helpers import json_body
from service.tenancy import operations as ops
from service.tenancy.schemas import OrgOut
from service.web.context import actor, db


@bp.get("/organisation")
def get_organisation():
    """Return the caller's organisation.

    ---
    get:
      tags: [organisation]
      responses:
        200:
          content:
            application/json:
              schema: OrgOut
    """
    return jsonify(OrgOut().dump(ops.get_org(db(), actor())))


@bp.patch("/organisation")
def update_organisation():
    """Change the caller's organisation's profile (admins).

    ---
    patch:
      tags: [organisation]
      summary: Change the given fields only.
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/OrgProfilePatch'}
      responses:
        200:
          content:
            application/json:
              schema: OrgOut
        400: Invalid
        403: Forbidden
    """
    return jsonify(OrgOut().dump(ops.update_org_profile(db(), actor(), json_body(), partial=True)))
