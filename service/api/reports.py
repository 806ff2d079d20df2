"""API: the reports of your organisation: the periodic verification and calibration plan."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc
from service.reports import queries
from service.reports.schemas import PeriodicPlanOut, PeriodicPlanQuery, plan_payload
from service.schemas import load_or_invalid
from service.web.context import actor, db, today


@bp.get("/reports/plan")
@doc(tags=["reports"], query=PeriodicPlanQuery, responses={200: PeriodicPlanOut}, errors=(400, 403, 404))
def get_plan():
    """Return the periodic verification and calibration plan of a year or a month, with its execution.

    A line is a due date of an instrument under periodic control in use at the period's start: one
    falling in the period, or one already past at its start (planned in its first month). Its
    ``state`` is read as of today. ``months`` gives, per month, the lines planned and the
    completion rate (计划完成率: done, on time or late, ÷ planned) and the on-time completion rate
    (按期完成率: done on time ÷ planned). ``checks`` lists the intermediate checks (期间核查) due
    in the period with who does them, from each active check plan's interval and its last check
    (instruments suspended, sealed or scrapped left out); ``checks_summary`` counts them apart from
    the lines. Only your organisation's own ledger is read.
    """
    query = load_or_invalid(PeriodicPlanQuery(), request.args)
    found = queries.periodic_plan(
        db(), actor(), query.get("year") or today().year, query.get("month"), today(), query.get("department")
    )
    return jsonify(PeriodicPlanOut().dump(plan_payload(found)))
