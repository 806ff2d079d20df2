"""Service order pages: the client's orders and order form, the institute's orders and their work."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select

from models import Organization
from models.ledger import CONCLUSIONS
from models.orders import ORDER_METHODS, ORDER_STATES
from models.traceability import CONFIRMATIONS
from service.clock import now_utc
from service.errors import DomainError, Invalid
from service.orders import operations, queries
from service.scoping import parse_id
from service.web.context import actor, attachments_dir, base_url, db, today
from service.web.forms import flash_failure, form_data, form_error_page, result_form
from service.web.i18n import translate_errors

bp = Blueprint("orders", __name__)

#: Fields of the order form.
ORDER_FIELDS = ("institute_id", "method", "courier", "tracking_no", "note")


def _names(ids) -> dict[int, str]:
    """Return the names of organisations (the other side of each order)."""
    ids = set(ids)
    if not ids:
        return {}
    rows = db().execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids)))
    return dict(rows.all())


@bp.get("/orders")
@login_required
def list_orders():
    """The firm's service orders, newest first."""
    orders = queries.firm_orders(db(), actor())
    return render_template(
        "orders/list.html", orders=orders, names=_names(o.institute_id for o in orders), side="firm"
    )


def _order_form(values: dict, errors: dict, status: int = 200):
    institutes = queries.linked_institutes(db(), actor())
    context = {"institutes": institutes, "methods": ORDER_METHODS, "values": values}
    if errors:
        return form_error_page("orders/form.html", errors, status, **context)
    return render_template("orders/form.html", errors={}, **context), status


@bp.get("/orders/new")
@login_required
def new_order():
    """The order form: institute, method (courier and tracking number for mail-in), instruments."""
    actor().require("ledger.write")
    values = {"method": "mail_in"}
    institutes = queries.linked_institutes(db(), actor())
    if len(institutes) == 1:
        values["institute_id"] = institutes[0].id
    return _order_form(values, {})


@bp.post("/orders/new")
@login_required
def submit_order():
    """Submit the order; from the ledger's selection, show the form with those instruments first."""
    values = form_data(multi=("ids",))
    if "from_ledger" in values:
        actor().require("ledger.write")
        ids = [parse_id(i) or 0 for i in values["ids"]]  # 0 is nobody's: an unreadable id is a 404
        numbers = queries.management_nos_of(db(), actor(), ids)
        institutes = queries.linked_institutes(db(), actor())
        prefilled = {"management_nos": "\n".join(numbers)}  # the method is the client's choice
        if len(institutes) == 1:
            prefilled["institute_id"] = institutes[0].id
        return _order_form(prefilled, {})
    payload = {k: v for k, v in values.items() if k in ORDER_FIELDS}
    payload["management_nos"] = values.get("management_nos", "").splitlines()
    try:
        order = operations.submit_order(db(), actor(), payload, today(), base_url(), now_utc())
    except Invalid as exc:
        return _order_form({**values, "ids": None}, exc.field_errors, 422)
    flash(gettext("Service order #%(no)s sent to the institute.", no=order.id), "success")
    return redirect(url_for("orders.show_order", order_id=order.id), code=303)


@bp.get("/orders/<int:order_id>")
@login_required
def show_order(order_id: int):
    """One of the firm's orders: its state and steps, its instruments and their results."""
    order = queries.get_firm_order(db(), actor(), order_id)
    return render_template(
        "orders/show.html",
        order=order,
        other=_names([order.institute_id]).get(order.institute_id),
        side="firm",
        actions=operations.actions_for(order, "firm"),
    )


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int):
    """Cancel an order the institute has not started on."""
    payload = {"action": "cancel", "reason": form_data().get("reason")}
    try:
        operations.transition(db(), actor(), order_id, payload, today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Service order cancelled."), "success")
    return redirect(_page_of(order_id), code=303)


@bp.get("/institute/orders")
@login_required
def institute_orders():
    """The institute's orders from its clients: the open ones, or those in one state."""
    errors: dict = {}
    args = {"state": request.args["state"]} if request.args.get("state") else {}
    try:
        orders = queries.institute_orders(db(), actor(), args)
    except Invalid as exc:
        errors = translate_errors(exc.field_errors)
        orders = queries.institute_orders(db(), actor())
    return render_template(
        "orders/institute_list.html",
        orders=orders,
        names=_names(o.firm_id for o in orders),
        states=ORDER_STATES,
        chosen=request.args.get("state") or "open",
        errors=errors,
        side="institute",
    ), (422 if errors else 200)


@bp.get("/institute/orders/<int:order_id>")
@login_required
def show_institute_order(order_id: int):
    """One order to the institute: its actions, and a result form per instrument while in progress."""
    order = queries.get_institute_order(db(), actor(), order_id)
    return render_template(
        "orders/show.html",
        order=order,
        other=_names([order.firm_id]).get(order.firm_id),
        side="institute",
        actions=operations.actions_for(order, "institute") if actor().can("ledger.write") else [],
        conclusions=CONCLUSIONS,
        confirmations=CONFIRMATIONS,
    )


@bp.post("/institute/orders/<int:order_id>/transition")
@login_required
def transition(order_id: int):
    """Accept, decline, mark received, start, complete or return an order; the client is told."""
    values = form_data()
    payload = {k: values[k] for k in ("action", "reason", "courier", "tracking_no") if k in values}
    try:
        order = operations.transition(db(), actor(), order_id, payload, today(), base_url(), now_utc())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Service order #%(no)s updated; the client is told.", no=order.id), "success")
    return redirect(_page_of(order_id), code=303)


def _page_of(order_id: int) -> str:
    """Return the order's page on the side of the one who posted, whichever side's form it was."""
    institute = actor().home_org_kind == "institute"
    return url_for("orders.show_institute_order" if institute else "orders.show_order", order_id=order_id)


@bp.post("/institute/orders/<int:order_id>/items/<int:item_id>/result")
@login_required
def record_result(order_id: int, item_id: int):
    """Write an instrument's result into the client's ledger."""
    values, uploads = result_form()
    try:
        record = operations.record_item(
            db(), actor(), order_id, item_id, values, today(), uploads, attachments_dir()
        )
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Result saved: certificate %(no)s.", no=record.certificate_no), "success")
    return redirect(_item_url(order_id, item_id), code=303)


@bp.post("/institute/orders/<int:order_id>/items/<int:item_id>/skip")
@login_required
def skip(order_id: int, item_id: int):
    """Record why an instrument got no result."""
    try:
        operations.skip_item(db(), actor(), order_id, item_id, form_data())
    except DomainError as exc:
        flash_failure(exc)
    else:
        flash(gettext("Reason recorded."), "success")
    return redirect(_item_url(order_id, item_id), code=303)


def _item_url(order_id: int, item_id: int) -> str:
    return url_for("orders.show_institute_order", order_id=order_id, _anchor=f"item-{item_id}")
