"""SME assistance pages (计量服务中小企业行): progress, the plan, records per client, the statistics table."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from models.assistance import ASSISTANCE_KINDS
from service.assistance import operations, progress, queries, statistics
from service.assistance.operations import PlanFileInvalid
from service.errors import FIX_FIELDS, DomainError, Invalid
from service.ledger_io.exporter import XLSX_MIMETYPE
from service.reports.charts import Chart, Series, share
from service.validation import henan_regions, region_name
from service.web.context import actor, db, today
from service.web.downloads import send_download, spooled
from service.web.forms import flash_failure, form_data
from service.web.i18n import translate, translate_errors

bp = Blueprint("assistance", __name__, url_prefix="/assistance")

_LINE_FIELD = re.compile(r"^lines\.(\d+)\.(\w+)$")


def _year(values) -> tuple[int, dict]:
    """Return the year asked for (this year when absent or bad) and the translated errors."""
    try:
        return queries.parse_year(values.get("year"), today().year), {}
    except Invalid as exc:
        return today().year, translate_errors(exc.field_errors)


def _region_options() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in henan_regions()]


@bp.get("")
@login_required
def overview():
    """The year's progress per region against the plan, with the ranked chart and the table."""
    year, errors = _year(request.args)
    found = queries.year_progress(db(), actor(), year)
    return render_template(
        "assistance/overview.html",
        year=year,
        errors=errors,
        progress=found,
        chart=_progress_chart(found, year),
        has_plan=queries.has_plan(db(), actor(), year),
        region_name=region_name,
        kinds=ASSISTANCE_KINDS,
    ), (422 if errors else 200)


def _progress_chart(found: progress.Progress, year: int) -> Chart:
    """Return the regions with a quota, best progress first, as a horizontal bar chart against 100%."""
    rows = progress.ranked(found.rows)
    return Chart(
        key="assistance-progress",
        title=gettext("Progress against the quota, %(year)s", year=year),
        kind="hbar",
        categories=[region_name(r.region_code) or r.region_code for r in rows],
        series=[
            Series(
                gettext("SMEs helped"),
                [share(len(r.helped), r.smes_to_help) for r in rows],
                [url_for("assistance.list_records", year=year, region=r.region_code) for r in rows],
            ),
            Series(
                gettext("SMEs trained (MMS)"),
                [share(len(r.trained), r.smes_for_mms_training) for r in rows],
                [
                    url_for("assistance.list_records", year=year, region=r.region_code, kind="mms_training")
                    for r in rows
                ],
            ),
        ],
        unit="%",
        target=100,
        target_label=gettext("Quota"),
        category_title=gettext("City / county"),
    )


@bp.get("/statistics.xlsx")
@login_required
def statistics_xlsx():
    """The statistics table (活动情况统计表) of the year, as xlsx."""
    year, errors = _year(request.args)
    if errors:
        raise Invalid(FIX_FIELDS, errors)
    found = queries.year_progress(db(), actor(), year)
    spool = spooled(lambda out: statistics.write_xlsx(found, out))
    return send_download(
        spool, f"{statistics.title_of(year)}.xlsx", f"sme-assistance-{year}.xlsx", XLSX_MIMETYPE
    )


@bp.route("/plan", methods=["GET", "POST"])
@login_required
def plan():
    """The year's quota per region: two numbers for every region, saved together."""
    year, year_errors = _year(request.values)
    lines = queries.get_plan(db(), actor(), year)
    values = {}
    for line in lines:
        values[f"help-{line.region_code}"] = str(line.smes_to_help)
        values[f"mms-{line.region_code}"] = str(line.smes_for_mms_training)
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and not year_errors:
        values = form_data()
        posted = []
        for line in lines:
            help_, mms = (values.get(f"{p}-{line.region_code}", "").strip() for p in ("help", "mms"))
            if help_ or mms:
                posted.append(
                    {
                        "region_code": line.region_code,
                        "smes_to_help": help_ or "0",
                        "smes_for_mms_training": mms or "0",
                    }
                )
        try:
            operations.save_plan(db(), actor(), year, {"lines": posted})
        except Invalid as exc:
            db().rollback()
            errors = _plan_errors(exc.field_errors, posted)
        else:
            flash(gettext("The plan of %(year)s is saved.", year=year), "success")
            return redirect(url_for("assistance.plan", year=year), code=303)
    return render_template(
        "assistance/plan.html",
        year=year,
        lines=lines,
        values=values,
        errors=errors | year_errors,
        has_plan=queries.has_plan(db(), actor(), year),
        problems=[],
    ), (422 if errors or year_errors else 200)


def _plan_errors(field_errors: dict, posted: list[dict]) -> dict[str, list[str]]:
    """Return the plan's messages by input name (``help-410100``), translated."""
    out: dict[str, list[str]] = {}
    prefixes = {"smes_to_help": "help", "smes_for_mms_training": "mms", "region_code": "help"}
    for field, messages in translate_errors(field_errors).items():
        found = _LINE_FIELD.match(field)
        if found and int(found.group(1)) < len(posted):
            code = posted[int(found.group(1))]["region_code"]
            out.setdefault(f"{prefixes.get(found.group(2), 'help')}-{code}", []).extend(messages)
        else:
            out.setdefault("_plan", []).extend(messages)
    return out


