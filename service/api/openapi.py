"""The OpenAPI 3 document of the API, built from each view's ``@doc`` declaration and its schemas."""

from __future__ import annotations

import re
from http import HTTPStatus

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from service.api import bp
from service.api.docs import ERRORS, File, Operation
from service.api.schemas import ErrorOut
from service.ledger.schemas import InstrumentIn
from service.schemas import Text
from service.tenancy.schemas import DepartmentIn, OrgProfileIn

_cache: dict = {}

#: The path parameters of the API's routes, by name.
PATH_PARAMETERS = {
    "instrument_id": "An instrument of your organisation.",
    "user_id": "A user of your organisation.",
    "department_id": "A department of your organisation.",
    "request_id": "A status request of your organisation.",
    "import_id": "A ledger import of your organisation.",
    "export_id": "A ledger export of your organisation.",
    "notification_id": "A message of your organisation's outbox.",
    "record_id": "A calibration or verification record of your organisation.",
    "attachment_id": "A file attached to a record of your organisation.",
    "case_id": "A nonconformity case of your organisation.",
    "plan_id": "An intermediate-check plan of your organisation.",
    "technician_id": "A technician of your institute.",
    "visit_id": "A visit of your institute, or one proposed to your firm.",
    "order_id": "A service order of your firm, or one to your institute.",
    "item_id": "An instrument of that visit or service order.",
    "campaign_id": "An award campaign of your institute.",
    "recommender_id": "A recommender of your institute.",
    "nomination_id": "A nomination of your firm, or one addressed to a recommender you act for.",
    "file_id": "A scan of that nomination.",
    "assignment_id": "A review given to you, or (organisers) one of the campaign's assignments.",
    "award_id": "A winner of that campaign.",
    "objection_id": "An objection to the public notice of a campaign of your institute.",
    "day": "The day, as YYYY-MM-DD.",
    "year": "The year, e.g. 2026.",
    "assistance_id": "An SME assistance record of your institute.",
    "comparison_id": "A comparison or proficiency-test result of your organisation.",
    "project_id": "A comparison project your institute organises, or one your firm takes part in.",
    "participant_id": "A participant of that comparison project.",
    "test_id": "A repeatability test of your organisation.",
    "assessment_id": "A stability assessment of your organisation.",
    "code": "A Henan region's GB/T 2260 code, or `unknown` (clients without a known region).",
}
#: Path parameters that are not ids.
PATH_SCHEMAS = {
    "day": {"type": "string", "format": "date"},
    "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
    "code": {"type": "string"},
}
#: Bodies some operations take in part, under their own names.
PARTIAL_BODIES = {
    "InstrumentPatch": InstrumentIn(partial=True),
    "DepartmentPatch": DepartmentIn(partial=True),
    "OrgProfilePatch": OrgProfileIn(partial=True),
}


def _response(value) -> dict:
    if isinstance(value, tuple):
        schema, description = value
        return _response(schema) | {"description": description}
    if isinstance(value, str):
        return {"description": value}
    if isinstance(value, File):
        return {
            "description": value.description,
            "content": {value.media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    return {"description": "", "content": {"application/json": {"schema": value}}}


def _operation(rule, operation: Operation) -> dict:
    out: dict = {"tags": list(operation.tags)}
    if operation.summary:
        out["summary"] = operation.summary
    if operation.description:
        out["description"] = operation.description
    parameters: list = [name for name in rule.arguments if name in PATH_PARAMETERS]
    if operation.query is not None:
        parameters.append({"in": "query", "schema": operation.query})
    if parameters:
        out["parameters"] = parameters
    if operation.body is not None or operation.form is not None:
        json_body = operation.body is not None
        out["requestBody"] = {
            "required": operation.body_required,
            "content": {
                "application/json" if json_body else "multipart/form-data": {
                    "schema": operation.body if json_body else operation.form
                }
            },
        }
    responses = {str(code): _response(value) for code, value in operation.responses.items()}
    for code in (*operation.errors, 401):
        responses.setdefault(str(code), ERRORS[code][0])
    out["responses"] = responses
    return out


def _limits(self, field, **_kwargs) -> dict:
    """Publish the limits our own validators check: a length limit, a range of integers."""
    limits = {}
    if isinstance(field, Text):
        limits["maxLength"] = field.limit
    for validator in field.validators:
        if hasattr(validator, "bounds"):
            limits["minimum"], limits["maximum"] = validator.bounds
    return limits


def build_spec(app) -> dict:
    """Document every ``/api/v1`` view from its ``@doc`` declaration."""
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="Instrument ledger API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={"description": "计量器具台账 JSON API. Authenticate with `Authorization: Bearer <token>`."},
    )
    marshmallow.converter.add_attribute_function(_limits)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorOut)
    for name, schema in PARTIAL_BODIES.items():
        spec.components.schema(name, schema=schema)
    for name, description in ERRORS.values():
        spec.components.response(
            name, {"description": description, "content": {"application/json": {"schema": "Error"}}}
        )
    for name, description in PATH_PARAMETERS.items():
        schema = PATH_SCHEMAS.get(name, {"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
        spec.components.parameter(
            name, "path", {"required": True, "schema": schema, "description": description}
        )
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        operation = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if operation is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, operation)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    document["security"] = [{"bearer": []}]
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for code, response in operation["responses"].items():
                if "$ref" not in response and not response.get("description"):
                    # OpenAPI requires a description on every response; the status phrase will do.
                    response["description"] = HTTPStatus(int(code)).phrase
    return document


@bp.get("/openapi.json")
def openapi():
    """Return the OpenAPI document (no token needed)."""
    if "doc" not in _cache:
        _cache["doc"] = build_spec(current_app)
    return jsonify(_cache["doc"])
