"""Small helpers for HTML forms: posted values and re-rendering with field errors."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import render_template, request, url_for

from service.web.i18n import translate_errors


def form_data(multi: tuple[str, ...] = ()) -> dict:
    """Return the posted fields without the CSRF token; ``multi`` fields as lists."""
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    for name in multi:
        data[name] = request.form.getlist(name)
    return data


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
