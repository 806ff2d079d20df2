"""The dashboard: a firm's, or the institute's home."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from service.ledger import queries
from service.nominations import queries as nomination_queries
from service.reports import firm_charts
from service.reports import queries as report_queries
from service.visits.home import institute_home
from service.web.access import open_to_experts
from service.web.context import actor, db, today

bp = Blueprint("main", __name__)


@bp.get("/")
@open_to_experts
@login_required
def dashboard():
    """Counts of the ledger, the next instruments due and the requests awaiting a decision."""
    who, day = actor(), today()
    if who.confined:
        # An outside expert's home is its campaign work, and nothing of the institute's.
        return render_template(
            "main/expert_home.html",
            recommenders=nomination_queries.my_recommenders(db(), who),
            assignments=nomination_queries.my_assignments(db(), who),
        )
    if who.home_org_kind == "institute" and not who.via_client_link and who.can("clients.view"):
        # Staff and technicians work for the clients: their home is the clients' work, not the
        # institute's own standards.
        return render_template("institute/home.html", home=institute_home(db(), who, day))
    wanted = request.args.get("due_by")
    due_by = wanted if wanted in report_queries.DUE_GROUPS else "label"
    board = report_queries.firm_dashboard(db(), who, day, due_by)
    upcoming = queries.list_instruments(db(), who, {"due_within": 30, "limit": 10}, day).items
    overdue = queries.list_instruments(db(), who, {"overdue": True, "limit": 10}, day).items
    pending = queries.list_status_requests(db(), who) if who.can("status.decide") else []
    return render_template(
        "main/dashboard.html",
        counts=board.counts,
        upcoming=upcoming,
        overdue=overdue,
        pending=pending,
        today=day,
        awards=nomination_queries.firm_awards(db(), who),
        due_by=due_by,
        charts=firm_charts.dashboard_charts(board, due_by),
    )
