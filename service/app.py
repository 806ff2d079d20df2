"""The application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from service.config import Config
from service.db import make_engine, make_session_factory

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


def _up_to(limit: int) -> str:
    """Return a regular expression matching the decimal numbers from 0 to ``limit`` (leading zeros too)."""
    digits = str(limit)
    shorter = rf"\d{{1,{len(digits) - 1}}}" if len(digits) > 1 else None
    same_length = [
        digits[:i] + (f"[0-{int(d) - 1}]" if d != "1" else "0") + rf"\d{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if d != "0"
    ]
    return "0*(?:" + "|".join(filter(None, [shorter, *same_length, digits])) + ")"


class IdConverter(IntegerConverter):
    """``<int:…>`` in routes: a database id, so a number past 32 bits is a 404, not an overflow.

    The pattern itself stops at 2³¹−1: a larger number matches no route at all, so it is a 404 on
    every method, as on GET, rather than a 405 from a route of another method.
    """

    regex = _up_to(2**31 - 1)

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, **kwargs)


bootstrap = Bootstrap5()


def create_app(config: Config | None = None, engine=None) -> Flask:
    """Create the application; ``engine`` lets tests share one connection pool."""
    config = config or Config.from_env()
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.url_map.converters["int"] = IdConverter
    app.config.update(config.flask_settings())

    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=config.trusted_proxies,
            x_proto=config.trusted_proxies,
            x_host=config.trusted_proxies,
        )
    engine = engine or make_engine(config.database_url)
    app.extensions["calrecall.engine"] = engine
    app.extensions["calrecall.sessions"] = make_session_factory(engine)

    from service.auth.views import init_login
    from service.observability import init_observability
    from service.web.context import init_request_lifecycle
    from service.web.errors import init_error_handlers
    from service.web.i18n import init_i18n
    from service.web.templating import init_templating

    init_observability(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    init_i18n(app)
    init_login(app)
    init_request_lifecycle(app)
    init_error_handlers(app)
    init_templating(app)
    _register_blueprints(app)

    from service.jobs.imports import init_import_runner

    init_import_runner(app)

    from service.jobs.exports import init_export_runner

    init_export_runner(app)

    from service.cli import register_cli

    register_cli(app)
    return app


def use_jobs_database(app: Flask) -> None:
    """Point ``app``'s sessions at JOBS_DATABASE_URL: the scheduler and the CLI, not the web.

    On PostgreSQL that is the jobs role (README, "Tenancy on PostgreSQL"). Without a URL of its
    own, or once done, nothing changes.
    """
    config = app.config["CALRECALL"]
    if config.jobs_url == config.database_url or app.extensions.get("calrecall.jobs_database"):
        return
    engine = make_engine(config.jobs_url)
    app.extensions["calrecall.engine"] = engine
    app.extensions["calrecall.sessions"] = make_session_factory(engine)
    app.extensions["calrecall.jobs_database"] = True


def _register_blueprints(app: Flask) -> None:
    from service.api import bp as api_bp
    from service.assistance.views import bp as assistance_bp
    from service.auth.views import bp as auth_bp
    from service.ledger.views import bp as ledger_bp
    from service.ledger_io.views import bp as imports_bp
    from service.measurement.blueprint import bp as measurement_bp
    from service.measurement.checks import views as _check_views  # noqa: F401 (pages join measurement)
    from service.measurement.comparisons import views as _comparison_views  # noqa: F401 (its pages join bp)
    from service.measurement.projects import views as _project_views  # noqa: F401 (joins measurement_bp)
    from service.measurement.stability import views as _stability_views  # noqa: F401 (joins measurement_bp)
    from service.nominations import (  # noqa: F401 (their pages join the nominations blueprint)
        award_views,
        recommender_views,
        review_views,
    )
    from service.nominations.views import bp as nominations_bp
    from service.nonconformity.views import bp as nonconformity_bp
    from service.orders.views import bp as orders_bp
    from service.reminders.feed_views import bp as feed_bp
    from service.reminders.views import bp as reminders_bp
    from service.reminders.webhook_views import bp as webhooks_bp
    from service.reports import (
        institute_views,  # noqa: F401 (its pages join the reports blueprint)
        plan_views,  # noqa: F401 (its pages join the reports blueprint)
    )
    from service.reports import views as _report_views  # noqa: F401 (its pages join the reports blueprint)
    from service.reports.blueprint import bp as reports_bp
    from service.tenancy.views import bp as tenancy_bp
    from service.traceability.check_views import bp as check_bp
    from service.traceability.standards_views import bp as standards_bp
    from service.traceability.views import bp as records_bp
    from service.visits.board_views import bp as institute_bp
    from service.visits.views import bp as visits_bp
    from service.web.main import bp as main_bp
    from service.web.vendor import bp as vendor_bp

    for bp in (
        main_bp,
        auth_bp,
        ledger_bp,
        imports_bp,
        records_bp,
        check_bp,
        standards_bp,
        nonconformity_bp,
        measurement_bp,
        nominations_bp,
        visits_bp,
        orders_bp,
        tenancy_bp,
        institute_bp,
        assistance_bp,
        reminders_bp,
        feed_bp,
        webhooks_bp,
        vendor_bp,
        reports_bp,
    ):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)
    # Twilio signs its callbacks instead (X-Twilio-Signature); there is no session to forge.
    csrf.exempt(webhooks_bp)
    app.register_blueprint(api_bp)
