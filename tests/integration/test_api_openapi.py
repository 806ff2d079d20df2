"""The OpenAPI document of the API."""

from __future__ import annotations

import re

from tests.api import API


def test_openapi_needs_no_token(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")


def _resolve(document: dict, ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = document
    for part in ref[2:].split("/"):
        assert part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_documents_every_endpoint(app, client):
    document = client.get(f"{API}/openapi.json").json
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for ref in _refs(document):
        _resolve(document, ref)

    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API) and r.endpoint != "api.openapi"]
    assert len(rules) >= 20
    for rule in rules:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path].get(method.lower())
            assert operation is not None, f"{method} {path}"
            assert operation["tags"]
            parameters = [
                _resolve(document, p["$ref"]) if "$ref" in p else p for p in operation.get("parameters", [])
            ]
            for name in rule.arguments:
                assert {"in": "path", "name": name} in [
                    {"in": p["in"], "name": p["name"]} for p in parameters
                ], f"{method} {path} does not declare {name}"
                assert all(p["required"] for p in parameters if p["in"] == "path")
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), f"{method} {path}"
            assert "401" in responses
            for response in responses.values():
                response = _resolve(document, response["$ref"]) if "$ref" in response else response
                assert response["description"]
            bodiless = (
                "/approve",
                "/withdraw",
                "/confirm",
                "/retry",
                "/release-held",
                "/cancel",
                "/submit",
                "/accept",
                "/publish",
            )
            if method in ("POST", "PATCH") and not path.endswith(bodiless):
                content = operation["requestBody"]["content"]
                body = content.get("application/json", content.get("multipart/form-data"))["schema"]
                assert "$ref" in body, f"{method} {path}"
            if rule.arguments:
                assert "404" in responses, f"{method} {path}"

    schemas = document["components"]["schemas"]
    for name in ("InstrumentOut", "UserOut", "DepartmentOut", "StatusRequestOut", "EventOut", "Error"):
        assert schemas[name]["properties"], name
    instrument_fields = set(schemas["InstrumentOut"]["properties"])
    assert {"id", "management_no", "next_due_on", "status", "label", "custodian_mobile"} <= instrument_fields
    assert "required" not in schemas["InstrumentPatch"]
    listed = {p["name"] for p in document["paths"][f"{API}/instruments"]["get"]["parameters"]}
    assert {
        "management_no",
        "q",
        "status",
        "department",
        "label",
        "is_mandatory",
        "due_within",
        "overdue",
    } <= listed
    assert {"cursor", "limit"} <= listed


def test_openapi_passes_the_validator(client):
    from openapi_spec_validator import validate

    validate(client.get(f"{API}/openapi.json").json)


def _properties(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]["properties"]


def _response_schema(document: dict, method: str, path: str, code: str = "200") -> dict:
    schema = document["paths"][API + path][method]["responses"][code]["content"]["application/json"]["schema"]
    return _resolve(document, schema["$ref"]) if "$ref" in schema else schema


def test_openapi_declares_every_field_the_api_sends(client):
    document = client.get(f"{API}/openapi.json").json
    reminders = _response_schema(document, "get", "/instruments/{instrument_id}/reminders")
    item = _resolve(document, reminders["properties"]["items"]["items"]["$ref"])
    assert {"days", "due_on", "stage"} <= set(item["properties"])
    case = _response_schema(document, "get", "/nonconformity/{case_id}")
    assert "exposure" in case["properties"]
    notification = _response_schema(document, "get", "/notifications/{notification_id}")
    assert "items" in notification["properties"]
    invitation = _response_schema(document, "post", "/invitations", "201")
    assert "email_sent" in invitation["properties"]


def test_openapi_says_exact_decimals_are_strings(client):
    document = client.get(f"{API}/openapi.json").json
    reading = _properties(document, "ReadingOut")
    organisation = _properties(document, "OrgOut")
    for prop in (reading["error"], reading["mpe"], organisation["annual_revenue_wan"]):
        assert (prop["type"], prop["format"]) == ("string", "decimal")


def test_openapi_path_ids_are_32_bit(client):
    document = client.get(f"{API}/openapi.json").json
    assert document["components"]["parameters"]["instrument_id"]["schema"]["maximum"] == 2**31 - 1
