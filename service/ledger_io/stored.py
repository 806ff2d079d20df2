"""An import report as JSON in the database, and back, with its messages still untranslated.

A background job writes the report; whoever opens the page later reads it in their own language,
so messages are stored as msgid and parameters, and the rejected rows' original cells keep their
types (a date stays a date in the rejected-rows file).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from service.history.chain import jsonable
from service.i18n import Msg
from service.ledger_io.importer import ImportReport, RowProblem


def dump_message(message: Any) -> dict:
    """Return a message as JSON data: its msgid and its parameters."""
    params = message.params if isinstance(message, Msg) else {}
    return {"msgid": str(message), "params": jsonable(params)}


def load_message(data: dict) -> Msg:
    """Return the message :func:`dump_message` stored."""
    return Msg(data["msgid"], data.get("params") or None)


def dump_cell(value: Any) -> Any:
    """Return a cell as JSON data; dates, times and durations are tagged so they come back as such."""
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, time):
        return {"time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"seconds": value.total_seconds()}
    return value


def load_cell(value: Any) -> Any:
    """Return the cell :func:`dump_cell` stored."""
    if not isinstance(value, dict):
        return value
    if "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    if "date" in value:
        return date.fromisoformat(value["date"])
    if "time" in value:
        return time.fromisoformat(value["time"])
    return timedelta(seconds=value["seconds"])


def _dump_problems(problems: list[RowProblem]) -> list[dict]:
    return [
        {"row": p.row, "management_no": p.management_no, "column": p.column, "reason": dump_message(p.reason)}
        for p in problems
    ]


def _load_problems(data: list[dict]) -> list[RowProblem]:
    return [RowProblem(p["row"], p["management_no"], p["column"], load_message(p["reason"])) for p in data]


def dump_report(report: ImportReport) -> dict:
    """Return the whole report as JSON data."""
    return {
        "filename": report.filename,
        "sheet": report.sheet,
        "header_row": report.header_row,
        "dry_run": report.dry_run,
        "header": [dump_cell(h) for h in report.header],
        "columns": report.columns,
        "unknown_columns": report.unknown_columns,
        "ignored_columns": report.ignored_columns,
        "skipped_rows": report.skipped_rows,
        "column_fields": report.column_fields,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected_rows": _dump_problems(report.rejected_rows),
        "warnings": _dump_problems(report.warnings),
        "departments_created": report.departments_created,
        "rejected_cells": [
            [row, [dump_cell(c) for c in cells]] for row, cells in report.rejected_cells.items()
        ],
        "file_notes": [dump_message(m) for m in report.file_notes],
        "defaults": [[name, jsonable(value), count] for name, value, count in report.defaults],
        "inferred": report.inferred,
        "without_interval": report.without_interval,
    }


def load_report(data: dict) -> ImportReport:
    """Return the report :func:`dump_report` stored."""
    return ImportReport(
        filename=data["filename"],
        sheet=data["sheet"],
        header_row=data["header_row"],
        dry_run=data["dry_run"],
        header=[load_cell(h) for h in data["header"]],
        columns=data["columns"],
        unknown_columns=data["unknown_columns"],
        ignored_columns=data["ignored_columns"],
        skipped_rows=data["skipped_rows"],
        column_fields=data["column_fields"],
        created=data["created"],
        updated=data["updated"],
        unchanged=data["unchanged"],
        rejected_rows=_load_problems(data["rejected_rows"]),
        warnings=_load_problems(data["warnings"]),
        departments_created=data["departments_created"],
        rejected_cells={row: [load_cell(c) for c in cells] for row, cells in data["rejected_cells"]},
        # Reports stored before these were kept have none of them.
        file_notes=[load_message(m) for m in data.get("file_notes", [])],
        defaults=data.get("defaults", []),
        inferred=data.get("inferred", {}),
        without_interval=data.get("without_interval", 0),
    )
