"""Attachment files of calibration records: content-addressed storage, type checks, download headers.

The pure file-handling layer: no Flask request, no database. The caller checks tenancy, keeps the
row (``sha256``, ``size``, ``mime``, ``filename``) and serves ``path_of(root, sha256)`` with
``download_headers(...)``. ``root`` must lie outside the web root; files are named by their SHA-256
only, so the user's filename never reaches the file system.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from service.errors import invalid_field
from service.i18n import N_, Msg

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # per file
ALLOWED = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}

FILE_MODE = 0o640
DIR_MODE = 0o750
#: The longest filename kept, extension included, in characters.
MAX_NAME = 120

_CHUNK = 64 * 1024
#: Enough leading bytes for every signature in :func:`sniff` (PNG's is the longest).
_SNIFF_BYTES = 8
#: A complete PDF ends with ``%%EOF`` within its last 1024 bytes (ISO 32000-1, 7.5.5).
_PDF_TAIL = 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHARD = re.compile(r"[0-9a-f]{2}")
#: A trailing extension to replace: a dot, a letter, up to four more letters or digits. "v1.5" and
#: "2025.03.01" keep their dotted numbers.
_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
_QUOTES = frozenset("\"'`")
#: Characters Windows refuses in filenames; replaced so a download saves under the name shown.
_RESERVED = frozenset("<>:|?*")


#: An upload as a view hands it on: the stream and the filename the browser sent.
Upload = tuple[BinaryIO, str | None]


class RejectedFile(Exception):
    """A file refused, with a translatable message (service.i18n.N_ Msg) in .message."""

    def __init__(self, message: Msg) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class StoredFile:
    """An attachment stored under its content hash."""

    sha256: str  #: hex digest of the content
    size: int
    mime: str  #: one of ALLOWED, sniffed from the bytes
    filename: str  #: the user's filename, cleaned, extension corrected to the sniffed type


def store_uploads(
    root: Path | None, uploads: Iterable[Upload], field: str = "attachments"
) -> list[StoredFile]:
    """Store each upload and return them; a refused one is an :class:`Invalid` on ``field.N``."""
    stored = []
    for index, (stream, filename) in enumerate(uploads):
        if root is None:
            raise RuntimeError("uploads need a storage directory")
        try:
            stored.append(store(root, stream, filename))
        except RejectedFile as exc:
            raise invalid_field(f"{field}.{index}", exc.message) from exc
    return stored


def sniff(head: bytes) -> str | None:
    """Return the MIME type from the first bytes, or None when it is not an accepted type."""
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    return None


def safe_filename(name: str | None, mime: str) -> str:
    """Return ``name`` cleaned for display and download, with the extension of ``mime``."""
    if mime not in ALLOWED:
        raise ValueError(f"not an accepted type: {mime!r}")
    ext = ALLOWED[mime]
    stem = _SUFFIX.sub("", _clean(name))
    # Dots and spaces at either end: hidden files, "..", names Windows trims on saving.
    stem = stem.strip(" .")
    stem = stem[: MAX_NAME - len(ext)].rstrip(" .")
    return (stem or "attachment") + ext


def safe_stem(name: str | None) -> str:
    """Return ``name`` (a unit's name, say) cleaned to be part of a download's filename."""
    text = (name or "").replace("/", "_").replace("\\", "_")
    return _clean(text)[: MAX_NAME - 20].strip(" .")


def store(root: Path, stream: BinaryIO, filename: str | None, max_bytes: int = MAX_BYTES) -> StoredFile:
    """Store an upload under its content hash in ``root`` and return what was stored.

    Raises :class:`RejectedFile` when the upload is empty, larger than ``max_bytes``, not a PDF, PNG
    or JPEG by its bytes, or a PDF without its end marker.
    """
    root = Path(root)
    _make_dir(root, parents=True)
    # The temp file lives in root so that os.replace stays on one file system, hence atomic. Its
    # dotted name can never be a stored path (two hex characters, then 64).
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=root)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), FILE_MODE)  # mkstemp creates 0o600
            sha256, size, mime = _copy(stream, out, max_bytes)
            out.flush()
            os.fsync(out.fileno())
        shard = root / sha256[:2]
        _make_dir(shard)
        target = shard / sha256
        if target.exists():
            tmp.unlink()  # the same content is stored already
            os.utime(target)  # and wanted again now: the orphan sweep counts its age from here
        else:
            # A concurrent upload of the same bytes may win the race; replacing identical content
            # with identical content is harmless.
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StoredFile(sha256=sha256, size=size, mime=mime, filename=safe_filename(filename, mime))


def stored_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(sha256, path)`` for every file stored under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return
    for shard in sorted(root.iterdir()):
        if not (shard.is_dir() and _SHARD.fullmatch(shard.name)):
            continue
        for path in sorted(shard.iterdir()):
            if _SHA256.fullmatch(path.name) and path.name.startswith(shard.name) and path.is_file():
                yield path.name, path


def leftover_uploads(root: Path) -> list[Path]:
    """Return the temporary files of uploads that never finished (a process killed mid-copy)."""
    root = Path(root)
    return sorted(root.glob(".upload-*")) if root.is_dir() else []


def path_of(root: Path, sha256: str) -> Path:
    """Return the stored file's path; refuse (ValueError) anything but 64 lowercase hex characters."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return Path(root) / sha256[:2] / sha256


def download_headers(stored_filename: str, mime: str, inline: bool = False) -> dict[str, str]:
    """Return the response headers for serving a stored file.

    ``inline`` shows a PDF or image in the browser instead of downloading it. A type that is not
    accepted (which storing never records) is served as an ``application/octet-stream`` download.
    """
    if mime not in ALLOWED:
        mime, inline = "application/octet-stream", False
    name = _clean(stored_filename).strip(" .") or "attachment" + ALLOWED.get(mime, "")
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Type": mime,
        # filename= for old clients, filename*= (RFC 6266, RFC 5987) for the real, often Chinese, name.
        "Content-Disposition": (
            f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        # Even if a browser renders the bytes as a document, it runs no script in our origin.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=0",
    }


def _copy(stream: BinaryIO, out: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
    """Copy ``stream`` to ``out`` in chunks, checking it as it goes; return (sha256, size, mime)."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    tail = b""
    mime = None
    while True:
        # Never ask for more than one byte past the limit: that byte is enough to refuse.
        chunk = stream.read(min(_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise RejectedFile(N_("The file is larger than %(limit)s MB.", limit=_megabytes(max_bytes)))
        if mime is None:
            head = (head + chunk)[:_SNIFF_BYTES]
            if len(head) >= _SNIFF_BYTES:
                mime = _accepted(head)  # refuse before reading the rest of a foreign file
        digest.update(chunk)
        out.write(chunk)
        tail = (tail + chunk[-_PDF_TAIL:])[-_PDF_TAIL:]
    if size == 0:
        raise RejectedFile(N_("The file is empty."))
    if mime is None:
        mime = _accepted(head)  # shorter than the longest signature
    if mime == "application/pdf" and b"%%EOF" not in tail:
        raise RejectedFile(N_("The PDF file is incomplete."))
    return digest.hexdigest(), size, mime


def _accepted(head: bytes) -> str:
    """Return the sniffed type of ``head`` or refuse the file."""
    mime = sniff(head)
    if mime is None:
        log.info("attachment refused: leading bytes %r", head)
        raise RejectedFile(N_("Only PDF, PNG and JPEG files are accepted; this file is not one of them."))
    return mime


def _make_dir(path: Path, parents: bool = False) -> None:
    """Create ``path`` with DIR_MODE unless it exists; an existing directory keeps its mode."""
    try:
        path.mkdir(mode=DIR_MODE, parents=parents)
    except FileExistsError:
        return
    os.chmod(path, DIR_MODE)  # mkdir's mode is masked by the umask


def _megabytes(limit: int) -> int | float:
    """Return ``limit`` bytes in MB, as an integer when it is a whole number."""
    mb, rest = divmod(limit, 1024 * 1024)
    return mb if not rest else round(limit / (1024 * 1024), 2)


def _clean(name: str | None) -> str:
    """Return the last path component of ``name`` without control characters, quotes or runs of spaces."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]  # both separators, whatever the uploader's system
    chars = []
    for char in text:
        category = unicodedata.category(char)
        if char in _QUOTES or category in ("Cf", "Cs", "Co"):  # Cf: e.g. U+202E, which reverses text
            continue
        if category in ("Cc", "Zl", "Zp"):  # newlines, tabs, NUL
            chars.append(" ")
        elif char in _RESERVED:
            chars.append("_")
        else:
            chars.append(char)
    return " ".join("".join(chars).split())


def _ascii_fallback(name: str) -> str:
    """Return an ASCII version of ``name`` for the plain ``filename=`` parameter."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    # "%" because some clients percent-decode filename=; quotes and backslashes end the quoted string.
    text = " ".join("".join(c for c in text if c.isprintable() and c not in '"\\%').split())
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    stem = stem.strip(" .")
    return (stem or "attachment") + (dot + ext if ext else "")
