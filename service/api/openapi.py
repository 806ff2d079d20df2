"""The OpenAPI 3 document of the API, built from the views' docstrings and the schemas."""

from __future__ import annotations

from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import current_app, jsonify

from service.api import bp
from service.api.schemas import ErrorOut
from service.ledger.schemas import InstrumentIn
from service.tenancy.schemas import DepartmentIn, OrgProfileIn

_cache: dict = {}

#: Error responses the views' docstrings name (``404: NotFound``); all have the body of ``ErrorOut``.
ERROR_RESPONSES = {
    "Invalid": "Invalid input: `errors` maps each field to its messages.",
    "Unauthorized": "Missing, unknown or revoked Bearer token.",
    "Forbidden": "Your role does not allow this.",
    "NotFound": "No such object in your organisation.",
    "Conflict": "The change clashes with the current state (already decided, still in use, …).",
}
#: Path parameters the views' docstrings name (``parameters: [instrument_id]``).
PATH_PARAMETERS = {
    "instrument_id": "An instrument of your organisation.",
    "user_id": "A user of your organisation.",
    "department_id": "A department of your organisation.",
    "request_id": "A status request of your organisation.",
    "import_id": "A ledger import of your organisation.",
    "notification_id": "A message of your organisation's outbox.",
    "record_id": "A calibration or verification record of your organisation.",
    "attachment_id": "A file attached to a record of your organisation.",
    "case_id": "A nonconformity case of your organisation.",
    "technician_id": "A technician of your institute.",
    "visit_id": "A visit of your institute, or one proposed to your firm.",
    "order_id": "A service order of your firm, or one to your institute.",
    "item_id": "An instrument of that visit or service order.",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


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
    spec.components.schema("Error", schema=ErrorOut)
    spec.components.schema("InstrumentPatch", schema=InstrumentIn(partial=True))
    spec.components.schema("DepartmentPatch", schema=DepartmentIn(partial=True))
    spec.components.schema("OrgProfilePatch", schema=OrgProfileIn(partial=True))
    for name, description in ERROR_RESPONSES.items():
        spec.components.response(
            name, {"description": description, "content": {"application/json": {"schema": "Error"}}}
        )
    for name, description in PATH_PARAMETERS.items():
        spec.components.parameter(
            name, "path", {"required": True, "schema": {"type": "integer"}, "description": description}
        )
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
                continue
            view = app.view_functions[rule.endpoint]
            if view.__doc__ and "---" in view.__doc__:
                spec.path(view=view, app=app)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
            for code, response in responses.items():
                if "$ref" not in response:
                    # OpenAPI requires a description on every response; the status phrase will do.
                    response.setdefault("description", HTTPStatus(int(code)).phrase)
    return document


@bp.get("/openapi.json")
def openapi():
    """Return the OpenAPI document (no token needed)."""
    if "doc" not in _cache:
        _cache["doc"] = build_spec(current_app)
    return jsonify(_cache["doc"])
