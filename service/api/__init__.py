"""The JSON API under ``/api/v1``: Bearer tokens, JSON errors, an OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, g, request

from service.actors import Actor
from service.auth.operations import user_for_api_token
from service.clock import now_utc
from service.db import allow_all_tenants
from service.errors import DomainError
from service.web.access import closed_to
from service.web.context import bind_actor, db
from service.web.errors import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = {"api.openapi"}


class Unauthorized(DomainError):
    """No valid Bearer token."""

    status = 401


@bp.before_request
def _authenticate():
    """Resolve the Bearer token to a user and confine the session to their organisation."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    session = db()
    allow_all_tenants(session)
    user = (
        user_for_api_token(session, token.strip(), now_utc())
        if scheme.lower() == "bearer" and token
        else None
    )
    if user is None:
        response = error_response(401, "Missing or invalid Bearer token.")
        response[0].headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    who = Actor.of(user)
    if closed_to(who):
        return error_response(404, "Not found.")
    g.api_user = user
    bind_actor(who)
    return None


from service.api import (  # noqa: E402,F401  (routes register on import)
    assistance,
    awards,
    checks,
    comparison_projects,
    comparisons,
    departments,
    exports,
    firm_reports,
    imports,
    institute,
    institute_reports,
    instruments,
    intervals,
    nominations,
    nonconformity,
    openapi,
    orders,
    organisation,
    recommendations,
    records,
    reminders,
    reports,
    requests,
    reviews,
    stability,
    standards,
    users,
    visits,
)
