"""The command line, all through ``flask --app wsgi``: db, demo, org, user, token, history."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from models import Organization, User
from service.actors import Actor
from service.auth.operations import DEFAULT_TOKEN_DAYS, NEVER, TOKEN_LIFETIMES, create_api_token
from service.db import unit_of_work
from service.errors import DomainError
from service.history.chain import verify_chain
from service.i18n import Msg
from service.tenancy import operations as tenancy_ops


def _sessions():
    return current_app.extensions["calrecall.sessions"]


def _text(message) -> str:
    return message.render() if isinstance(message, Msg) else str(message)


def _fail(exc: DomainError) -> None:
    """Print a domain error with its field messages and exit non-zero."""
    click.echo(f"error: {_text(exc.message)}", err=True)
    for field, messages in exc.field_errors.items():
        for message in messages:
            click.echo(f"  {field}: {_text(message)}", err=True)
    sys.exit(2)


def _planner_actor(session, org: Organization) -> Actor:
    """Return the institute acting through the command line (its first administrator's rights)."""
    admin = session.scalar(
        select(User)
        .where(User.org_id == org.id, User.role == "admin", User.is_active.is_(True))
        .order_by(User.id)
    )
    if admin is None:
        click.echo(f"error: {org.slug!r} has no active administrator", err=True)
        sys.exit(2)
    return Actor.of(admin)


def _org(session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        click.echo(f"error: no organisation with slug {slug!r}", err=True)
        sys.exit(2)
    return org


def register_cli(app: Flask) -> None:
    """Attach the command groups to ``app``."""

    @app.cli.group("db")
    def db_group():
        """Database schema."""

    @db_group.command("upgrade")
    @click.option("--revision", default="head", show_default=True)
    def db_upgrade(revision: str):
        """Create or migrate the schema (Alembic)."""
        from service.migrations import upgrade

        upgrade(current_app.extensions["calrecall.engine"], revision)
        click.echo(f"schema at {revision}")

    @app.cli.command("demo")
    def demo():
        """Load the demo institute, two client firms, users of every role and a few hundred instruments."""
        from service.demo import DEMO_PASSWORD, load_demo

        with unit_of_work(_sessions()) as session:
            created, logins = load_demo(session, current_app.config["CALRECALL"].fixed_base_url)
        click.echo("demo data loaded" if created else "demo data already present")
        if created:
            from service.jobs.reminders import run_planning

            # Today's reminders go to the outbox at once; the scheduler or `reminders tick` sends them.
            planned = run_planning(current_app)
            click.echo(f"today's reminders planned: {planned['messages']} messages in the outbox")
        configured = current_app.config["CALRECALL"].base_url
        where = f" at {configured}" if configured else " at the address `flask run` serves"
        click.echo(f"sign in{where} with any of these (password: {DEMO_PASSWORD}):")
        for org_name, email, role in logins:
            click.echo(f"  {email:<32} {role:<11} {org_name}")

    @app.cli.command("scheduler")
    def scheduler():
        """Run the background jobs in the foreground (one process; never inside web workers)."""
        from service.jobs.schedule import build_scheduler

        runner = build_scheduler(current_app._get_current_object())
        config = current_app.config["CALRECALL"]
        if not config.base_url:
            click.echo(
                f"BASE_URL is not set: links in reminders will point at {config.fixed_base_url};"
                " set BASE_URL to the site's address",
                err=True,
            )
        for job in runner.get_jobs():
            click.echo(f"scheduled {job.id}: {job.trigger}")
        try:
            runner.start()
        except (KeyboardInterrupt, SystemExit):
            click.echo("scheduler stopped")

    @app.cli.command("housekeeping")
    def housekeeping():
        """Delete old sign-in records, long-dead links, abandoned uploads and orphan attachment files now."""
        from service.clock import now_utc
        from service.jobs.housekeeping import run_housekeeping

        attachments = Path(current_app.config["CALRECALL"].attachments_dir)
        click.echo(json.dumps(run_housekeeping(_sessions(), now_utc(), attachments)))

    @app.cli.group("org")
    def org_group():
        """Organisations."""

    @org_group.command("create")
    @click.option("--slug", required=True)
    @click.option("--name", required=True)
    @click.option("--kind", type=click.Choice(["firm", "institute"]), required=True)
    @click.option("--credit-code", default=None)
    def org_create(slug: str, name: str, kind: str, credit_code: str | None):
        """Register an organisation."""
        try:
            with unit_of_work(_sessions()) as session:
                org = tenancy_ops.create_org(
                    session, {"slug": slug, "name": name, "kind": kind, "credit_code": credit_code}
                )
                click.echo(f"created {org.kind} {org.slug} (id {org.id})")
        except DomainError as exc:
            _fail(exc)

    @org_group.command("link")
    @click.option("--institute", required=True, help="slug of the institute")
    @click.option("--firm", required=True, help="slug of the client firm")
    def org_link(institute: str, firm: str):
        """Link an institute to a client firm."""
        try:
            with unit_of_work(_sessions()) as session:
                tenancy_ops.link_client(session, _org(session, institute).id, _org(session, firm).id)
                click.echo(f"linked {institute} -> {firm}")
        except DomainError as exc:
            _fail(exc)

    @app.cli.group("user")
    def user_group():
        """Users."""

    @user_group.command("create")
    @click.option("--org", "org_slug", required=True)
    @click.option("--email", required=True)
    @click.option("--role", required=True)
    @click.option("--password", required=True)
    @click.option("--mobile", default=None)
    @click.option("--name", default=None)
    def user_create(
        org_slug: str, email: str, role: str, password: str, mobile: str | None, name: str | None
    ):
        """Create a user with a password."""
        try:
            with unit_of_work(_sessions()) as session:
                org = _org(session, org_slug)
                user = tenancy_ops.create_user(
                    session,
                    org,
                    {"email": email, "role": role, "mobile": mobile, "name": name or email.split("@")[0]},
                    password,
                )
                click.echo(f"created {user.email} ({user.role}) in {org.slug}")
        except DomainError as exc:
            _fail(exc)

    @app.cli.group("token")
    def token_group():
        """API tokens."""

    @token_group.command("create")
    @click.option("--org", "org_slug", required=True)
    @click.option("--email", required=True)
    @click.option("--name", default="cli", show_default=True)
    @click.option(
        "--days",
        type=click.Choice([*(str(d) for d in TOKEN_LIFETIMES), NEVER]),
        default=str(DEFAULT_TOKEN_DAYS),
        show_default=True,
        help="how long it works",
    )
    def token_create(org_slug: str, email: str, name: str, days: str):
        """Create an API token for a user and print it (shown once)."""
        try:
            with unit_of_work(_sessions()) as session:
                org = _org(session, org_slug)
                user = session.scalar(select(User).where(User.org_id == org.id, User.email == email.lower()))
                if user is None:
                    click.echo(f"error: no user {email} in {org_slug}", err=True)
                    sys.exit(2)
                _api_token, token = create_api_token(session, Actor.of(user), name, days)
            click.echo(token)
        except DomainError as exc:
            _fail(exc)

    @app.cli.group("visits")
    def visits_group():
        """The institute's calibration visits."""

    @visits_group.command("plan")
    @click.option("--org", "org_slug", required=True, help="slug of the institute")
    @click.option("--from", "start", required=True, help="first day, YYYY-MM-DD")
    @click.option("--days", required=True, help="how many days the plan covers")
    def visits_plan(org_slug: str, start: str, days: str):
        """Propose visits to the linked clients as JSON (writes nothing)."""
        from service.schemas import load_or_invalid
        from service.visits.proposals import propose
        from service.visits.schemas import PlanIn

        with unit_of_work(_sessions()) as session:
            org = _org(session, org_slug)
            if org.kind != "institute":
                click.echo(f"error: {org_slug!r} is not an institute", err=True)
                sys.exit(2)
            try:
                window = load_or_invalid(PlanIn(), {"from": start, "days": days})
                proposal = propose(session, _planner_actor(session, org), window["start"], window["days"])
            except DomainError as exc:
                _fail(exc)
            click.echo(json.dumps(proposal.as_json(), ensure_ascii=False))

    @app.cli.group("history")
    def history_group():
        """The hash-chained history."""

    @history_group.command("verify")
    @click.option("--org", "org_slug", required=True)
    def history_verify(org_slug: str):
        """Check an organisation's hash chain; exit 1 and name the first broken event."""
        with unit_of_work(_sessions()) as session:
            report = verify_chain(session, _org(session, org_slug).id)
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "broken_seq": report.broken_seq,
                    "reason": report.reason,
                },
                ensure_ascii=False,
            )
        )
        if not report.ok:
            sys.exit(1)

    @app.cli.group("ledger")
    def ledger_group():
        """Ledger import and export."""

    def _header_map(_ctx, _param, values: tuple[str, ...]) -> dict[str, str | None]:
        from service.ledger_io.importer import header_map_field

        pairs = {}
        for value in values:
            header, _, name = value.rpartition("=")
            if not header.strip():
                raise click.BadParameter(f"expected HEADER=field, got {value!r}")
            try:
                pairs[header.strip()] = header_map_field(name.strip())
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None
        return pairs

    @ledger_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--org", "org_slug", required=True, help="slug of the organisation whose ledger this is")
    @click.option("--dry-run", is_flag=True, help="report what the import would do and write nothing")
    @click.option("--sheet", help="the worksheet to read (default: the one with the best ledger header)")
    @click.option(
        "--header-row",
        type=click.IntRange(1, 1_048_576),
        help="the header's row number, as the sheet shows it",
    )
    @click.option(
        "--map",
        "header_map",
        multiple=True,
        metavar='"HEADER=field"',
        callback=_header_map,
        help="read the column HEADER as field (an instrument field name, notes or ignore); repeatable",
    )
    def ledger_import(
        file: Path,
        org_slug: str,
        dry_run: bool,
        sheet: str | None,
        header_row: int | None,
        header_map: dict[str, str | None],
    ):
        """Import a ledger (.xlsx, .xls, .ods, .csv); print a JSON summary, exit 2 if the file is unusable."""
        from babel.support import Translations

        from service.clock import today_in
        from service.db import scope_to_org
        from service.ledger_io.changes import KINDS
        from service.ledger_io.changes import items as change_items
        from service.ledger_io.importer import import_ledger, render

        # Ledger files and their users are Chinese: the summary speaks the Chinese catalogue.
        catalog = Translations.load(str(Path(current_app.root_path) / "translations"), ["zh_Hans_CN"])
        try:
            with unit_of_work(_sessions()) as session:
                org = _org(session, org_slug)
                scope_to_org(session, org.id)
                actor = Actor.system(org.id, org.kind, "台账导入")
                with file.open("rb") as stream:
                    report = import_ledger(
                        session,
                        actor,
                        stream,
                        file.name,
                        today_in(org.timezone),
                        dry_run=dry_run,
                        sheet=sheet,
                        header_row=header_row,
                        header_map=header_map,
                    )
        except DomainError as exc:
            click.echo(f"error: {render(exc.message, catalog.gettext)}", err=True)
            sys.exit(2)
        # What the preview page lists: every instrument created, and each update's fields before → after.
        changes = report.changes.dump()
        rows = {f"{kind}_rows": change_items(changes, kind) for kind in KINDS}
        click.echo(json.dumps({**report.as_dict(catalog.gettext), **rows}, ensure_ascii=False))

    def _filter_pairs(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
        if bad := [v for v in values if "=" not in v]:
            raise click.BadParameter(f"expected KEY=VALUE, got {bad[0]!r}")
        return dict(value.split("=", 1) for value in values)

    @ledger_group.command("export")
    @click.option("--org", "org_slug", required=True, help="slug of the organisation whose ledger this is")
    @click.option(
        "--out",
        "out_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="the file to write: xlsx, or CSV when it ends in .csv",
    )
    @click.option(
        "--filter",
        "filters",
        multiple=True,
        metavar="KEY=VALUE",
        callback=_filter_pairs,
        help="a filter of the ledger list, e.g. label=red or status=in_service (repeatable)",
    )
    def ledger_export(org_slug: str, out_path: Path, filters: dict[str, str]):
        """Export a ledger in the import template's layout; print the rows written and the path as JSON."""
        from service.clock import today_in
        from service.db import scope_to_org
        from service.ledger.queries import parse_filters
        from service.ledger_io.exporter import export_ledger

        fmt = "csv" if out_path.suffix.lower() == ".csv" else "xlsx"
        # Written beside the target and renamed at the end, so a failed export leaves no half file.
        partial = out_path.with_name(f".{out_path.name}.partial")
        try:
            # A read-only session rather than unit_of_work: its BEGIN IMMEDIATE would hold SQLite's
            # write lock for the whole export and make the web's writes wait.
            with _sessions()() as session:
                org = _org(session, org_slug)
                scope_to_org(session, org.id)
                actor = Actor.system(org.id, org.kind, "台账导出")
                with partial.open("wb") as out:
                    count = export_ledger(
                        session, actor, parse_filters(filters), today_in(org.timezone), out, fmt
                    )
            partial.replace(out_path)
        except DomainError as exc:
            _fail(exc)
        finally:
            partial.unlink(missing_ok=True)
        click.echo(json.dumps({"exported": count, "path": str(out_path)}, ensure_ascii=False))

    @app.cli.group("reminders")
    def reminders_group():
        """Reminders: plan what is due and send the outbox."""

    @reminders_group.command("tick")
    @click.option(
        "--now",
        "now_text",
        help="act as if it were this local time (YYYY-MM-DDTHH:MM, Asia/Shanghai); default: now",
    )
    def reminders_tick(now_text: str | None):
        """Plan each firm's day and dispatch the outbox once; print what happened as JSON.

        Safe to run from several processes at once: each day is planned once and each message
        sent once.
        """
        from service.jobs.reminders import run_tick

        now = None
        if now_text:
            now = _parse_local(now_text, current_app.config["CALRECALL"].default_timezone)
        click.echo(json.dumps(run_tick(current_app._get_current_object(), now), ensure_ascii=False))


def _parse_local(text: str, zone: str):
    """Return ``YYYY-MM-DDTHH:MM`` in ``zone`` as an aware datetime, or exit with a message."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        parsed = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        click.echo(f"error: --now must look like 2026-12-01T09:30, not {text!r}", err=True)
        sys.exit(2)
    return parsed.replace(tzinfo=ZoneInfo(zone))
