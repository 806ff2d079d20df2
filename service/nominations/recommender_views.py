"""Recommending pages (推荐): a recommender's members decide on the nominations addressed to it.

The institute's administrators organise the campaign and see every recommender's page from the
campaign's. Registered on the nominations blueprint (``views.bp``).
"""

from __future__ import annotations

import logging

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy.exc import SQLAlchemyError

from service.clock import now_utc
from service.errors import DomainError, invalid_field
from service.i18n import N_
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.nominations import documents, operations, queries, summary
from service.nominations.views import bp
from service.scoping import parse_id
from service.web.access import open_to_experts
from service.web.context import actor, base_url, db, today
from service.web.downloads import (
    frozen_form_download,
    send_download,
    send_frozen_file,
    spooled,
)
from service.web.forms import flash_failure, form_data

log = logging.getLogger(__name__)


@bp.app_context_processor
def _campaign_work_nav():
    """Let the navigation ask, only when it shows, whether the user recommends or reviews."""

    def acts_for_a_recommender() -> bool:
        who = g.get("actor")
        if who is None:
            return False
        try:
            return bool(queries.my_recommenders(db(), who))
        except SQLAlchemyError:
            # The error page of a database outage still shows its navigation.
            log.warning("could not read recommender memberships for the navigation", exc_info=True)
            return False

    def reviews_given() -> bool:
        who = g.get("actor")
        if who is None:
            return False
        try:
            return queries.has_reviews(db(), who)
        except SQLAlchemyError:
            log.warning("could not read review assignments for the navigation", exc_info=True)
            return False

    return {"acts_for_a_recommender": acts_for_a_recommender, "reviews_given": reviews_given}


def submitted_context(nomination, form_url: str, file_url) -> dict:
    """Return what the read-only page of a submitted nomination shows beside it (templates' _submitted)."""
    figures = nomination.frozen_dossier
    return {
        "frozen_lines": queries.frozen_self_check(nomination),
        "evidence_rows": documents.evidence_rows(figures) if figures else [],
        "form_url": form_url,
        "file_url": file_url,
    }


@bp.get("/recommending")
@open_to_experts
@login_required
def recommending():
    """The recommenders the user acts for, each with the campaigns it works in and its list's state."""
    who = actor()
    who.require_institute()
    mine = queries.my_recommenders(db(), who)
    campaigns = queries.recommending_campaigns(db(), who)
    lists = {
        campaign.id: {state.recommender.id: state for state in queries.list_states_of(db(), campaign)}
        for campaign in campaigns
    }
    return render_template(
        "nominations/recommending.html", recommenders=mine, campaigns=campaigns, lists=lists
    )


#: The address of one nomination addressed to a recommender.
_NOMINATION = (
    "/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>"
    "/nominations/<int:nomination_id>"
)


def _list_url(campaign_id: int, recommender_id: int) -> str:
    return url_for("nominations.recommender_list", campaign_id=campaign_id, recommender_id=recommender_id)


@bp.get("/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>")
@open_to_experts
@login_required
def recommender_list(campaign_id: int, recommender_id: int):
    """The nominations addressed to a recommender: decide, rank, count against the quotas, submit."""
    found = queries.addressed(db(), actor(), campaign_id, recommender_id)
    return render_template(
        "nominations/recommending_list.html",
        found=found,
        refusal=operations.quota_refusal(found.counts),
        may_organise=actor().can("org.manage"),
    )


@bp.get(
    "/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/nominations/<int:nomination_id>"
)
@open_to_experts
@login_required
def recommended_nomination(campaign_id: int, recommender_id: int, nomination_id: int):
    """A nomination as submitted, read-only, with Accept and Return."""
    who = actor()
    nomination = queries.addressed_nomination(db(), who, campaign_id, recommender_id, nomination_id)
    found = queries.addressed(db(), who, campaign_id, recommender_id)
    ids = {"campaign_id": campaign_id, "recommender_id": recommender_id, "nomination_id": nomination_id}
    return render_template(
        "nominations/recommending_nomination.html",
        nomination=nomination,
        found=found,
        **submitted_context(
            nomination,
            url_for("nominations.recommended_form", **ids),
            lambda file_id: url_for("nominations.recommended_file", **ids, file_id=file_id),
        ),
    )


@bp.get(f"{_NOMINATION}/files/<int:file_id>")
@open_to_experts
@login_required
def recommended_file(campaign_id: int, recommender_id: int, nomination_id: int, file_id: int):
    """Download a scan of a nomination addressed to a recommender the user acts for."""
    nomination = queries.addressed_nomination(db(), actor(), campaign_id, recommender_id, nomination_id)
    return send_frozen_file(nomination, file_id)


@bp.get(f"{_NOMINATION}/recommendation-form.docx")
@open_to_experts
@login_required
def recommended_form(campaign_id: int, recommender_id: int, nomination_id: int):
    """Download the recommendation form of a nomination addressed to a recommender the user acts for."""
    nomination = queries.addressed_nomination(db(), actor(), campaign_id, recommender_id, nomination_id)
    return frozen_form_download(nomination)


