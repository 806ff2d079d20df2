"""API: comparison projects the institute organises as lead laboratory (provincial comparisons).

The institute creates the project, adds participants, enters results on their behalf, chooses the
values of the weighted mean and publishes. A participating client firm reads its projects, enters
its own results and, once the report is published, reads everyone's figures.
"""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.measurement.projects import operations, queries
from service.measurement.projects.schemas import (
    ParticipantIn,
    ProjectIn,
    ProjectOut,
    ReferenceIn,
    ResultsIn,
    project_out,
)
from service.web.context import actor, base_url, db, today

TAGS = ["comparison projects"]


def _view(project_id: int):
    return project_out(queries.project_view(db(), actor(), project_id))


@bp.get("/comparison-projects")
@doc(tags=TAGS, responses={200: items_of(ProjectOut)}, errors=(404,))
def list_comparison_projects():
    """Return the institute's projects, or those the firm takes part in, as each may see them."""
    who = actor()
    rows = queries.list_projects(db(), who)
    return jsonify({"items": [project_out(queries.project_view(db(), who, p.id)) for p, _row in rows]})


@bp.post("/comparison-projects")
@doc(tags=TAGS, body=ProjectIn, responses={201: ProjectOut}, errors=(400, 403, 404))
def create_comparison_project():
    """Create a project from its protocol (institute only)."""
    project = operations.create_project(db(), actor(), json_body())
    return jsonify(_view(project.id)), 201


@bp.get("/comparison-projects/<int:project_id>")
@doc(tags=TAGS, responses={200: ProjectOut}, errors=(404,))
def get_comparison_project(project_id: int):
    """Return a project: a participant sees only its own results and no reference until publication."""
    return jsonify(_view(project_id))


@bp.put("/comparison-projects/<int:project_id>")
@doc(tags=TAGS, body=ProjectIn, responses={200: ProjectOut}, errors=(400, 403, 404, 409))
def update_comparison_project(project_id: int):
    """Replace the protocol (institute only; points may not be added or removed once results are in)."""
    operations.update_project(db(), actor(), project_id, json_body())
    return jsonify(_view(project_id))


@bp.post("/comparison-projects/<int:project_id>/participants")
@doc(tags=TAGS, body=ParticipantIn, responses={201: ProjectOut}, errors=(400, 403, 404, 409))
def add_comparison_participant(project_id: int):
    """Add a participant: ``firm_id`` of a linked client, or an outside lab's ``lab_name`` and ``cnas_no``."""
    operations.add_participant(db(), actor(), project_id, json_body())
    return jsonify(_view(project_id)), 201


@bp.delete("/comparison-projects/<int:project_id>/participants/<int:participant_id>")
@doc(tags=TAGS, responses={200: ProjectOut}, errors=(403, 404, 409))
def remove_comparison_participant(project_id: int, participant_id: int):
    """Take a participant out of an open project, with its results (institute)."""
    operations.remove_participant(db(), actor(), project_id, participant_id)
    return jsonify(_view(project_id))


@bp.put("/comparison-projects/<int:project_id>/participants/<int:participant_id>/results")
@doc(tags=TAGS, body=ResultsIn, responses={200: ProjectOut}, errors=(400, 403, 404, 409))
def enter_comparison_results(project_id: int, participant_id: int):
    """Enter a participant's results on its behalf (institute): one value and U (k=2) per point."""
    operations.enter_results(db(), actor(), project_id, participant_id, json_body(), today(), now_utc())
    return jsonify(_view(project_id))


@bp.put("/comparison-projects/<int:project_id>/results")
@doc(tags=TAGS, body=ResultsIn, responses={200: ProjectOut}, errors=(400, 403, 404, 409))
def enter_own_comparison_results(project_id: int):
    """Enter the acting firm's own results; ``management_no`` names the instrument measured."""
    operations.enter_own_results(db(), actor(), project_id, json_body(), today(), now_utc())
    return jsonify(_view(project_id))


@bp.post("/comparison-projects/<int:project_id>/reference")
@doc(tags=TAGS, body=ReferenceIn, responses={200: ProjectOut}, errors=(400, 403, 404, 409))
def set_comparison_reference(project_id: int):
    """Leave the ``excluded`` results out of the weighted mean (institute); the others are in it."""
    operations.set_reference(db(), actor(), project_id, json_body())
    return jsonify(_view(project_id))


@bp.post("/comparison-projects/<int:project_id>/publish")
@doc(tags=TAGS, responses={200: ProjectOut}, errors=(400, 403, 404, 409))
def publish_comparison_project(project_id: int):
    """Publish the report and record each client participant's result on its instrument (institute).

    Refused (400) while a point has no usable reference: a missing lead value, fewer than two
    values in the mean, or a chi² above chi²_0.05(n-1).
    """
    operations.publish(db(), actor(), project_id, today(), now_utc(), base_url())
    return jsonify(_view(project_id))
