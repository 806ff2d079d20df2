"""API: the review of a campaign's forwarded nominations: assignments, scores, the ranking.

The organiser (an institute administrator) assigns reviewers and reads the ranking; a reviewer
reads and scores only the nominations given to it.
"""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc
from service.api.helpers import json_body
from service.nominations import operations, queries
from service.nominations.schemas import (
    AssignedOut,
    AssignIn,
    AssignmentOut,
    NominationOut,
    RankingOut,
    ReviewIn,
    ReviewPage,
)
from service.web.access import open_to_experts
from service.web.context import actor, base_url, db, today


@bp.get("/campaigns/<int:campaign_id>/ranking")
@doc(tags=["reviews"], responses={200: RankingOut}, errors=(403, 404))
def get_ranking(campaign_id: int):
    """Return the forwarded nominations, the best mean score first, with spread and reviewer counts."""
    _campaign, standings = queries.ranking(db(), actor(), campaign_id)
    return jsonify(RankingOut().dump({"items": standings}))


@bp.post("/campaigns/<int:campaign_id>/assignments")
@doc(tags=["reviews"], body=AssignIn, responses={201: AssignedOut}, errors=(400, 403, 404, 409))
def assign_reviewers(campaign_id: int):
    """Give reviewers nominations to review (every forwarded one by default), never their own recommender's.

    409 when the campaign is not in review, or when every pair asked for is kept apart by that rule.
    """
    assigned = operations.assign_reviewers(db(), actor(), campaign_id, json_body(), today(), base_url())
    conflicts = [
        {
            "reviewer_id": reviewer.id,
            "nomination_id": nomination.id,
            "recommender": nomination.recommender.name,
        }
        for reviewer, nomination in assigned.conflicts
    ]
    return jsonify(AssignedOut().dump({"added": assigned.added, "conflicts": conflicts})), 201


@bp.delete("/campaigns/<int:campaign_id>/assignments/<int:assignment_id>")
@doc(tags=["reviews"], responses={204: "Taken back."}, errors=(403, 404, 409))
def unassign_reviewer(campaign_id: int, assignment_id: int):
    """Take a nomination back from a reviewer who has not submitted (409 once submitted)."""
    operations.unassign_reviewer(db(), actor(), campaign_id, assignment_id)
    return "", 204


@bp.get("/reviews")
@open_to_experts
@doc(tags=["reviews"], responses={200: ReviewPage}, errors=(404,))
def list_reviews():
    """List the nominations given to you to review, newest campaign first."""
    actor().require_institute()
    return jsonify(ReviewPage().dump({"items": queries.my_assignments(db(), actor())}))


@bp.get("/reviews/<int:assignment_id>")
@open_to_experts
@doc(tags=["reviews"], responses={200: AssignmentOut}, errors=(404,))
def get_review(assignment_id: int):
    """Return one of your reviews (the nomination itself: ``GET /reviews/{id}/nomination``)."""
    return jsonify(AssignmentOut().dump(queries.my_assignment(db(), actor(), assignment_id)))


@bp.get("/reviews/<int:assignment_id>/nomination")
@open_to_experts
@doc(tags=["reviews"], responses={200: NominationOut}, errors=(404,))
def get_reviewed_nomination(assignment_id: int):
    """Return the nomination under review as submitted: the frozen dossier, self-check and scans' hashes."""
    assignment = queries.my_assignment(db(), actor(), assignment_id)
    return jsonify(NominationOut().dump(queries.reviewed_nomination(db(), assignment)))


@bp.get("/reviews/<int:assignment_id>/peers")
@open_to_experts
@doc(tags=["reviews"], responses={200: ReviewPage}, errors=(404,))
def get_peer_reviews(assignment_id: int):
    """Return the other reviewers' submitted reviews of the same nomination (none until yours is in)."""
    assignment = queries.my_assignment(db(), actor(), assignment_id)
    return jsonify(ReviewPage().dump({"items": queries.peer_reviews(db(), assignment)}))


@bp.put("/reviews/<int:assignment_id>")
@open_to_experts
@doc(tags=["reviews"], body=ReviewIn, responses={200: AssignmentOut}, errors=(400, 404, 409))
def save_review(assignment_id: int):
    """Save your scores (one per category, 0–100), comments and opinion as a draft."""
    return jsonify(
        AssignmentOut().dump(operations.save_review(db(), actor(), assignment_id, json_body(), today()))
    )


@bp.post("/reviews/<int:assignment_id>/submit")
@open_to_experts
@doc(tags=["reviews"], responses={200: AssignmentOut}, errors=(400, 404, 409))
def submit_review(assignment_id: int):
    """Submit your review: every category scored. It is final; the other reviewers' become visible."""
    return jsonify(AssignmentOut().dump(operations.submit_review(db(), actor(), assignment_id, today())))
