"""Changing the institute's SME assistance: the plan of a year (typed, imported, loaded), records, flags."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete
from sqlalchemy.orm import Session

from models import AssistancePlan, AssistanceRecord, ServiceOrder, Visit
from service.actors import Actor
from service.assistance import queries
from service.assistance.schemas import YEARS, AssistanceGreenChannelIn, AssistancePlanIn, AssistanceRecordIn
from service.clock import now_utc
from service.errors import Invalid, invalid_field
from service.i18n import N_
from service.orders.queries import get_institute_order
from service.schemas import load_or_invalid
from service.validation import henan_regions, reference_rows
from service.visits.queries import get_institute_visit

#: The headers of a plan file (the provincial notice's table): 序号 and the region's name may vary.
PLAN_COLUMNS = ("region", "smes_to_help", "smes_for_mms_training")
#: Chinese headers people give the same columns.
PLAN_HEADERS = {
    "region": ("region", "地区", "地市", "省辖市", "区域"),
    "smes_to_help": ("smes_to_help", "帮扶企业数", "服务中小企业数", "中小企业数"),
    "smes_for_mms_training": ("smes_for_mms_training", "测量管理体系培训企业数", "培训企业数"),
}
#: Names a region goes by in notices besides the regions table's own.
REGION_ALIASES = {"济源示范区": "419001", "济源产城融合示范区": "419001", "济源": "419001"}
#: The provincial plan shipped with the product (service/data), a starting point for any year.
REFERENCE_PLAN = "sme_service_plan_2020.csv"
#: Plan files are small (a line per region); anything bigger is not one.
MAX_PLAN_BYTES = 256 * 1024


def save_plan(session: Session, actor: Actor, year, payload: Mapping) -> list[queries.PlanLine]:
    """Replace the year's plan by ``payload["lines"]``; a region twice or a bad number changes nothing."""
    actor.require_institute("ledger.write")
    year = queries.parse_year(year, 0)
    lines = load_or_invalid(AssistancePlanIn(), payload)["lines"]
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line["region_code"] in seen:
            raise invalid_field(f"lines.{index}.region_code", N_("This region is given twice."))
        seen.add(line["region_code"])
    session.execute(
        delete(AssistancePlan).where(AssistancePlan.org_id == actor.home_org_id, AssistancePlan.year == year)
    )
    now = now_utc()
    for line in lines:
        session.add(
            AssistancePlan(
                org_id=actor.home_org_id,
                year=year,
                updated_by_name=actor.name,
                updated_at=now,
                **line,
            )
        )
    session.flush()
    return queries.get_plan(session, actor, year)


def region_code_of(name: str) -> str | None:
    """Return the code of a region named as people write it (郑州市, 郑州, 济源示范区, the code), or None."""
    name = name.strip()
    for region in henan_regions():
        if name in (region.code, region.name) or (len(name) >= 2 and region.name[:-1] == name):
            return region.code
    return REGION_ALIASES.get(name)


@dataclass(frozen=True)
class PlanProblem:
    """A line of a plan file that cannot be taken, and why."""

    line: int
    message: object


def read_plan_file(content: bytes) -> tuple[list[dict], list[PlanProblem]]:
    """Read a plan file (CSV, UTF-8 or GB18030) into plan lines and the problems of its bad lines."""
    if len(content) > MAX_PLAN_BYTES:
        return [], [PlanProblem(0, N_("The file is too large for a plan."))]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], [PlanProblem(0, N_("The file is not text (CSV, UTF-8 or GB18030)."))]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], [PlanProblem(0, N_("The file is empty."))]
    header = [h.strip() for h in rows[0]]
    columns = {}
    for key, names in PLAN_HEADERS.items():
        found = next((i for i, h in enumerate(header) if h in names), None)
        if found is None:
            return [], [PlanProblem(1, N_("Column %(column)s is missing.", column=key))]
        columns[key] = found
    lines, problems, seen = [], [], {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}
        code = region_code_of(values["region"])
        if code is None:
            problems.append(PlanProblem(number, N_("Unknown region: %(name)s.", name=values["region"])))
            continue
        if code in seen:
            problems.append(
                PlanProblem(number, N_("This region is given twice (line %(line)s).", line=seen[code]))
            )
            continue
        seen[code] = number
        numbers = {}
        for key in ("smes_to_help", "smes_for_mms_training"):
            raw = values[key]
            if not (raw.isascii() and raw.isdigit()) or int(raw) > 100_000:
                problems.append(
                    PlanProblem(number, N_("Not a whole number of firms (0 or more): %(value)s.", value=raw))
                )
                break
            numbers[key] = int(raw)
        else:
            lines.append({"region_code": code, **numbers})
    return lines, problems


