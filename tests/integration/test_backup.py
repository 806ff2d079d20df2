"""``backup create`` and ``backup restore``: a deployment round-trips; bad archives and targets are refused.

These tests work on databases of their own (a SQLite file, or on PostgreSQL a scratch database
created and dropped here), never the suite's rolled-back one: a dump sees only committed data.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from models import Base, CalibrationRecord, Organization
from service.app import create_app
from service.backup.archive import MANIFEST
from service.backup.databases import BackupError, find_pg_tool
from service.config import Config
from service.db import allow_all_tenants, make_engine, make_session_factory
from service.migrations import SCRIPT_LOCATION
from tests.conftest import TEST_DATABASE_URL
from tests.files import pdf_bytes, png_bytes

DEMO_USER = "metrology@firm-a.example.cn"


def _pg_tools_missing() -> str | None:
    try:
        find_pg_tool("pg_dump")
        find_pg_tool("pg_restore")
    except BackupError as exc:
        return str(exc)
    return None


if TEST_DATABASE_URL and (_missing := _pg_tools_missing()):
    pytest.skip(f"PostgreSQL backups need pg_dump and pg_restore: {_missing}", allow_module_level=True)


class Scratch:
    """Empty databases of the suite's kind, dropped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.created: list[str] = []

    def new(self, tag: str) -> str:
        if not TEST_DATABASE_URL:
            return f"sqlite:///{self.folder / f'{tag}-{uuid.uuid4().hex[:8]}.sqlite3'}"
        name = f"ops_backup_{tag}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.created:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _admin(statement: str) -> None:
        engine = create_engine(make_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()


def _config(url: str, folder: Path) -> Config:
    return Config(
        database_url=url,
        attachments_dir=str(folder / "attachments"),
        secret_key="test-secret",
        csrf_enabled=False,
        email_backend="file",
        sms_backend="file",
        notify_file=str(folder / "notifications.jsonl"),
        base_url="http://testserver",
        import_runner="inline",
        export_runner="inline",
    )


class Deployment:
    """An application on a database and an attachments folder of its own, as a server would run it."""

    def __init__(self, url: str, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.url, self.folder = url, folder
        self.attachments = folder / "attachments"
        self.app = create_app(_config(url, folder))
        self.app.config["TESTING"] = True

    def run(self, *args: str):
        return self.app.test_cli_runner().invoke(args=list(args))

    def close(self) -> None:
        self.app.extensions["calrecall.engine"].dispose()


def _tables(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))
                ]
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    scratch = Scratch(tmp_path_factory.mktemp("backup-db"))
    yield scratch
    if TEST_DATABASE_URL:
        scratch.drop_all()


@pytest.fixture(scope="module")
def made(scratch, tmp_path_factory):
    """The demo deployment with two files attached to a record, its archive and what it held."""
    folder = tmp_path_factory.mktemp("source")
    source = Deployment(scratch.new("source"), folder)
    try:
        assert source.run("db", "upgrade").exit_code == 0
        demo = source.run("demo")
        assert demo.exit_code == 0, demo.output
        token = source.run("token", "create", "--org", "demo-firm-a", "--email", DEMO_USER).output.strip()
        headers = {"Authorization": f"Bearer {token}"}
        engine = make_engine(source.url)
        with make_session_factory(engine)() as session:
            allow_all_tenants(session)
            firm = session.scalar(select(Organization.id).where(Organization.slug == "demo-firm-a"))
            record_id = session.scalar(
                select(CalibrationRecord.id)
                .where(CalibrationRecord.org_id == firm)
                .order_by(CalibrationRecord.id)
            )
        engine.dispose()
        files = {"certificate.pdf": pdf_bytes(b"% certificate 2026-0042\n"), "photo.png": png_bytes()}
        uploaded = source.app.test_client().post(
            f"/api/v1/records/{record_id}/attachments",
            headers=headers,
            data={"file": [(io.BytesIO(body), name) for name, body in files.items()]},
            content_type="multipart/form-data",
        )
        assert uploaded.status_code == 201, uploaded.json
        attachments = {item["id"]: files[item["filename"]] for item in uploaded.json["items"]}
        archive = folder / "calrecall-backup.tar.gz"
        created = source.run("backup", "create", "--out", str(archive))
        assert created.exit_code == 0, created.output
        summary = json.loads(created.output)
        tables = _tables(source.url)
    finally:
        source.close()
    return {
        "archive": archive,
        "summary": summary,
        "tables": tables,
        "attachments": attachments,
        "headers": headers,
        "tool": source,
    }