@bp.post("/plan/import")
@login_required
def import_plan():
    """Replace the year's plan by a CSV file (序号,地区,…); any bad line saves nothing."""
    year, year_errors = _year(request.values)
    file = request.files.get("file")
    try:
        if year_errors:
            raise Invalid(FIX_FIELDS, year_errors)
        content = file.read(operations.MAX_PLAN_BYTES + 1) if file and file.filename else b""
        operations.import_plan(db(), actor(), year, content)
    except PlanFileInvalid as exc:
        db().rollback()
        lines = queries.get_plan(db(), actor(), year)
        return render_template(
            "assistance/plan.html",
            year=year,
            lines=lines,
            values={
                **{f"help-{x.region_code}": str(x.smes_to_help) for x in lines},
                **{f"mms-{x.region_code}": str(x.smes_for_mms_training) for x in lines},
            },
            errors={},
            has_plan=queries.has_plan(db(), actor(), year),
            problems=[(p.line, translate(p.message)) for p in exc.problems],
            import_message=translate(exc.message),
        ), 422
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("assistance.plan", year=year), code=303)
    flash(gettext("The plan of %(year)s is imported.", year=year), "success")
    return redirect(url_for("assistance.plan", year=year), code=303)


@bp.post("/plan/reference")
@login_required
def load_reference_plan():
    """Replace the year's plan by the provincial 2020 plan shipped with the product."""
    year, year_errors = _year(request.values)
    try:
        if year_errors:
            raise Invalid(FIX_FIELDS, year_errors)
        operations.load_reference_plan(db(), actor(), year)
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("The provincial 2020 plan is loaded into %(year)s.", year=year), "success")
    return redirect(url_for("assistance.plan", year=year), code=303)


@bp.get("/records")
@login_required
def list_records():
    """Every record of the institute, filtered by year, region and kind."""
    filters = {k: v for k, v in request.args.items() if k in ("year", "region", "kind") and v}
    errors = {}
    try:
        records = queries.list_records(db(), actor(), filters)
    except Invalid as exc:
        errors = translate_errors(exc.field_errors)
        records = queries.list_records(db(), actor(), {})
    return render_template(
        "assistance/records.html",
        records=records,
        args=request.args,
        errors=errors,
        region_options=_region_options(),
        kinds=ASSISTANCE_KINDS,
    ), (422 if errors else 200)


@bp.route("/clients/<int:client_id>", methods=["GET", "POST"])
@login_required
def client_records(client_id: int):
    """A client's assistance records, and the form to add one (staff and administrators)."""
    firm = queries.get_client(db(), actor(), client_id)
    values = {"done_on": today().isoformat(), "person": actor().name}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = form_data()
        try:
            operations.add_record(db(), actor(), values | {"firm_id": firm.id}, today())
        except DomainError as exc:
            if exc.status == 404:
                raise
            db().rollback()
            errors = translate_errors(exc.field_errors) or {"_form": [translate(exc.message)]}
        else:
            flash(gettext("Assistance recorded."), "success")
            return redirect(url_for("assistance.client_records", client_id=firm.id), code=303)
    return render_template(
        "assistance/client.html",
        firm=firm,
        region=region_name(firm.region_code),
        records=queries.list_records(db(), actor(), {"client": firm.id}),
        values=values,
        errors=errors,
        kinds=ASSISTANCE_KINDS,
        today=today(),
    ), (422 if errors else 200)


@bp.post("/records/<int:assistance_id>/delete")
@login_required
def delete_record(assistance_id: int):
    """Delete a record."""
    try:
        firm_id = operations.delete_record(db(), actor(), assistance_id)
    except DomainError as exc:
        flash_failure(exc)
        return redirect(url_for("assistance.list_records"), code=303)
    flash(gettext("Record deleted."), "success")
    return redirect(url_for("assistance.client_records", client_id=firm_id), code=303)


@bp.post("/visits/<int:visit_id>/green-channel")
@login_required
def visit_green_channel(visit_id: int):
    """Mark a visit as handled through the SME green channel, or clear the mark."""
    try:
        operations.set_visit_green_channel(db(), actor(), visit_id, form_data())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Green channel saved."), "success")
    return redirect(url_for("visits.show_visit", visit_id=visit_id), code=303)


@bp.post("/orders/<int:order_id>/green-channel")
@login_required
def order_green_channel(order_id: int):
    """Mark an order as handled through the SME green channel, or clear the mark."""
    try:
        operations.set_order_green_channel(db(), actor(), order_id, form_data())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Green channel saved."), "success")
    return redirect(url_for("orders.show_institute_order", order_id=order_id), code=303)