class PlanFileInvalid(Invalid):
    """A plan file with bad lines: nothing of it was saved."""

    def __init__(self, problems: list[PlanProblem]):
        super().__init__(N_("The plan was not saved: correct the lines below and import it again."))
        self.problems = problems


def import_plan(session: Session, actor: Actor, year, content: bytes) -> list[queries.PlanLine]:
    """Replace the year's plan by a plan file's lines; any bad line saves nothing (PlanFileInvalid)."""
    actor.require_institute("ledger.write")
    lines, problems = read_plan_file(content)
    if problems:
        raise PlanFileInvalid(problems)
    if not lines:
        raise PlanFileInvalid([PlanProblem(0, N_("The file has no lines."))])
    return save_plan(session, actor, year, {"lines": lines})


def load_reference_plan(session: Session, actor: Actor, year) -> list[queries.PlanLine]:
    """Replace the year's plan by the provincial 2020 plan shipped with the product."""
    lines = []
    for row in reference_rows(REFERENCE_PLAN):
        lines.append(
            {
                "region_code": region_code_of(row["region"]),
                "smes_to_help": int(row["smes_to_help"]),
                "smes_for_mms_training": int(row["smes_for_mms_training"]),
            }
        )
    return save_plan(session, actor, year, {"lines": lines})


def add_record(session: Session, actor: Actor, payload: Mapping, today: date) -> AssistanceRecord:
    """Record help given to a client the institute serves (another firm: 404); person defaults to the user."""
    actor.require_institute("ledger.write")
    data = load_or_invalid(AssistanceRecordIn(), payload)
    firm = queries.get_client(session, actor, data["firm_id"])
    if data["done_on"] > today:
        raise invalid_field("done_on", N_("The date cannot be in the future."))
    if data["done_on"].year < YEARS[0]:
        raise invalid_field("done_on", N_("The date is too far in the past."))
    record = AssistanceRecord(
        org_id=actor.home_org_id,
        firm_id=firm.id,
        done_on=data["done_on"],
        kind=data["kind"],
        person=data.get("person") or actor.name,
        note=data.get("note"),
        created_by_name=actor.name,
        created_at=now_utc(),
    )
    session.add(record)
    session.flush()
    return record


def delete_record(session: Session, actor: Actor, record_id) -> int:
    """Delete one of the institute's records; return its firm's id."""
    actor.require_institute("ledger.write")
    record = queries.get_record(session, actor, record_id)
    firm_id = record.firm_id
    session.delete(record)
    session.flush()
    return firm_id


def set_visit_green_channel(session: Session, actor: Actor, visit_id, payload: Mapping) -> Visit:
    """Flag one of the institute's visits as handled through the SME green channel, or clear the flag."""
    visit = get_institute_visit(session, actor, visit_id)
    actor.require("ledger.write")
    visit.is_green_channel = load_or_invalid(AssistanceGreenChannelIn(), payload)["is_green_channel"]
    session.flush()
    return visit


def set_order_green_channel(session: Session, actor: Actor, order_id, payload: Mapping) -> ServiceOrder:
    """Flag an order to the institute as handled through the SME green channel, or clear the flag."""
    order = get_institute_order(session, actor, order_id)
    actor.require("ledger.write")
    order.is_green_channel = load_or_invalid(AssistanceGreenChannelIn(), payload)["is_green_channel"]
    session.flush()
    return order
