"""``ledger``: import a ledger file into an organisation's ledger, and export it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from babel.support import Translations
from flask import current_app
from flask.cli import AppGroup

from service.actors import Actor
from service.cli.common import fail, org_by_slug, sessions
from service.clock import today_in
from service.db import scope_to_org, unit_of_work
from service.errors import DomainError
from service.ledger.queries import parse_filters
from service.ledger_io.changes import KINDS
from service.ledger_io.changes import items as change_items
from service.ledger_io.exporter import export_ledger
from service.ledger_io.importer import header_map_field, import_ledger, render


@click.group("ledger", cls=AppGroup)
def ledger_group():
    """Ledger import and export."""


def _header_map(_ctx, _param, values: tuple[str, ...]) -> dict[str, str | None]:

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
    # Ledger files and their users are Chinese: the summary speaks the Chinese catalogue.
    catalog = Translations.load(str(Path(current_app.root_path) / "translations"), ["zh_Hans_CN"])
    try:
        with unit_of_work(sessions()) as session:
            org = org_by_slug(session, org_slug)
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
    fmt = "csv" if out_path.suffix.lower() == ".csv" else "xlsx"
    # Written beside the target and renamed at the end, so a failed export leaves no half file.
    partial = out_path.with_name(f".{out_path.name}.partial")
    try:
        # A read-only session rather than unit_of_work: its BEGIN IMMEDIATE would hold SQLite's
        # write lock for the whole export and make the web's writes wait.
        with sessions()() as session:
            org = org_by_slug(session, org_slug)
            scope_to_org(session, org.id)
            actor = Actor.system(org.id, org.kind, "台账导出")
            with partial.open("wb") as out:
                count = export_ledger(
                    session, actor, parse_filters(filters), today_in(org.timezone), out, fmt
                )
        partial.replace(out_path)
    except DomainError as exc:
        fail(exc)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(json.dumps({"exported": count, "path": str(out_path)}, ensure_ascii=False))
