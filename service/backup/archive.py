"""The backup archive: a gzip-compressed tar file holding the database dump, the files and a manifest.

Members, every one a regular file::

    database/calrecall.sqlite3      the SQLite database (or database/calrecall.pgdump, pg_dump -Fc)
    attachments/ab/ab…              the attachment files as stored: named by their SHA-256
    manifest.json                   written last: what the archive holds

The manifest names the format and its version, the application's version, the migration head, the
database kind, when the archive was made and every other member with its size and SHA-256.

Reading accepts only those names, copies each member to a path it builds itself under a staging
folder (never a name taken from the archive, so nothing can land outside it), and checks every
member against the manifest: the same set of names, sizes and checksums, and each attachment's
content matching its name.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import secrets
import tarfile
import time
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from service.traceability.files import DIR_MODE, FILE_MODE

FORMAT = "calrecall-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: The dump's member name per database kind.
DATABASE_MEMBERS = {"sqlite": "database/calrecall.sqlite3", "postgresql": "database/calrecall.pgdump"}
#: Where the staged dump is written, inside the staging folder.
STAGED_DATABASE = "database"
STAGED_ATTACHMENTS = "attachments"
#: A manifest lists one line per file: even a million attachments stay far below this.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
#: Attachments are PDFs and images, compressed already; the database compresses well even at level 1.
COMPRESS_LEVEL = 1
ARCHIVE_MODE = 0o600

_ATTACHMENT = re.compile(r"attachments/([0-9a-f]{2})/([0-9a-f]{64})")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore was refused or failed; the message says why, for the operator."""


@dataclass(frozen=True)
class Entry:
    """A member of the archive other than the manifest."""

    path: str
    size: int
    sha256: str


