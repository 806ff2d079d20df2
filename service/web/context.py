"""Per-request state: the database session (one commit per request), the actor, today's date."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask, abort, current_app, g, has_request_context, render_template, request
from flask_login import current_user
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError
from sqlalchemy.orm import Session

from models import Organization
from service.actors import Actor
from service.clock import today_in
from service.db import begin_writes_immediately, scope_to_org
from service.tenancy import queries as tenancy_queries
from service.web.access import closed_to

log = logging.getLogger(__name__)


#: Methods that do not change data; API requests may write even then (a token's last use).
_READ_METHODS = ("GET", "HEAD", "OPTIONS")


def db() -> Session:
    """Return the request's session, opening it on first use."""
    if "db_session" not in g:
        session = current_app.extensions["calrecall.sessions"]()
        if request.method not in _READ_METHODS or request.blueprint == "api":
            begin_writes_immediately(session)
        g.db_session = session
    return g.db_session


def actor() -> Actor:
    """Return the signed-in user acting on their own organisation (or a client, see ``bind_actor``)."""
    return g.actor


def bind_actor(new_actor: Actor) -> Actor:
    """Make ``new_actor`` the request's actor and confine the session to its organisation."""
    scope_to_org(db(), new_actor.org_id)
    g.actor = new_actor
    return new_actor


def signed_in_user():
    """Return the user of this request: the API token's holder, or the signed-in session's user."""
    if "api_user" in g:
        return g.api_user
    return current_user if current_user and current_user.is_authenticated else None


def after_commit(callback: Callable[[], None]) -> None:
    """Call ``callback()`` once the request's changes have committed; never if they roll back."""
    g.setdefault("after_commit", []).append(callback)


def enter_client(client_id: int | None) -> None:
    """Act on a client firm when the URL names one (``/clients/<id>/…``); 404 without an active link."""
    if client_id is not None:
        bind_actor(tenancy_queries.client_actor(db(), actor(), client_id))


def base_url() -> str:
    """Return the site's public address, for links in pages, messages and QR codes.

    BASE_URL when configured (production requires it); otherwise, in development, the address the
    request came to, so links work whatever host and port the app runs on.
    """
    config = current_app.config["CALRECALL"]
    if config.base_url:
        return config.base_url
    if has_request_context():
        return request.host_url.rstrip("/")
    return config.fixed_base_url


def attachments_dir() -> Path:
    """Return the directory that keeps record attachments."""
    return Path(current_app.config["CALRECALL"].attachments_dir)


def today() -> date:
    """Return today's date in the time zone of the organisation being worked on.

    That is the client firm's when institute staff look at a client's ledger: due dates and
    labels are the firm's own.
    """
    who, user = g.get("actor"), signed_in_user()
    if who is not None and user is not None and who.org_id != user.org_id:
        return today_in(db().get(Organization, who.org_id).timezone)
    return today_in(user.org.timezone if user else current_app.config["CALRECALL"].default_timezone)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _request_strings():
    """Yield every string of the request's query, form and JSON body."""
    yield from request.args.values()
    yield from request.args.keys()
    yield from request.form.values()
    yield from request.form.keys()
    stack = [request.get_json(silent=True)] if request.is_json else []
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


#: Everything from this site only. Pages hold no inline ``<script>`` or ``<style>`` and no ``style``
#: or ``on…`` attributes (a test scans the templates): their code and styles are files under
#: ``service/static/``, so the policy needs neither nonces nor ``'unsafe-inline'``. Images may be
#: ``data:`` URIs, which Bootstrap's stylesheet uses for its form and menu icons.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


#: Blueprints whose requests load no signed-in user: files, the API (tokens) and the health checks.
_NO_SIGN_IN = ("bootstrap", "api", "vendor", "observability")
#: Of those, the ones whose responses never concern a user (the API's do: its token's).
_LOADS_NO_USER = ("bootstrap", "vendor", "observability")


def init_request_lifecycle(app: Flask) -> None:
    """Scope each request's session to the signed-in user's organisation; commit once at the end."""

    @app.before_request
    def _refuse_unstorable_text():
        # PostgreSQL cannot store U+0000, and lone surrogates are not valid UTF-8 at all.
        if any("\x00" in value or not _encodable(value) for value in _request_strings()):
            abort(400)

    @app.before_request
    def _bind_user():
        if request.endpoint == "static" or request.blueprint in _NO_SIGN_IN:
            return
        if current_user.is_authenticated:
            who = Actor.of(current_user)
            if closed_to(who):
                abort(404)
            bind_actor(who)

    @app.after_request
    def _commit(response):
        session = g.get("db_session")
        if session is None:
            return response
        if response.status_code >= 400:
            try:
                session.rollback()
            except DBAPIError:  # the connection died; PostgreSQL dropped the transaction with it
                log.warning("rollback of %s %s failed", request.method, request.path, exc_info=True)
            return response
        try:
            session.commit()
        except IntegrityError:
            # Two requests raced for the same unique value; nothing of this one is kept.
            session.rollback()
            log.warning("integrity error at commit of %s", request.path, exc_info=True)
            if request.blueprint == "api":
                return app.json.response({"message": "Conflicting change; reload and try again."}), 409
            return render_template("errors/error.html", code=409, message=None), 409
        except (DBAPIError, PendingRollbackError) as exc:
            from service.web.errors import database_unreachable, outage_page  # errors imports this module

            # PendingRollbackError: a statement of this request failed and whoever ran it went on
            # (a navigation helper does, to draw the page); the database went away mid-request.
            if isinstance(exc, DBAPIError) and not database_unreachable(exc):
                raise
            return outage_page(session, exc)
        for callback in g.pop("after_commit", []):
            callback()
        return response

    production = app.config["CALRECALL"].is_production

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("Referrer-Policy", "same-origin")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Files and the health checks load no user (the checks answer while the database cannot).
        loads_no_user = request.endpoint == "static" or request.blueprint in _LOADS_NO_USER
        if request.blueprint == "api" or (not loads_no_user and signed_in_user() is not None):
            # Ledgers, tokens and personal data stay out of shared caches and the back-forward cache;
            # stylesheets and scripts are the same for everyone and keep their own revalidation.
            headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_appcontext
    def _close(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
