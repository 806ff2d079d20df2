"""API: repeatability tests and stability assessments of an instrument (JJF 1033)."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.measurement.stability import operations, queries
from service.measurement.stability.schemas import (
    RepeatabilityIn,
    RepeatabilityTestOut,
    StabilityAssessmentIn,
    StabilityAssessmentOut,
    StabilityCloseIn,
    StabilityGroupIn,
)
from service.web.context import actor, base_url, db, today


@bp.get("/instruments/<int:instrument_id>/repeatability-tests")
@doc(tags=["stability"], responses={200: items_of(RepeatabilityTestOut)}, errors=(404,))
def list_repeatability_tests(instrument_id: int):
    """Return an instrument's repeatability tests, newest first."""
    tests = queries.tests_of(db(), actor(), instrument_id)
    return jsonify({"items": RepeatabilityTestOut(many=True).dump(tests)})


@bp.post("/instruments/<int:instrument_id>/repeatability-tests")
@doc(tags=["stability"], body=RepeatabilityIn, responses={201: RepeatabilityTestOut}, errors=(400, 403, 404))
def record_repeatability_test(instrument_id: int):
    """Record a repeatability test: ≥ 10 ``readings`` (a list, or a text), the ``claimed`` repeatability.

    The mean and s = √(Σ(xᵢ−x̄)²/(n−1)) are computed exactly; the test passes when s ≤ claimed.
    A failing test warns the organisation's ledger keepers.
    """
    test = operations.record_repeatability(db(), actor(), instrument_id, json_body(), today(), base_url())
    return jsonify(RepeatabilityTestOut().dump(test)), 201


@bp.get("/repeatability-tests/<int:test_id>")
@doc(tags=["stability"], responses={200: RepeatabilityTestOut}, errors=(404,))
def get_repeatability_test(test_id: int):
    """Return one repeatability test."""
    return jsonify(RepeatabilityTestOut().dump(queries.get_test(db(), actor(), test_id)))


@bp.get("/instruments/<int:instrument_id>/stability-assessments")
@doc(tags=["stability"], responses={200: items_of(StabilityAssessmentOut)}, errors=(404,))
def list_stability_assessments(instrument_id: int):
    """Return an instrument's stability assessments, newest first, with their groups."""
    assessments = queries.assessments_of(db(), actor(), instrument_id)
    return jsonify({"items": StabilityAssessmentOut(many=True).dump(assessments)})


@bp.post("/instruments/<int:instrument_id>/stability-assessments")
@doc(
    tags=["stability"],
    body=StabilityAssessmentIn,
    responses={201: StabilityAssessmentOut},
    errors=(400, 403, 404),
)
def open_stability_assessment(instrument_id: int):
    """Open a stability assessment on a check object, with its ``allowed`` value and its basis."""
    assessment = operations.open_assessment(db(), actor(), instrument_id, json_body(), today())
    return jsonify(StabilityAssessmentOut().dump(assessment)), 201


@bp.get("/stability-assessments/<int:assessment_id>")
@doc(tags=["stability"], responses={200: StabilityAssessmentOut}, errors=(404,))
def get_stability_assessment(assessment_id: int):
    """Return one stability assessment with its groups, figures and warnings."""
    return jsonify(StabilityAssessmentOut().dump(queries.get_assessment(db(), actor(), assessment_id)))


@bp.post("/stability-assessments/<int:assessment_id>/groups")
@doc(
    tags=["stability"],
    body=StabilityGroupIn,
    responses={201: StabilityAssessmentOut},
    errors=(400, 403, 404, 409),
)
def add_stability_group(assessment_id: int):
    """Add a group (``measured_on``, ``readings``) to an open assessment; its figures are recomputed."""
    group = operations.add_group(db(), actor(), assessment_id, json_body(), today())
    return jsonify(
        StabilityAssessmentOut().dump(queries.get_assessment(db(), actor(), group.assessment_id))
    ), 201


@bp.post("/stability-assessments/<int:assessment_id>/close")
@doc(
    tags=["stability"],
    body=StabilityCloseIn,
    responses={200: StabilityAssessmentOut},
    errors=(400, 403, 404, 409),
)
def close_stability_assessment(assessment_id: int):
    """Close an assessment with its verdict (``closed_on``); provisional with fewer than 4 groups."""
    assessment = operations.close_assessment(db(), actor(), assessment_id, json_body(), today(), base_url())
    return jsonify(StabilityAssessmentOut().dump(assessment))
