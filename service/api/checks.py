"""API: intermediate checks (期间核查) — plans per instrument, checks recorded, control charts."""

from __future__ import annotations

from flask import jsonify

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.measurement.checks import operations, queries
from service.measurement.checks.schemas import (
    CheckChartOut,
    CheckPlanIn,
    CheckPlanOut,
    CheckPlanPatch,
    CheckRecordIn,
    CheckRecordOut,
)
from service.web.context import actor, base_url, db, today


@bp.get("/instruments/<int:instrument_id>/check-plans")
@doc(tags=["checks"], responses={200: items_of(CheckPlanOut)}, errors=(404,))
def list_check_plans(instrument_id: int):
    """Return the instrument's intermediate-check plans."""
    _instrument, plans = queries.plans_of(db(), actor(), instrument_id)
    return jsonify({"items": [CheckPlanOut().dump(p) for p in plans]})


@bp.post("/instruments/<int:instrument_id>/check-plans")
@doc(tags=["checks"], body=CheckPlanIn, responses={201: CheckPlanOut}, errors=(400, 403, 404))
def create_check_plan(instrument_id: int):
    """Create a plan: check standard, points (nominal, MPE), interval, who, baseline."""
    plan = operations.create_plan(db(), actor(), instrument_id, json_body(), today())
    return jsonify(CheckPlanOut().dump(plan)), 201


@bp.get("/check-plans/<int:plan_id>")
@doc(tags=["checks"], responses={200: CheckPlanOut}, errors=(404,))
def get_check_plan(plan_id: int):
    """Return one plan with its check points."""
    return jsonify(CheckPlanOut().dump(queries.get_plan(db(), actor(), plan_id)))


@bp.patch("/check-plans/<int:plan_id>")
@doc(tags=["checks"], body=CheckPlanPatch, responses={200: CheckPlanOut}, errors=(400, 403, 404))
def update_check_plan(plan_id: int):
    """Change a plan (``active``: false ends it); points with an ``id`` change, others are added."""
    plan = operations.update_plan(db(), actor(), plan_id, json_body(), today())
    return jsonify(CheckPlanOut().dump(plan))


@bp.post("/check-plans/<int:plan_id>/checks")
@doc(tags=["checks"], body=CheckRecordIn, responses={201: CheckRecordOut}, errors=(400, 403, 404, 409))
def record_check(plan_id: int):
    """Record a check (one reading per point); a reading beyond MPE opens a case, a signal tells staff."""
    record = operations.record_check(db(), actor(), plan_id, json_body(), today(), now_utc(), base_url())
    return jsonify(CheckRecordOut().dump(record)), 201


@bp.get("/check-plans/<int:plan_id>/chart")
@doc(tags=["checks"], responses={200: CheckChartOut}, errors=(404,))
def check_chart(plan_id: int):
    """Return each point's control chart: dates, deviations, limits, MPE and Western Electric signals."""
    plan = queries.get_plan(db(), actor(), plan_id)
    return jsonify(
        CheckChartOut().dump({"plan_id": plan.id, "points": chart_data(queries.charts(db(), plan))})
    )


def chart_data(charts) -> list[dict]:
    """The charts as plain data (signals described in English; pages translate them)."""
    out = []
    for chart in charts:
        out.append(
            {
                "point_id": chart.point.id,
                "label": chart.point.label,
                "dates": chart.dates,
                "deviations": chart.deviations,
                "limits": chart.limits.as_dict() if chart.limits else None,
                "mpe": chart.point.mpe,
                "out_of_tolerance": chart.out_of_tolerance,
                "signals": [
                    {
                        "rule": s.rule,
                        "index": s.index,
                        "side": s.side,
                        "points": list(s.points),
                        "description": chart.words(s)[0] % chart.words(s)[1],
                    }
                    for s in chart.signals
                ],
            }
        )
    return out
