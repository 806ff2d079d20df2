"""API: comparisons (计量比对) and proficiency tests (能力验证) of an instrument."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.measurement.comparisons import operations, queries
from service.measurement.comparisons.schemas import ComparisonIn, ComparisonOut, comparison_out
from service.web.context import actor, base_url, db, today


@bp.post("/instruments/<int:instrument_id>/comparisons")
@doc(tags=["comparisons"], body=ComparisonIn, responses={201: ComparisonOut}, errors=(400, 403, 404))
def record_comparison(instrument_id: int):
    """Record a comparison (points with reference value and uncertainties) or a proficiency test.

    Proficiency-test points carry ``assigned_value`` and ``sd_pt`` instead of the reference fields.
    Each point answers its ``en`` or ``z`` rounded to 2 decimals and its ``verdict`` (decided on the
    unrounded value); an unsatisfactory point opens a nonconformity case (``case_id``) or joins the
    open one; a questionable z tells the metrology staff.
    """
    comparison = operations.record_comparison(
        db(), actor(), instrument_id, json_body(), today(), now_utc(), base_url()
    )
    return jsonify(comparison_out(comparison)), 201


@bp.get("/instruments/<int:instrument_id>/comparisons")
@doc(tags=["comparisons"], responses={200: items_of(ComparisonOut)}, errors=(404,))
def list_comparisons(instrument_id: int):
    """Return an instrument's comparison and proficiency-test results, newest first."""
    _instrument, rows = queries.results_of(db(), actor(), instrument_id)
    return jsonify({"items": [comparison_out(c) for c in rows]})


@bp.get("/comparisons/<int:comparison_id>")
@doc(tags=["comparisons"], responses={200: ComparisonOut}, errors=(404,))
def get_comparison(comparison_id: int):
    """Return one comparison or proficiency-test result with its points."""
    return jsonify(comparison_out(queries.get_comparison(db(), actor(), comparison_id)))