def _restore(made, archive: Path, into: str, folder: Path):
    return made["tool"].run(
        "backup", "restore", str(archive), "--into", into, "--attachments-dir", str(folder)
    )


def test_a_populated_deployment_round_trips(made, scratch, tmp_path):
    summary = made["summary"]
    assert summary["database"] == ("postgresql" if TEST_DATABASE_URL else "sqlite")
    assert summary["attachment_files"] == 2
    assert summary["migration_head"] == ScriptDirectory(str(SCRIPT_LOCATION)).get_current_head()
    assert made["archive"].stat().st_mode & 0o777 == 0o600  # it holds every password hash
    with tarfile.open(made["archive"]) as tar:
        manifest = json.loads(tar.extractfile(MANIFEST).read())
    assert (manifest["format"], manifest["format_version"], manifest["database"]) == (
        "calrecall-backup",
        1,
        summary["database"],
    )
    assert len(manifest["files"]) == 3
    assert all(len(item["sha256"]) == 64 for item in manifest["files"])

    into = scratch.new("restored")
    restored = _restore(made, made["archive"], into, tmp_path / "restored" / "attachments")

    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    assert report["ok"] is True
    assert report["missing_files"] == []
    chains = {item["org"]: item for item in report["history"]}
    assert set(chains) == {"demo-institute", "demo-firm-a", "demo-firm-b"}
    assert all(item["ok"] and item["checked"] > 0 for item in chains.values())
    # Every row of every table, exactly.
    tables = _tables(into)
    assert tables == made["tables"]
    assert len(tables["instruments"]) > 200
    assert len(tables["attachments"]) == 2
    # The restored deployment serves the files, byte for byte, to the restored token.
    server = Deployment(into, tmp_path / "restored")
    try:
        client = server.app.test_client()
        for attachment_id, body in made["attachments"].items():
            with client.get(f"/api/v1/attachments/{attachment_id}", headers=made["headers"]) as response:
                assert response.status_code == 200
                assert response.data == body
        assert server.run("history", "verify", "--org", "demo-firm-a").exit_code == 0
    finally:
        server.close()


def test_a_target_database_with_tables_is_refused(made, scratch, tmp_path):
    into = scratch.new("busy")
    busy = Deployment(into, tmp_path / "busy")
    try:
        assert busy.run("db", "upgrade").exit_code == 0
    finally:
        busy.close()
    before = _tables(into)

    refused = _restore(made, made["archive"], into, tmp_path / "files")

    assert refused.exit_code == 2
    assert "is not empty" in refused.output
    assert _tables(into) == before
    assert not (tmp_path / "files").exists()


def test_a_target_folder_with_files_is_refused(made, scratch, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    into = scratch.new("empty")

    refused = _restore(made, made["archive"], into, folder)

    assert refused.exit_code == 2
    assert f"the attachments folder {folder} is not empty" in refused.output
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    _assert_untouched(into)


def _assert_untouched(url: str) -> None:
    if TEST_DATABASE_URL:
        engine = make_engine(url)
        with engine.connect() as connection:
            tables = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
            assert tables.scalar() == 0
        engine.dispose()
    else:
        assert not Path(make_url(url).database).exists()


def _repack(source: Path, out: Path, change) -> Path:
    """Copy the archive member by member; ``change(name, data)`` returns new bytes, or None to drop it."""
    with tarfile.open(source) as tar, tarfile.open(out, "w:gz") as copy:
        for member in tar.getmembers():
            data = change(member.name, tar.extractfile(member).read())
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))
    return out


