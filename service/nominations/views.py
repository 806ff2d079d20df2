"""The evidence page: the dossier as of a date, the pre-filled self-check, the instruments behind a figure."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from service.errors import DomainError
from service.nominations import queries
from service.nominations.schemas import BehindQuery, DossierQuery
from service.schemas import load_or_invalid
from service.web.context import actor, db, enter_client, today
from service.web.forms import flash_failure

bp = Blueprint("nominations", __name__)


def _as_of(schema) -> dict:
    """Return the page's query, or the defaults with the failure flashed when it is not valid."""
    try:
        return load_or_invalid(schema, request.args)
    except DomainError as exc:
        flash_failure(exc)
        return {}


@bp.get("/evidence")
@bp.get("/clients/<int:client_id>/evidence")
@login_required
def evidence(client_id: int | None = None):
    """The dossier as of a date, each figure with its parts and a link to the instruments behind it."""
    enter_client(client_id)
    wanted = _as_of(DossierQuery()).get("as_of") or today()
    try:
        found = queries.dossier(db(), actor(), wanted, today())
    except DomainError as exc:
        flash_failure(exc)
        found = queries.dossier(db(), actor(), today(), today())
    return render_template(
        "nominations/evidence.html",
        dossier=found,
        figures=found.as_dict(),
        self_check=queries.self_check_lines(found),
        client_id=client_id,
        is_today=found.as_of == today(),
    )


@bp.get("/evidence/instruments")
@bp.get("/clients/<int:client_id>/evidence/instruments")
@login_required
def behind(client_id: int | None = None):
    """The instruments a figure counts, those short of it first."""
    enter_client(client_id)
    query = load_or_invalid(BehindQuery(), request.args)
    found = queries.dossier(db(), actor(), query.get("as_of") or today(), today())
    return render_template(
        "nominations/behind.html",
        behind=queries.instruments_behind(db(), actor(), found, query["figure"], bool(query.get("short"))),
        dossier=found,
        short=bool(query.get("short")),
        client_id=client_id,
        page_size=queries.BEHIND_PAGE,
    )
