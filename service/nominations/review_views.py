"""Review pages: reviewers (评审专家) score the nominations that went forward.

The organiser gives reviewers the forwarded nominations and reads the ranking; each reviewer scores
its nominations per category and submits once.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import login_required

from service.errors import DomainError
from service.nominations import operations, queries
from service.nominations.recommender_views import submitted_context
from service.nominations.views import bp
from service.web.access import open_to_experts
from service.web.context import actor, base_url, db, today
from service.web.downloads import frozen_form_download, send_frozen_file
from service.web.forms import flash_failure, save_then_submit

#: At most this many categories are read from a posted review (the schema allows 20).
MAX_CATEGORIES = 20


@bp.get("/institute/campaigns/<int:campaign_id>/reviews")
@login_required
def campaign_reviews(campaign_id: int):
    """The forwarded nominations with their reviewers and the ranking; reviewers assigned here."""
    who = actor()
    campaign, standings = queries.ranking(db(), who, campaign_id)
    members = queries.members_by_recommender(db(), who.org_id)
    return render_template(
        "nominations/campaign_reviews.html",
        campaign=campaign,
        standings=standings,
        reviewers=queries.possible_reviewers(db(), who),
        members=members,
    )


@bp.post("/institute/campaigns/<int:campaign_id>/reviews/assign")
@login_required
def assign_reviewers(campaign_id: int):
    """Give the reviewers ticked every forwarded nomination, or the one named, except their own."""
    payload = {"reviewer_ids": request.form.getlist("reviewer_ids")}
    if request.form.get("nomination_id"):
        payload["nomination_ids"] = [request.form["nomination_id"]]
    try:
        assigned = operations.assign_reviewers(db(), actor(), campaign_id, payload, today(), base_url())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(
            ngettext("%(num)s review assigned.", "%(num)s reviews assigned.", len(assigned.added)), "success"
        )
        if assigned.conflicts:
            flash(
                ngettext(
                    "%(num)s pair kept apart: no one reviews their own recommender's nominations.",
                    "%(num)s pairs kept apart: no one reviews their own recommender's nominations.",
                    len(assigned.conflicts),
                ),
                "info",
            )
    return redirect(url_for("nominations.campaign_reviews", campaign_id=campaign_id), code=303)


@bp.post("/institute/campaigns/<int:campaign_id>/reviews/<int:assignment_id>/remove")
@login_required
def unassign_reviewer(campaign_id: int, assignment_id: int):
    """Take a nomination from a reviewer who has not submitted yet."""
    try:
        operations.unassign_reviewer(db(), actor(), campaign_id, assignment_id)
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Review taken back."), "success")
    return redirect(url_for("nominations.campaign_reviews", campaign_id=campaign_id), code=303)


@bp.get("/reviews")
@open_to_experts
@login_required
def my_reviews():
    """The nominations given to the user to review, by campaign."""
    who = actor()
    who.require_institute()
    return render_template("nominations/reviews.html", assignments=queries.my_assignments(db(), who))


@bp.get("/reviews/<int:assignment_id>")
@open_to_experts
@login_required
def review(assignment_id: int):
    """One nomination as submitted, beside the reviewer's scores; the others' once one's own is in."""
    who = actor()
    assignment = queries.my_assignment(db(), who, assignment_id)
    nomination = queries.reviewed_nomination(db(), assignment)
    return render_template(
        "nominations/review.html",
        assignment=assignment,
        nomination=nomination,
        c=nomination.campaign,
        peers=queries.peer_reviews(db(), assignment),
        open_today=assignment.campaign.phase == "review"
        and assignment.campaign.review_opens_on <= today() <= assignment.campaign.review_closes_on,
        **submitted_context(
            nomination,
            url_for("nominations.review_form", assignment_id=assignment.id),
            lambda file_id: url_for("nominations.review_file", assignment_id=assignment.id, file_id=file_id),
        ),
    )


@bp.post("/reviews/<int:assignment_id>")
@open_to_experts
@login_required
def save_review(assignment_id: int):
    """Save the scores as a draft and, when asked, submit the review."""
    who = actor()
    return save_then_submit(
        lambda: operations.save_review(db(), who, assignment_id, posted_review(), today()),
        lambda: operations.submit_review(db(), who, assignment_id, today()),
        redirect(url_for("nominations.review", assignment_id=assignment_id), code=303),
        gettext("Review saved as a draft."),
        gettext("Review submitted."),
    )


@bp.get("/reviews/<int:assignment_id>/files/<int:file_id>")
@open_to_experts
@login_required
def review_file(assignment_id: int, file_id: int):
    """Download a scan of the nomination under review."""
    assignment = queries.my_assignment(db(), actor(), assignment_id)
    return send_frozen_file(queries.reviewed_nomination(db(), assignment), file_id)


@bp.get("/reviews/<int:assignment_id>/recommendation-form.docx")
@open_to_experts
@login_required
def review_form(assignment_id: int):
    """Download the recommendation form of the nomination under review (frozen at its submission)."""
    assignment = queries.my_assignment(db(), actor(), assignment_id)
    return frozen_form_download(queries.reviewed_nomination(db(), assignment))


def posted_review() -> dict:
    """Return the posted review as the operation takes it: a score and a comment per category."""
    form = request.form
    count = _small_number(form.get("category_count", ""))
    data: dict = {"opinion": form.get("opinion") or None}
    if count is not None:
        data["scores"] = [_score(form.get(f"score-{i}", "")) for i in range(count)]
        data["comments"] = [form.get(f"comment-{i}") or None for i in range(count)]
    return data


def _score(text: str):
    """Return a typed score as a number when it is one; anything else goes on to be refused."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text


def _small_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) <= MAX_CATEGORIES else None
