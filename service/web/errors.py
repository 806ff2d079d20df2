"""Mapping errors to responses in one place: HTML pages for the UI, JSON for the API."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from service.errors import DomainError
from service.web.forms import safe_next
from service.web.i18n import translate, translate_errors

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Whether the request is for the JSON API."""
    return request.blueprint == "api" or request.path.startswith("/api/")


def error_response(code: int, message: str, errors: dict | None = None):
    """Return an error as JSON (API) or as the error page (UI)."""
    if wants_json():
        body = {"message": message}
        if errors:
            body["errors"] = errors
        return jsonify(body), code
    return render_template("errors/error.html", code=code, message=message, errors=errors or {}), code


#: How long a client is told to wait when the database cannot be reached, in seconds.
OUTAGE_RETRY_AFTER = 30


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or the error an InternalServerError wraps) means the database is out of reach."""
    exc = getattr(exc, "original_exception", None) or exc
    return isinstance(exc, (OperationalError, SQLAlchemyTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def outage_page(session, cause: BaseException):
    """Log ``cause`` and answer 503 with the usual error page, which must not ask the database."""
    log.error("database unreachable on %s %s: %s", request.method, request.path, cause)
    if session is not None:
        try:
            session.rollback()
        except SQLAlchemyError:  # the connection is gone; there is nothing to undo
            log.debug("rollback after an outage failed", exc_info=True)
    # Flask-Login keeps the request's user in g._login_user; an anonymous one there stops the
    # templates and the after-request hooks from loading the signed-in user from the database. The
    # API's user was loaded by the failed session: reading its language would ask the database.
    g._login_user = current_app.login_manager.anonymous_user()
    g.pop("api_user", None)
    message = gettext("The service is temporarily unavailable; please try again in a minute.")
    try:
        response = make_response(*error_response(503, message))
    except Exception:  # the page itself needed the database after all: plain text, never a bare 500
        log.exception("the outage page failed")
        response = make_response(message, 503, {"Content-Type": "text/plain; charset=utf-8"})
    response.headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    return response


def _same_site_referrer() -> str:
    """Return the path of the Referer when it is a page of this site, else the home page.

    The Referer is whatever the client sends; redirecting to it as is would be an open redirect.
    """
    parts = urlsplit(request.referrer or "")
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return "/"
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def init_error_handlers(app: Flask) -> None:
    """Register the handlers for domain errors, HTTP errors, CSRF failures and crashes."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        return error_response(
            exc.status, translate(exc.message or "Error"), translate_errors(exc.field_errors)
        )

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc):
        if wants_json():
            return error_response(400, gettext("The form has expired; please try again."))
        flash(gettext("The form has expired; please try again."), "warning")
        return (
            redirect(_same_site_referrer(), code=303)
            if request.method == "POST"
            else error_response(400, gettext("The form has expired; please try again."))
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if isinstance(exc, InternalServerError) and database_unreachable(exc):
            # Flask wraps what an after-request hook raised (the request's commit) in a 500.
            return outage_page(g.get("db_session"), exc.original_exception)
        messages = {
            400: gettext("The request could not be understood."),
            401: gettext("Please sign in."),
            403: gettext("Your role does not allow this."),
            404: gettext("Not found."),
            405: gettext("This method is not allowed here."),
            413: gettext("The upload is too large."),
        }
        response = error_response(exc.code or 500, messages.get(exc.code, exc.name))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            # RFC 9110: a 405 says which methods the resource does allow.
            response = make_response(response)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        session = g.get("db_session")
        if database_unreachable(exc):
            return outage_page(session, exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if session is not None:
            session.rollback()  # the error page must not touch a failed transaction
        try:
            return error_response(500, gettext("Something went wrong on our side; it has been logged."))
        except Exception:  # the error page itself failed: answer in plain text rather than not at all
            log.exception("error page failed")
            return "Internal error", 500, {"Content-Type": "text/plain; charset=utf-8"}