@bp.post(
    "/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/nominations/<int:nomination_id>/accept"
)
@open_to_experts
@login_required
def accept_nomination(campaign_id: int, recommender_id: int, nomination_id: int):
    """Accept a submitted nomination onto the recommender's list."""
    try:
        operations.accept_nomination(
            db(), actor(), campaign_id, recommender_id, nomination_id, today(), base_url(), now_utc()
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Nomination accepted: it is last on the list."), "success")
    return redirect(_list_url(campaign_id, recommender_id), code=303)


@bp.post(
    "/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/nominations/<int:nomination_id>/return"
)
@open_to_experts
@login_required
def return_nomination(campaign_id: int, recommender_id: int, nomination_id: int):
    """Send a submitted nomination back to the firm with the reason given."""
    try:
        operations.return_nomination(
            db(),
            actor(),
            campaign_id,
            recommender_id,
            nomination_id,
            form_data(),
            today(),
            base_url(),
            now_utc(),
        )
    except DomainError as exc:
        flash_failure(exc)
        return redirect(
            url_for(
                "nominations.recommended_nomination",
                campaign_id=campaign_id,
                recommender_id=recommender_id,
                nomination_id=nomination_id,
            ),
            code=303,
        )
    flash(gettext("Nomination returned to the firm with your reason."), "success")
    return redirect(_list_url(campaign_id, recommender_id), code=303)


@bp.post("/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/rank")
@open_to_experts
@login_required
def rank_nominations(campaign_id: int, recommender_id: int):
    """Reorder the accepted nominations: one up or down, or all by the numbers typed."""
    who = actor()
    try:
        found = queries.addressed(db(), who, campaign_id, recommender_id)
        ids = ranked_ids([n.id for n in found.accepted], request.form)
        operations.rank_nominations(db(), who, campaign_id, recommender_id, {"ids": ids})
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Order saved."), "success")
    return redirect(_list_url(campaign_id, recommender_id), code=303)


def ranked_ids(current: list[int], form) -> list[int]:
    """Return the order the form asks for: ``up``/``down`` moves one id, else ``rank-<id>`` numbers sort all.

    Equal numbers keep their current order; a number missing or not a whole number is refused.
    """
    for direction, step in (("up", -1), ("down", 1)):
        moved = parse_id(form.get(direction, ""))
        if moved is not None:
            if moved not in current:
                raise invalid_field("ids", N_("This nomination is not on the list."))
            ids = list(current)
            index = ids.index(moved)
            other = min(max(index + step, 0), len(ids) - 1)
            ids[index], ids[other] = ids[other], ids[index]
            return ids
    places = {}
    for position, nomination_id in enumerate(current):
        place = parse_id(form.get(f"rank-{nomination_id}", "").strip())
        if place is None:
            raise invalid_field("ids", N_("Give each accepted nomination its place: 1, 2, 3…"))
        places[nomination_id] = (place, position)
    return sorted(current, key=places.__getitem__)


@bp.post("/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/submit")
@open_to_experts
@login_required
def submit_list(campaign_id: int, recommender_id: int):
    """Submit the recommender's list: nothing of it changes afterwards."""
    try:
        operations.submit_list(db(), actor(), campaign_id, recommender_id, today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("List submitted: it goes forward to the review."), "success")
    return redirect(_list_url(campaign_id, recommender_id), code=303)


def _send(table: summary.Summary, fmt: str, fallback: str):
    if fmt == "docx":
        spool = spooled(lambda out: summary.write_docx(table, out))
        return send_download(
            spool, f"{summary.file_stem(table)}.docx", f"{fallback}.docx", summary.DOCX_MIMETYPE
        )
    spool = spooled(lambda out: summary.write_xlsx(table, out))
    return send_download(spool, f"{summary.file_stem(table)}.xlsx", f"{fallback}.xlsx", XLSX_MIMETYPE)


def _recommender_summary(campaign_id: int, recommender_id: int, fmt: str):
    table = summary.recommender_summary(db(), actor(), campaign_id, recommender_id)
    return _send(table, fmt, f"summary-{campaign_id}-{recommender_id}")


@bp.get("/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/summary.xlsx")
@open_to_experts
@login_required
def recommender_summary_xlsx(campaign_id: int, recommender_id: int):
    """The recommender's summary table (推荐汇总表) as xlsx."""
    return _recommender_summary(campaign_id, recommender_id, "xlsx")


@bp.get("/recommending/campaigns/<int:campaign_id>/recommenders/<int:recommender_id>/summary.docx")
@open_to_experts
@login_required
def recommender_summary_docx(campaign_id: int, recommender_id: int):
    """The recommender's summary table (推荐汇总表) as a Word document."""
    return _recommender_summary(campaign_id, recommender_id, "docx")


@bp.get("/institute/campaigns/<int:campaign_id>/summary.xlsx")
@login_required
def campaign_summary_xlsx(campaign_id: int):
    """The whole campaign's summary table, recommender by recommender, as xlsx (administrators)."""
    return _send(summary.campaign_summary(db(), actor(), campaign_id), "xlsx", f"summary-{campaign_id}")


@bp.get("/institute/campaigns/<int:campaign_id>/summary.docx")
@login_required
def campaign_summary_docx(campaign_id: int):
    """The whole campaign's summary table as a Word document (administrators)."""
    return _send(summary.campaign_summary(db(), actor(), campaign_id), "docx", f"summary-{campaign_id}")
