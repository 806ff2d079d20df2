"""Making a backup archive of a deployment, and restoring one into an empty database and folder."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import select

from models import Attachment, NominationFile, Organization
from service.backup import databases
from service.backup.archive import (
    STAGED_ATTACHMENTS,
    STAGED_DATABASE,
    BackupError,
    Manifest,
    read_archive,
    write_archive,
)
from service.db import allow_all_tenants, make_engine, make_session_factory
from service.history.chain import ChainReport, verify_chain
from service.migrations import SCRIPT_LOCATION
from service.traceability.files import DIR_MODE, path_of, stored_files

log = logging.getLogger(__name__)


def app_version() -> str:
    """Return the installed application's version."""
    try:
        return version("calrecall")
    except PackageNotFoundError:
        return "unknown"


def create_backup(
    database_url: str, attachments_dir: Path, out: Path, now: datetime | None = None
) -> Manifest:
    """Write one archive of the database at ``database_url`` and the files under ``attachments_dir``.

    The database is dumped first, then the files are collected: stored files are never changed,
    and one the dump names cannot be swept away meanwhile (the orphan sweep spares young files
    and files any row names), so every file the dump refers to is in the archive. A file stored
    after the dump comes along too, harmlessly (the sweep removes it once nothing names it).
    """
    out = Path(out)
    if not out.parent.is_dir():
        raise BackupError(f"the folder {out.parent} does not exist")
    kind = databases.kind_of(database_url)
    head = databases.migration_head(database_url)
    if head is None:
        raise BackupError(
            f"{databases.safe_url(database_url)} has no schema (no alembic_version): is DATABASE_URL right?"
        )
    manifest = Manifest(
        database=kind,
        migration_head=head,
        app_version=app_version(),
        created_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )
    # The dump is staged beside the archive: /tmp may be too small for it.
    with tempfile.TemporaryDirectory(prefix=".calrecall-backup-", dir=out.parent) as work:
        dump_file = Path(work) / "dump"
        databases.dump(database_url, dump_file)
        write_archive(out, manifest, dump_file, stored_files(Path(attachments_dir)))
    log.info("backup %s: %s database at %s, %s files", out, kind, head, len(manifest.attachments))
    return manifest


@dataclass
class RestoreReport:
    """What a restore did, and what verifying the restored deployment found."""

    manifest: Manifest
    #: Each organisation's slug and the outcome of verifying its hash chain.
    chains: list[tuple[str, ChainReport]] = field(default_factory=list)
    #: Attachment hashes the database names whose file is not in the restored folder.
    missing_files: list[str] = field(default_factory=list)
    #: This version's migration head when the restored schema is older (``flask db upgrade`` next).
    upgrade_to: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every chain verified and every named file is there."""
        return all(report.ok for _, report in self.chains) and not self.missing_files


def restore_backup(archive: Path, into: str, attachments_dir: Path) -> RestoreReport:
    """Restore ``archive`` into the empty database ``into`` and the empty folder ``attachments_dir``.

    Refuses (:class:`BackupError`, nothing changed) a missing or damaged archive, one made by a
    newer version or from another kind of database, and a target database or folder that is not
    empty. Then checks every member against the manifest before restoring anything, restores the
    database (PostgreSQL: in one transaction), moves the files into place and verifies the result:
    every organisation's hash chain, and every file the database names.
    """
    archive, attachments_dir = Path(archive), Path(attachments_dir)
    if not archive.is_file():
        raise BackupError(f"no such archive: {archive}")
    kind = databases.kind_of(into)
    _refuse_non_empty_folder(attachments_dir)
    if not databases.is_empty(into):
        raise BackupError(
            f"the target database {databases.safe_url(into)} is not empty: restore into a new, empty database"
        )
    attachments_dir.parent.mkdir(parents=True, exist_ok=True)
    # Staged beside the target folder, on its file system: moving the files in is a rename.
    staging = Path(tempfile.mkdtemp(prefix=".calrecall-restore-", dir=attachments_dir.parent))
    try:
        manifest = read_archive(archive, staging)
        if manifest.database != kind:
            raise BackupError(
                f"the archive holds a {manifest.database} database and the target is {kind}:"
                f" restore it into a {manifest.database} database (moving between kinds is not supported)"
            )
        upgrade_to = _check_head(manifest.migration_head)
        databases.restore(staging / STAGED_DATABASE, into)
        _move_files(staging / STAGED_ATTACHMENTS, attachments_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report = verify_deployment(into, attachments_dir, manifest)
    report.upgrade_to = upgrade_to
    return report


def _refuse_non_empty_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"{folder} is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise BackupError(f"the attachments folder {folder} is not empty: restore into a new, empty folder")


def _check_head(head: str | None) -> str | None:
    """Refuse a schema this version does not know; return this version's head when it is newer."""
    script = ScriptDirectory(str(SCRIPT_LOCATION))
    current = script.get_current_head()
    if head is None:
        raise BackupError("the archive's manifest names no migration head")
    try:
        known = script.get_revision(head)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"the archive's schema is at migration {head!r}, which this version does not know (its head"
            f" is {current}): restore it with the version that made it, or a newer one"
        )
    return current if head != current else None


def _move_files(staged: Path, target: Path) -> None:
    if not staged.is_dir():
        target.mkdir(mode=DIR_MODE, exist_ok=True)
        return
    if not target.exists():
        os.replace(staged, target)
        os.chmod(target, DIR_MODE)
        return
    for shard in sorted(staged.iterdir()):
        os.replace(shard, target / shard.name)


def verify_deployment(database_url: str, attachments_dir: Path, manifest: Manifest) -> RestoreReport:
    """Verify every organisation's hash chain and that every file the database names is on disk."""
    engine = make_engine(database_url)
    report = RestoreReport(manifest)
    try:
        with make_session_factory(engine)() as session:
            allow_all_tenants(session)
            orgs = session.execute(select(Organization.id, Organization.slug).order_by(Organization.id)).all()
            report.chains = [(slug, verify_chain(session, org_id)) for org_id, slug in orgs]
            named: set[str] = set()
            for column in (Attachment.sha256, NominationFile.sha256):
                statement = select(column).distinct().execution_options(all_tenants=True)
                named.update(session.scalars(statement))
    finally:
        engine.dispose()
    report.missing_files = sorted(sha for sha in named if not _stored(attachments_dir, sha))
    return report


def _stored(root: Path, sha256: str) -> bool:
    try:
        return path_of(root, sha256).is_file()
    except ValueError:
        return False
