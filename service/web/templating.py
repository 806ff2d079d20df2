"""Names of codes in the user's language, and helpers every template may use."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l

from service import names
from service.figures import percent
from service.i18n import set_code_namer
from service.ledger.status import DIRECT_TRANSITIONS
from service.names import CODED_FIELDS, in_field_order
from service.validation import henan_regions, region_name
from service.web.i18n import current_language


def _lazy(table: Mapping) -> dict:
    """The table with each name translated when shown, in the language of the request."""
    return {code: _l(str(name)) for code, name in table.items()}


#: Every code list's names, translated lazily for pages: ``NAMES[kind][code]``.
NAMES = {kind: _lazy(table) for kind, table in names.NAMES.items()}
FIELD_NAMES = NAMES["field"]
DISCIPLINE_DISPLAY = NAMES["discipline"]


#: Code lists whose names say what a code of a choice means (not the field labels or events).
_CHOICE_KINDS = tuple(k for k in NAMES if k not in ("field", "event"))


def name_of_code(code: str) -> str:
    """Return the display name of a code of any code list (the code itself if none names it).

    Outside a request (the command line, which takes codes as input) the code is what helps.
    """
    if not has_request_context():
        return code
    for kind in _CHOICE_KINDS:
        if code in NAMES[kind]:
            return str(NAMES[kind][code])
    return code


def number(value) -> str:
    """Return a reading as typed: 50 and 1.004, not 50.000000 and 1.004000 (the column's scale)."""
    if value is None or value == "":
        return ""
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return "0" if text in ("-0", "0") else text


def name_of(kind: str, code) -> str:
    """Return the display name of ``code`` in the code list ``kind`` (the code itself if unknown)."""
    if code is None or code == "":
        return ""
    if not has_request_context():
        return str(NAMES[kind].get(code, code))
    return _translated(kind).get(code, code)


def _translated(kind: str) -> dict:
    """The code list ``kind`` in the current language, translated once per request and language.

    A ledger page names a status, a label and more on each of its 50 rows; each lazy name looked up
    the request's translations again (a third of the page's rendering). Kept with the language, since
    a request may render a message in its recipient's (``force_locale``).
    """
    tables = current_language().tables
    table = tables.get(kind)
    if table is None:
        table = tables[kind] = {code: str(name) for code, name in NAMES[kind].items()}
    return table


def value_of(field: str, value) -> str:
    """Return a history value of ``field`` as a reader sees it: code names, yes/no, — for nothing."""
    if value is None or value == "":
        return "—"
    if field in CODED_FIELDS:
        return name_of(field, value)
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    return str(value)


def options_for(kind: str, allowed=None) -> list[tuple[str, str]]:
    """Return ``(code, display name)`` pairs of a code list, optionally only the ``allowed`` codes."""
    return [(code, str(name)) for code, name in NAMES[kind].items() if allowed is None or code in allowed]


def url_with(**changes) -> str:
    """Return the current URL with some query parameters changed (``None`` removes one)."""
    view_args = request.view_args or {}
    # Query keys that url_for would read as its own options or as path parameters are dropped.
    args = {
        k: v
        for k, v in request.args.items()
        if not k.startswith("_") and k not in view_args and k != "endpoint"
    }
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **view_args, **args)


def init_templating(app: Flask) -> None:
    """Expose the helpers to every template."""
    set_code_namer(name_of_code)
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.globals.update(
        name_of=name_of,
        value_of=value_of,
        in_field_order=in_field_order,
        options_for=options_for,
        url_with=url_with,
        region_name=region_name,
        NAMES=NAMES,
        direct_targets=lambda status: sorted(DIRECT_TRANSITIONS.get(status, ())),
        region_options=[(r.code, r.name) for r in henan_regions()],
    )
