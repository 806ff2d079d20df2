"""API: the institute's SME assistance (计量服务中小企业行) — yearly plan, records, progress per region."""

from __future__ import annotations

from flask import jsonify, request

from service.api import bp
from service.api.docs import File, doc, items_of
from service.api.helpers import json_body
from service.assistance import operations, queries, statistics
from service.assistance.progress import RegionProgress
from service.assistance.schemas import (
    AssistanceGreenChannelIn,
    AssistanceGreenChannelOut,
    AssistancePlanIn,
    AssistancePlanOut,
    AssistanceProgressOut,
    AssistanceRecordFilterIn,
    AssistanceRecordIn,
    AssistanceRecordOut,
    AssistanceYearIn,
)
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.validation import region_name
from service.web.context import actor, db, today
from service.web.downloads import send_download, spooled


def _plan(year: int, lines) -> dict:
    kept = [line for line in lines if line.smes_to_help or line.smes_for_mms_training]
    return AssistancePlanOut().dump({"year": year, "lines": kept})


@bp.get("/assistance/plans/<int:year>")
@doc(tags=["assistance"], responses={200: AssistancePlanOut}, errors=(400, 404))
def get_assistance_plan(year: int):
    """Return the year's quota per region (regions without a quota are left out)."""
    year = queries.parse_year(year, 0)
    return jsonify(_plan(year, queries.get_plan(db(), actor(), year)))


@bp.put("/assistance/plans/<int:year>")
@doc(tags=["assistance"], body=AssistancePlanIn, responses={200: AssistancePlanOut}, errors=(400, 403, 404))
def put_assistance_plan(year: int):
    """Replace the year's plan: ``lines`` of ``region_code``, ``smes_to_help``, ``smes_for_mms_training``."""
    lines = operations.save_plan(db(), actor(), year, json_body())
    return jsonify(_plan(year, lines))


@bp.get("/assistance/records")
@doc(
    tags=["assistance"],
    query=AssistanceRecordFilterIn,
    responses={200: items_of(AssistanceRecordOut)},
    errors=(400, 404),
)
def list_assistance_records():
    """Return the institute's assistance records of its clients, newest first (year, region, kind, client)."""
    rows = queries.list_records(db(), actor(), request.args.to_dict())
    return jsonify({"items": AssistanceRecordOut(many=True).dump(rows)})


@bp.post("/assistance/records")
@doc(
    tags=["assistance"], body=AssistanceRecordIn, responses={201: AssistanceRecordOut}, errors=(400, 403, 404)
)
def add_assistance_record():
    """Record help given to a client firm the institute serves (another firm is 404)."""
    record = operations.add_record(db(), actor(), json_body(), today())
    row = queries.RecordRow(record, queries.get_client(db(), actor(), record.firm_id))
    return jsonify(AssistanceRecordOut().dump(row)), 201


@bp.delete("/assistance/records/<int:assistance_id>")
@doc(tags=["assistance"], responses={204: "Deleted."}, errors=(403, 404))
def delete_assistance_record(assistance_id: int):
    """Delete one of the institute's assistance records."""
    operations.delete_record(db(), actor(), assistance_id)
    return "", 204


def _row(row: RegionProgress) -> dict:
    return {
        "region_code": row.region_code,
        "region": region_name(row.region_code),
        "smes_to_help": row.smes_to_help,
        "helped": len(row.helped),
        "helped_size_unknown": len(row.helped_size_unknown),
        "help_rate": row.help_rate.as_dict(),
        "smes_for_mms_training": row.smes_for_mms_training,
        "trained": len(row.trained),
        "training_rate": row.training_rate.as_dict(),
        "kinds": dict(row.kinds),
        "green_channel_work": row.green_channel_work,
    }


@bp.get("/assistance/progress")
@doc(tags=["assistance"], query=AssistanceYearIn, responses={200: AssistanceProgressOut}, errors=(400, 404))
def assistance_progress():
    """Return the year's progress per region against the plan (firms counted once; large firms not)."""
    year = queries.parse_year(request.args.get("year"), today().year)
    found = queries.year_progress(db(), actor(), year)
    return jsonify(
        AssistanceProgressOut().dump(
            {"year": year, "rows": [_row(r) for r in found.rows], "total": _row(found.total)}
        )
    )


@bp.get("/assistance/statistics.xlsx")
@doc(tags=["assistance"], query=AssistanceYearIn, responses={200: File(XLSX_MIMETYPE)}, errors=(400, 404))
def assistance_statistics():
    """Return the year's statistics table (活动情况统计表) per region as xlsx."""
    year = queries.parse_year(request.args.get("year"), today().year)
    found = queries.year_progress(db(), actor(), year)
    spool = spooled(lambda out: statistics.write_xlsx(found, out))
    return send_download(
        spool, f"{statistics.title_of(year)}.xlsx", f"sme-assistance-{year}.xlsx", XLSX_MIMETYPE
    )


@bp.put("/assistance/visits/<int:visit_id>/green-channel")
@doc(
    tags=["assistance"],
    body=AssistanceGreenChannelIn,
    responses={200: AssistanceGreenChannelOut},
    errors=(400, 403, 404),
)
def put_visit_green_channel(visit_id: int):
    """Mark one of the institute's visits as handled through the SME green channel, or clear the mark."""
    visit = operations.set_visit_green_channel(db(), actor(), visit_id, json_body())
    return jsonify(AssistanceGreenChannelOut().dump(visit))


@bp.put("/assistance/orders/<int:order_id>/green-channel")
@doc(
    tags=["assistance"],
    body=AssistanceGreenChannelIn,
    responses={200: AssistanceGreenChannelOut},
    errors=(400, 403, 404),
)
def put_order_green_channel(order_id: int):
    """Mark an order to the institute as handled through the SME green channel, or clear the mark."""
    order = operations.set_order_green_channel(db(), actor(), order_id, json_body())
    return jsonify(AssistanceGreenChannelOut().dump(order))
