"""API: calibration visits — the plan, creating visits, the client's answer, results on site."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc, items_of
from service.api.helpers import json_body
from service.clock import now_utc
from service.errors import Invalid
from service.i18n import N_
from service.schemas import load_or_invalid
from service.traceability.schemas import RecordIn, RecordOut
from service.visits import operations, proposals, queries
from service.visits.operations import AnswerIn, MoveIn, NewVisit, SkipIn
from service.visits.schemas import PlanIn, PlanOut, VisitOut, VisitsIn
from service.web.context import actor, base_url, db, today


def _out(visit) -> dict:
    return VisitOut().dump(visit)


def _visit(visit_id: int):
    """Return the visit as the actor's side sees it (the institute's, or the client's)."""
    who = actor()
    if who.home_org_kind == "institute":
        return queries.get_institute_visit(db(), who, visit_id)
    return queries.get_firm_visit(db(), who, visit_id)


@bp.get("/visits")
@doc(tags=["visits"], responses={200: items_of(VisitOut)})
def list_visits():
    """Return your visits: an institute's to its clients, or those proposed to your firm."""
    who = actor()
    if who.home_org_kind == "institute":
        visits = queries.institute_visits(db(), who)
    else:
        visits = queries.firm_visits(db(), who)
    return jsonify({"items": [_out(v) for v in visits]})


@bp.get("/visits/plan")
@doc(
    tags=["visits"],
    query=PlanIn,
    responses={200: (PlanOut, "{visits: [...], unplaced: [...]}")},
    errors=(400, 404),
)
def plan_visits():
    """Propose visits for ``from`` (YYYY-MM-DD) and ``days``, as ``flask visits plan`` prints them."""
    window = load_or_invalid(PlanIn(), {"from": request.args.get("from"), "days": request.args.get("days")})
    return jsonify(proposals.propose(db(), actor(), window["start"], window["days"]).as_json())


@bp.post("/visits")
@doc(tags=["visits"], body=VisitsIn, responses={201: items_of(VisitOut)}, errors=(400, 403, 404, 409))
def create_visits():
    """Propose visits to linked clients; each client is told and asked to confirm."""
    data = load_or_invalid(VisitsIn(), json_body())
    planned = []
    for visit in data["visits"]:
        if not visit["items"]:
            raise Invalid(
                N_("Please correct the marked fields."), {"items": [N_("A visit needs instruments.")]}
            )
        assignments = {i["instrument_id"]: i.get("technician_id") for i in visit["items"]}
        planned.append(NewVisit(visit["firm_id"], visit["planned_on"], assignments))
    created = operations.create_visits(db(), actor(), planned, today(), base_url(), now_utc())
    return jsonify({"items": [_out(v) for v in created]}), 201


@bp.get("/visits/<int:visit_id>")
@doc(tags=["visits"], responses={200: VisitOut}, errors=(404,))
def get_visit(visit_id: int):
    """Return one visit with its instruments."""
    return jsonify(_out(_visit(visit_id)))


@bp.post("/visits/<int:visit_id>/answer")
@doc(tags=["visits"], body=AnswerIn, responses={200: VisitOut}, errors=(400, 403, 404, 409))
def answer_visit(visit_id: int):
    """The client confirms (``{"answer": "confirm"}``) or asks for ``requested_on`` instead."""
    return jsonify(
        _out(operations.answer(db(), actor(), visit_id, json_body(), today(), base_url(), now_utc()))
    )


@bp.post("/visits/<int:visit_id>/move")
@doc(tags=["visits"], body=MoveIn, responses={200: VisitOut}, errors=(400, 403, 404, 409))
def move_visit(visit_id: int):
    """Move an open visit to ``planned_on``; the client is asked again."""
    return jsonify(
        _out(operations.move(db(), actor(), visit_id, json_body(), today(), base_url(), now_utc()))
    )


@bp.post("/visits/<int:visit_id>/cancel")
@doc(tags=["visits"], responses={200: VisitOut}, errors=(403, 404, 409))
def cancel_visit(visit_id: int):
    """Cancel an open visit; the client is told."""
    return jsonify(_out(operations.cancel(db(), actor(), visit_id, today(), base_url(), now_utc())))


@bp.post("/visits/<int:visit_id>/items/<int:item_id>/result")
@doc(tags=["visits"], body=RecordIn, responses={201: RecordOut}, errors=(400, 404, 409))
def record_visit_result(visit_id: int, item_id: int):
    """Write an instrument's result into the client's ledger (a record; the certificate no. is issued)."""
    record = operations.record_item(db(), actor(), visit_id, item_id, json_body(), today())
    return jsonify(RecordOut(base_url=base_url()).dump(record)), 201


@bp.post("/visits/<int:visit_id>/items/<int:item_id>/skip")
@doc(tags=["visits"], body=SkipIn, responses={200: VisitOut}, errors=(400, 404, 409))
def skip_visit_item(visit_id: int, item_id: int):
    """Record why an instrument got no result (``reason``)."""
    operations.skip_item(db(), actor(), visit_id, item_id, json_body())
    return jsonify(_out(_visit(visit_id)))