def _refused(made, scratch, tmp_path, archive: Path, *expected: str) -> str:
    into = scratch.new("target")
    folder = tmp_path / "target-files"
    result = _restore(made, archive, into, folder)
    assert result.exit_code == 2, result.output
    for words in expected:
        assert words in result.output
    # Nothing restored, nothing left behind.
    assert not folder.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".calrecall-restore-")]
    _assert_untouched(into)
    return result.output


def test_a_damaged_archive_is_refused(made, scratch, tmp_path):
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(made["archive"].read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    damaged.write_bytes(bytes(data))
    _refused(made, scratch, tmp_path, damaged, "error: ")

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(made["archive"].read_bytes()[: len(data) // 3])
    _refused(made, scratch, tmp_path, cut, "the archive is damaged or not a backup")


def test_an_altered_file_fails_its_checksum(made, scratch, tmp_path):
    def alter(name, data):
        return data + b"\n% appended" if name.startswith("attachments/") else data

    archive = _repack(made["archive"], tmp_path / "altered.tar.gz", alter)
    _refused(made, scratch, tmp_path, archive, "is damaged", "the manifest says")


def test_a_file_missing_from_the_archive_is_refused(made, scratch, tmp_path):
    dropped = []

    def drop_one(name, data):
        if name.startswith("attachments/") and not dropped:
            dropped.append(name)
            return None
        return data

    archive = _repack(made["archive"], tmp_path / "short.tar.gz", drop_one)
    _refused(made, scratch, tmp_path, archive, f"the archive lacks '{dropped[0]}'", "listed in its manifest")


def test_a_missing_archive_is_refused(made, scratch, tmp_path):
    _refused(made, scratch, tmp_path, tmp_path / "nowhere.tar.gz", "no such archive")


def _with_member(made, out: Path, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    """Copy the archive, uncompressed, with one member more."""
    with tarfile.open(made["archive"]) as original, tarfile.open(out, "w") as tar:
        for member in original.getmembers():
            tar.addfile(member, original.extractfile(member))
        tar.addfile(info, io.BytesIO(data))
    return out


def test_members_that_would_leave_the_folder_are_refused(made, scratch, tmp_path):
    escape = tarfile.TarInfo("attachments/../../victim.txt")
    escape.size = 5
    archive = _with_member(made, tmp_path / "evil.tar", escape, b"owned")
    _refused(made, scratch, tmp_path, archive, "unexpected member 'attachments/../../victim.txt'")
    assert not (tmp_path / "victim.txt").exists()

    link = tarfile.TarInfo("attachments/ab/" + "ab" * 32)
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = _with_member(made, tmp_path / "link.tar", link)
    _refused(made, scratch, tmp_path, archive, "is not a regular file")


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs a PostgreSQL archive to offer to a SQLite target")
def test_an_archive_of_the_other_database_kind_is_refused(made, tmp_path):
    other = tmp_path / "other.sqlite3"
    result = _restore(made, made["archive"], f"sqlite:///{other}", tmp_path / "files")
    assert result.exit_code == 2
    assert "moving between kinds is not supported" in result.output
    assert not other.exists()
    assert not (tmp_path / "files").exists()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("migration_head", "0999", "migration '0999', which this version does not know"),
        ("format_version", 2, "format version 2; this version of the application reads up to 1"),
    ],
)
def test_an_archive_from_a_newer_version_is_refused(made, scratch, tmp_path, field, value, words):
    def newer(name, data):
        if name != MANIFEST:
            return data
        return json.dumps(json.loads(data) | {field: value}).encode()

    archive = _repack(made["archive"], tmp_path / "newer.tar.gz", newer)
    _refused(made, scratch, tmp_path, archive, words)
