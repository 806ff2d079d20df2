"""What each API view takes and returns, declared in code; ``openapi.py`` builds the document from it.

A view says ``@doc(tags=[...], query=SomeQuery, body=SomeIn, responses={200: SomeOut},
errors=(400, 404))``. The schemas named there are the marshmallow schemas the API loads and dumps
with, so the document cannot drift from what the API does. The declared query and body schemas
also hold the API to strict booleans: ``true``/``false`` in JSON, ``"true"``/``"false"`` in a query
string or a multipart form (the web pages share some of these schemas and keep their checkbox
values).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import current_app, request
from marshmallow import Schema, fields

from service.errors import Invalid
from service.i18n import N_

#: The error responses a view may declare, by status code; all have the body of ``ErrorOut``.
ERRORS = {
    400: ("Invalid", "Invalid input: `errors` maps each field to its messages."),
    401: ("Unauthorized", "Missing, unknown or revoked Bearer token."),
    403: ("Forbidden", "Your role does not allow this."),
    404: ("NotFound", "No such object in your organisation."),
    409: ("Conflict", "The change clashes with the current state (already decided, still in use, …)."),
}


@dataclass(frozen=True)
class File:
    """A response that is a file to download, of one media type."""

    media_type: str
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One API operation as the OpenAPI document shows it."""

    tags: tuple[str, ...]
    summary: str | None = None
    description: str | None = None
    #: The schema of the query string (each field a parameter).
    query: Schema | type[Schema] | None = None
    #: The schema of the JSON body.
    body: Schema | type[Schema] | None = None
    #: The schema of a ``multipart/form-data`` body.
    form: Schema | type[Schema] | None = None
    body_required: bool = True
    #: Success responses by status code: a schema (JSON), a :class:`File`, a description (no body),
    #: or a ``(schema, description)`` pair.
    responses: dict = field(default_factory=dict)
    #: Error status codes, each one of :data:`ERRORS`.
    errors: tuple[int, ...] = ()


def doc(**declaration):
    """Declare what an API view takes and returns (see :class:`Operation`); check its booleans strictly."""
    operation = Operation(**declaration | {"tags": tuple(declaration["tags"])})
    for code in operation.errors:
        assert code in ERRORS, code

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if operation.query is not None:
                _strict_query_booleans(_instance(operation.query), request.args)
            if operation.form is not None:
                _strict_query_booleans(_instance(operation.form), request.form)
            return view(*args, **kwargs)

        checked.api_doc = operation
        return checked

    return decorate


def _instance(schema: Schema | type[Schema]) -> Schema:
    return schema() if isinstance(schema, type) else schema


def _booleans(schema: Schema) -> dict[str, fields.Field]:
    """Return the schema's boolean fields by the name they have in the input."""
    return {
        f.data_key or name: f
        for name, f in schema.fields.items()
        if isinstance(f, fields.Boolean) and not f.dump_only
    }


def _strict_query_booleans(schema: Schema, args) -> None:
    wrong = {
        key: [N_("Not a valid boolean.")]
        for key, f in _booleans(schema).items()
        if key in args and args[key].strip() and args[key] not in ("true", "false")
    }
    if wrong:
        raise Invalid(N_("Please correct the marked fields."), wrong)


def check_body(data: dict) -> None:
    """Refuse a JSON body whose booleans (by the view's declared body schema) are not true or false.

    Called when the view reads its body, so that another organisation's id is a 404 first.
    """
    operation = getattr(current_app.view_functions.get(request.endpoint), "api_doc", None)
    if operation is not None and operation.body is not None:
        _strict_json_booleans(_instance(operation.body), data)


def _strict_json_booleans(schema: Schema, data: dict) -> None:
    wrong = {
        key: [N_("Not a valid boolean.")]
        for key, f in _booleans(schema).items()
        if key in data and not isinstance(data[key], bool) and not (data[key] is None and f.allow_none)
    }
    if wrong:
        raise Invalid(N_("Please correct the marked fields."), wrong)


def items_of(schema: type[Schema], cursor: bool = False) -> type[Schema]:
    """Return the schema of ``{"items": [...]}`` (and ``next_cursor`` when the list is keyset-paged)."""
    key = (schema, cursor)
    if key not in _LISTS:
        attrs = {
            "__doc__": f"A list of {schema.__name__}" + (", one page at a time." if cursor else "."),
            "items": fields.List(fields.Nested(schema), required=True),
        }
        if cursor:
            attrs["next_cursor"] = fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
            )
        name = schema.__name__.removesuffix("Out") + ("Page" if cursor else "List")
        _LISTS[key] = type(name, (Schema,), attrs)
    return _LISTS[key]


_LISTS: dict = {}
