"""Small helpers for HTML forms: posted values and re-rendering with field errors."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import flash, render_template, request, url_for

from service.errors import DomainError
from service.schemas import load_or_invalid
from service.web.context import db
from service.web.i18n import translate, translate_errors


def form_data(multi: tuple[str, ...] = ()) -> dict:
    """Return the posted fields without the CSRF token; ``multi`` fields as lists."""
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    for name in multi:
        data[name] = request.form.getlist(name)
    return data


#: Fields of a result entered on a worksheet (a visit's, a service order's).
RESULT_FIELDS = ("kind", "conclusion", "confirmation", "valid_until", "notes")


def result_form() -> tuple[dict, list]:
    """Return a posted worksheet result as a record payload (one point, as found) and its uploads."""
    values = {k: v.strip() for k, v in request.form.items() if k in RESULT_FIELDS and v.strip()}
    reading = {
        k: request.form.get(f"reading-{k}", "").strip() for k in ("point", "nominal", "reading", "mpe")
    }
    if any(reading.values()):
        values["readings"] = [{"phase": "as_found", **{k: v for k, v in reading.items() if v}}]
    uploads = [(f.stream, f.filename) for f in request.files.getlist("file") if f.filename]
    return values, uploads


def form_error_page(template: str, field_errors: dict, status: int = 422, **context):
    """Re-render a form with translated messages per field; 422 so that nothing is committed."""
    context.pop("errors", None)
    return render_template(template, errors=translate_errors(field_errors), **context), status


def safe_next(target: str | None, default_endpoint: str = "main.dashboard", **default_args) -> str:
    """Return ``target`` if it is a path on this site, else the default page (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for(default_endpoint, **default_args)


def flash_failure(exc: DomainError) -> None:
    """Undo the request's work and flash the error for a view that redirects after its POST.

    The field messages are shown when there are any, else the error's message. NotFound is raised
    again: another tenant's id must answer 404, not a redirect.
    """
    if exc.status == 404:
        raise exc
    db().rollback()
    flash_error(exc)


def flash_error(exc: DomainError) -> None:
    """Flash the error's field messages (else its message), keeping the request's work."""
    # Each message once: two fields missing for one reason say it once.
    messages = dict.fromkeys(m for ms in translate_errors(exc.field_errors).values() for m in ms)
    flash(" ".join(messages) or translate(exc.message), "danger")


def save_then_submit(
    save: Callable[[], object], submit: Callable[[], object], back, saved: str, submitted: str
):
    """Run ``save``; when the form asked to submit too, ``submit`` in a savepoint; redirect to ``back``.

    A refused save undoes the request's work; a refused submission keeps what was saved and flashes
    what submitting still lacks.
    """
    try:
        save()
    except DomainError as exc:
        flash_failure(exc)
        return back
    if not request.form.get("submit"):
        flash(saved, "success")
        return back
    try:
        with db().begin_nested():
            submit()
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(submitted, "success")
    return back


def query_or_defaults(schema) -> dict:
    """Return the page's query string loaded by ``schema``, or {} (the defaults) with the failure flashed."""
    try:
        return load_or_invalid(schema, request.args)
    except DomainError as exc:
        flash_failure(exc)
        return {}
