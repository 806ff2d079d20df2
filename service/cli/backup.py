"""``backup``: one archive of the database and the attachment files, and its restore."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from service.backup.archive import BackupError


@click.group("backup", cls=AppGroup)
def backup_group():
    """Backups: the database and the attachment files in one archive."""


def _refuse(exc: BackupError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@backup_group.command("create")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the archive to write (replaced if it exists), e.g. calrecall-2026-12-04.tar.gz",
)
def backup_create(out: Path):
    """Write the database (JOBS_DATABASE_URL) and the files (ATTACHMENTS_DIR) into one archive."""
    # Imported here: web workers load the CLI with the app and have no use for Alembic's scripts.
    from service.backup.operations import create_backup

    config = current_app.config["CALRECALL"]
    try:
        manifest = create_backup(config.jobs_url, Path(config.attachments_dir), out)
    except BackupError as exc:
        _refuse(exc)
    summary = {
        "archive": str(out),
        "bytes": out.stat().st_size,
        "database": manifest.database,
        "migration_head": manifest.migration_head,
        "app_version": manifest.app_version,
        "created_at": manifest.created_at,
        "attachment_files": len(manifest.attachments),
        "database_bytes": manifest.database_entry.size,
    }
    click.echo(json.dumps(summary, ensure_ascii=False))


@backup_group.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", required=True, metavar="URL", help="the new, empty database to restore into")
@click.option(
    "--attachments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="the new, empty folder for the files (default: ATTACHMENTS_DIR)",
)
def backup_restore(archive: Path, into: str, attachments_dir: Path | None):
    """Restore an archive into an empty database and folder, then verify every organisation's history.

    Exit 2 when refused (nothing restored), 1 when the restored history or files do not verify.
    """
    from service.backup.operations import restore_backup

    folder = attachments_dir or Path(current_app.config["CALRECALL"].attachments_dir)
    try:
        report = restore_backup(archive, into, folder)
    except BackupError as exc:
        _refuse(exc)
    result = {
        "ok": report.ok,
        "database": report.manifest.database,
        "migration_head": report.manifest.migration_head,
        "created_at": report.manifest.created_at,
        "attachment_files": len(report.manifest.attachments),
        "missing_files": report.missing_files,
        "history": [
            {
                "org": slug,
                "ok": chain.ok,
                "checked": chain.checked,
                "broken_seq": chain.broken_seq,
                "reason": chain.reason,
            }
            for slug, chain in report.chains
        ],
    }
    click.echo(json.dumps(result, ensure_ascii=False))
    if report.upgrade_to:
        click.echo(
            f"the restored schema is at {report.manifest.migration_head}; this version's is"
            f" {report.upgrade_to}: run `flask --app wsgi db upgrade` against it before starting",
            err=True,
        )
    if not report.ok:
        broken = [slug for slug, chain in report.chains if not chain.ok]
        click.echo(
            f"verification failed: history broken for {broken or 'no organisation'},"
            f" {len(report.missing_files)} named files missing",
            err=True,
        )
        sys.exit(1)