@dataclass
class Manifest:
    """What an archive holds and where it comes from."""

    database: str  #: "sqlite" or "postgresql"
    migration_head: str | None
    app_version: str
    created_at: str  #: ISO 8601, UTC
    files: list[Entry] = field(default_factory=list)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def database_entry(self) -> Entry:
        """Return the dump's entry."""
        return next(entry for entry in self.files if entry.path == DATABASE_MEMBERS[self.database])

    @property
    def attachments(self) -> list[Entry]:
        """Return the attachment files' entries."""
        return [entry for entry in self.files if entry.path.startswith(STAGED_ATTACHMENTS + "/")]

    def to_json(self) -> bytes:
        """Return the manifest as the archive stores it."""
        data = asdict(self)
        head = {"format": data.pop("format"), "format_version": data.pop("format_version")}
        return json.dumps(head | data, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse and check a manifest; raise :class:`BackupError` when it is not one of ours."""
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BackupError(f"the manifest is not valid JSON ({exc})") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BackupError(f"not a {FORMAT} archive (its manifest names no such format)")
        version = raw.get("format_version")
        if not isinstance(version, int) or version < 1:
            raise BackupError("the manifest has no valid format_version")
        if version > FORMAT_VERSION:
            raise BackupError(
                f"the archive has format version {version}; this version of the application reads"
                f" up to {FORMAT_VERSION}: restore it with the version that made it"
                f" ({raw.get('app_version', 'unknown')})"
            )
        if raw.get("database") not in DATABASE_MEMBERS:
            raise BackupError(f"the manifest names an unknown database kind: {raw.get('database')!r}")
        files = raw.get("files")
        if not isinstance(files, list):
            raise BackupError("the manifest lists no files")
        entries = []
        for item in files:
            if not (
                isinstance(item, dict)
                and isinstance(item.get("path"), str)
                and isinstance(item.get("size"), int)
                and item["size"] >= 0
                and isinstance(item.get("sha256"), str)
                and _SHA256.fullmatch(item["sha256"])
            ):
                raise BackupError(f"the manifest has a malformed file entry: {item!r}")
            entries.append(Entry(item["path"], item["size"], item["sha256"]))
        head = raw.get("migration_head")
        return cls(
            database=raw["database"],
            migration_head=head if isinstance(head, str) else None,
            app_version=str(raw.get("app_version", "unknown")),
            created_at=str(raw.get("created_at", "")),
            files=entries,
            format_version=version,
        )


class _Hashing:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o640
    return info


def write_archive(
    out: Path, manifest: Manifest, dump: Path, attachments: Iterable[tuple[str, Path]]
) -> Manifest:
    """Write the archive to ``out`` (atomically: a partial file, renamed when complete).

    ``manifest`` gives the kind, head, version and time; its file list is filled in here with the
    dump and each ``(sha256, path)`` of ``attachments``, hashed as they are written.
    """
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial-{secrets.token_hex(4)}")
    manifest.files = []
    now = time.time()
    # Readable by its owner only: the archive holds every password hash and token of the site.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ARCHIVE_MODE)
    try:
        with (
            open(descriptor, "wb") as raw,
            tarfile.open(
                fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL, format=tarfile.PAX_FORMAT
            ) as tar,
        ):
            members = [(DATABASE_MEMBERS[manifest.database], dump)]
            members += ((f"{STAGED_ATTACHMENTS}/{sha256[:2]}/{sha256}", path) for sha256, path in attachments)
            for name, path in members:
                with open(path, "rb") as source:
                    size = os.fstat(source.fileno()).st_size
                    reader = _Hashing(source)
                    tar.addfile(_info(name, size, now), reader)
                manifest.files.append(Entry(name, reader.size, reader.digest.hexdigest()))
            data = manifest.to_json()
            tar.addfile(_info(MANIFEST, len(data), now), io.BytesIO(data))
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _staged_path(staging: Path, name: str) -> Path:
    """Return where member ``name`` is staged; refuse any name that is not ours."""
    if name in DATABASE_MEMBERS.values():
        return staging / STAGED_DATABASE
    found = _ATTACHMENT.fullmatch(name)
    if found and found.group(2).startswith(found.group(1)):
        # Built from the checked hex digits only: the archive's name never becomes a path.
        return staging / STAGED_ATTACHMENTS / found.group(1) / found.group(2)
    raise BackupError(f"the archive holds an unexpected member {name!r}: refused")


def read_archive(archive: Path, staging: Path) -> Manifest:
    """Copy the archive's members into ``staging`` (an empty folder) and check them; return the manifest.

    Afterwards ``staging/database`` is the dump and ``staging/attachments`` holds the files as they
    are stored. Raises :class:`BackupError` on anything unexpected: a damaged or truncated archive,
    a member not ours or not a regular file, one listed twice, missing or not listed, a size or
    checksum that differs from the manifest's.
    """
    seen: dict[str, Entry] = {}
    manifest_data: bytes | None = None
    try:
        # Stream mode: one pass over the file, members in order, whatever the compression.
        with tarfile.open(archive, "r|*") as tar:
            for member in tar:
                name = member.name
                if name in seen or (name == MANIFEST and manifest_data is not None):
                    raise BackupError(f"the archive holds {name!r} twice")
                if not member.isreg():
                    raise BackupError(f"the archive's member {name!r} is not a regular file: refused")
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError("the archive's manifest is implausibly large")
                    manifest_data = source.read()
                    continue
                target = _staged_path(staging, name)
                target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                reader = _Hashing(source)
                with open(target, "xb") as out:
                    os.fchmod(out.fileno(), FILE_MODE)
                    while chunk := reader.read(_CHUNK):
                        out.write(chunk)
                seen[name] = Entry(name, reader.size, reader.digest.hexdigest())
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"the archive is damaged or not a backup ({exc})") from None
    if manifest_data is None:
        raise BackupError(f"the archive has no {MANIFEST}: not a backup, or cut short")
    manifest = Manifest.from_json(manifest_data)
    _check_members(manifest, seen)
    return manifest


def _check_members(manifest: Manifest, seen: dict[str, Entry]) -> None:
    listed = {entry.path: entry for entry in manifest.files}
    if len(listed) != len(manifest.files):
        raise BackupError("the manifest lists a file twice")
    database = DATABASE_MEMBERS[manifest.database]
    if database not in listed:
        raise BackupError(f"the manifest does not list the {manifest.database} dump {database!r}")
    missing = sorted(set(listed) - set(seen))
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise BackupError(f"the archive lacks {missing[0]!r}{more}, listed in its manifest")
    extra = sorted(set(seen) - set(listed))
    if extra:
        raise BackupError(f"the archive holds {extra[0]!r}, which its manifest does not list")
    for name, entry in listed.items():
        got = seen[name]
        if (got.size, got.sha256) != (entry.size, entry.sha256):
            raise BackupError(
                f"{name!r} is damaged: {got.size} bytes with SHA-256 {got.sha256[:12]}…,"
                f" the manifest says {entry.size} bytes with {entry.sha256[:12]}…"
            )
        if name != database and name.rsplit("/", 1)[1] != entry.sha256:
            raise BackupError(f"{name!r} does not hold the content its name promises")
