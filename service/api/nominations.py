"""API: the evidence dossier of the firm, and the instruments behind one of its figures."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import doc
from service.nominations import queries
from service.nominations.schemas import BehindOut, BehindQuery, DossierOut, DossierQuery
from service.schemas import load_or_invalid
from service.web.context import actor, db, today
from service.web.i18n import translate


@bp.get("/dossier")
@doc(tags=["nominations"], query=DossierQuery, responses={200: DossierOut}, errors=(400, 403))
def get_dossier():
    """Return every figure of the evidence dossier as of a day, with the pre-filled self-check table.

    Rates are fractions with 4 decimals, each with its numerator and denominator; the period
    figures cover the 12 months up to the day.
    """
    query = load_or_invalid(DossierQuery(), request.args)
    found = queries.dossier(db(), actor(), query.get("as_of") or today(), today())
    lines = [
        {
            "seq": line.item.seq,
            "category": line.item.category,
            "item": line.item.item,
            "question": line.item.question,
            "answer": line.prefill.answer if line.prefill else None,
            "evidence": translate(line.prefill.evidence) if line.prefill else None,
        }
        for line in queries.self_check_lines(found)
    ]
    return jsonify(DossierOut().dump(found.as_dict() | {"self_check": lines}))


@bp.get("/dossier/instruments")
@doc(tags=["nominations"], query=BehindQuery, responses={200: BehindOut}, errors=(400, 403))
def get_dossier_instruments():
    """Return the instruments a figure counts (or only those short of it, ``short=true``): the first 100."""
    query = load_or_invalid(BehindQuery(), request.args)
    found = queries.dossier(db(), actor(), query.get("as_of") or today(), today())
    behind = queries.instruments_behind(db(), actor(), found, query["figure"], bool(query.get("short")))
    items = [
        {
            "id": instrument.id,
            "management_no": instrument.management_no,
            "name": instrument.name,
            "missed": [day.isoformat() for day in behind.missed.get(instrument.id, [])],
        }
        for instrument in behind.instruments
    ]
    return jsonify(
        BehindOut().dump(
            {"figure": behind.figure, "counted": behind.counted, "short": behind.short, "items": items}
        )
    )
