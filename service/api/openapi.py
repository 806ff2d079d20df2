"""The OpenAPI 3 document of the API, built from the views' docstrings and the schemas."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import current_app, jsonify

from service.api import bp

_cache: dict = {}


def build_spec(app) -> dict:
    """Document every ``/api/v1`` view that carries an OpenAPI block in its docstring."""
    spec = APISpec(
        title="Instrument ledger API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": "计量器具台账 JSON API. Authenticate with `Authorization: Bearer <token>`."},
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
                continue
            view = app.view_functions[rule.endpoint]
            if view.__doc__ and "---" in view.__doc__:
                spec.path(view=view, app=app)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    return document


@bp.get("/openapi.json")
def openapi():
    """Return the OpenAPI document (no token needed)."""
    if "doc" not in _cache:
        _cache["doc"] = build_spec(current_app)
    return jsonify(_cache["doc"])
