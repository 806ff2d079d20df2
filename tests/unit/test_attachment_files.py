import hashlib
import io
import os
import stat
from contextlib import contextmanager

import pytest
from werkzeug.http import parse_options_header

from service.traceability.files import (
    ALLOWED,
    MAX_BYTES,
    RejectedFile,
    StoredFile,
    download_headers,
    path_of,
    safe_filename,
    sniff,
    store,
)
from tests.files import jpeg_bytes, pdf_bytes, png_bytes

_pdf, _png, _jpeg = pdf_bytes, png_bytes, jpeg_bytes


PDF = _pdf()
PNG = _png()
JPEG = _jpeg()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


class CountingStream:
    """An upload of ``total`` bytes, starting with ``head``, that counts what was read from it."""

    def __init__(self, head: bytes, total: int):
        self.head = head
        self.total = total
        self.served = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self.total
        size = min(size, self.total - self.served)
        start = self.served
        self.served += size
        head = self.head[start : start + size]
        return head + b"0" * (size - len(head))


class TrickleStream(io.RawIOBase):
    """A stream that returns one byte per read, as a slow client might."""

    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.inner.read(1)


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


# sniff


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"\xff\xd8\xff\xe1....Exif", "image/jpeg"),
        (EXE, None),
        (b"<!DOCTYPE html><script>alert(1)</script>", None),
        (b" %PDF-1.4", None),  # the signature must come first
        (b"%PDF", None),
        (b"\x89PNG\r\n", None),
        (b"GIF89a", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", None),
        (b"", None),
    ],
)
def test_sniff(head, mime):
    assert sniff(head) == mime


# store: accepted files


@pytest.mark.parametrize(
    ("content", "name", "mime", "filename"),
    [
        (PDF, "检定证书.pdf", "application/pdf", "检定证书.pdf"),
        (PNG, "铭牌.PNG", "image/png", "铭牌.png"),
        (JPEG, "IMG_0001.jpeg", "image/jpeg", "IMG_0001.jpg"),
        (JPEG, "scan.pdf", "image/jpeg", "scan.jpg"),  # the bytes decide the extension
        (PDF, None, "application/pdf", "attachment.pdf"),
    ],
)
def test_store_accepts_pdf_png_jpeg(tmp_path, content, name, mime, filename):
    root = tmp_path / "files"
    stored = store(root, io.BytesIO(content), name)

    sha = hashlib.sha256(content).hexdigest()
    assert stored == StoredFile(sha256=sha, size=len(content), mime=mime, filename=filename)
    assert path_of(root, sha) == root / sha[:2] / sha
    assert (root / sha[:2] / sha).read_bytes() == content
    assert _files(root) == [f"{sha[:2]}/{sha}"]  # no extension, no temp file left


def test_store_reads_in_chunks_across_boundaries(tmp_path):
    content = _pdf(b"%" + b"x" * 300_000 + b"\n")  # several chunks; %%EOF in the last one
    stored = store(tmp_path, io.BytesIO(content), "big.pdf")
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("content", [PDF, PNG, JPEG])
def test_store_copes_with_one_byte_reads(tmp_path, content):
    stored = store(tmp_path, TrickleStream(content), "x")
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.mime == sniff(content)


def test_store_accepts_exactly_the_limit(tmp_path):
    stream = CountingStream(PNG, 1000)
    stored = store(tmp_path, stream, "a.png", max_bytes=1000)
    assert stored.size == 1000


def test_same_content_is_stored_once(tmp_path):
    first = store(tmp_path, io.BytesIO(PDF), "证书.pdf")
    second = store(tmp_path, io.BytesIO(PDF), "copy of 证书.pdf")

    assert first.sha256 == second.sha256
    assert (first.filename, second.filename) == ("证书.pdf", "copy of 证书.pdf")
    assert _files(tmp_path) == [f"{first.sha256[:2]}/{first.sha256}"]


def test_different_content_is_stored_apart(tmp_path):
    a = store(tmp_path, io.BytesIO(PDF), "a.pdf")
    b = store(tmp_path, io.BytesIO(PNG), "b.png")
    assert a.sha256 != b.sha256
    assert len(_files(tmp_path)) == 2


# store: refusals


def _refused(root, stream, name, **kwargs) -> str:
    with pytest.raises(RejectedFile) as info:
        store(root, stream, name, **kwargs)
    assert _files(root) == []  # the temp file is gone too
    return info.value.message.render()


def test_renamed_executable_is_refused(tmp_path):
    message = _refused(tmp_path, io.BytesIO(EXE), "证书.pdf")
    assert message == "Only PDF, PNG and JPEG files are accepted; this file is not one of them."


def test_a_foreign_file_is_refused_without_reading_it_all(tmp_path):
    stream = CountingStream(EXE, 15 * 1024 * 1024)
    _refused(tmp_path, stream, "证书.pdf")
    assert stream.served <= 64 * 1024


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
        b"\n%PDF-1.4 <html><script>alert(1)</script>",  # a polyglot not starting with the signature
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"PK\x03\x04docx",
        b"\xff\xd8",  # too short to be a JPEG
    ],
)
def test_other_types_named_pdf_are_refused(tmp_path, content):
    _refused(tmp_path, io.BytesIO(content), "report.pdf")


def test_empty_file_is_refused(tmp_path):
    assert _refused(tmp_path, io.BytesIO(b""), "证书.pdf") == "The file is empty."


def test_too_large_is_refused_without_reading_the_whole_stream(tmp_path):
    stream = CountingStream(PDF, 10 * 1024 * 1024)
    with pytest.raises(RejectedFile) as info:
        store(tmp_path, stream, "big.pdf", max_bytes=1000)
    assert stream.served == 1001  # one byte past the limit is enough to know
    assert info.value.message.params == {"limit": 0.0}
    assert _files(tmp_path) == []


def test_too_large_at_the_default_limit(tmp_path):
    stream = CountingStream(PNG, MAX_BYTES + 10 * 1024 * 1024)
    message = _refused(tmp_path, stream, "photo.png")
    assert message == "The file is larger than 20 MB."
    assert stream.served == MAX_BYTES + 1


@pytest.mark.parametrize(
    "content",
    [
        PDF[: len(PDF) // 2],  # the upload broke off
        PDF[:-7],  # just before %%EOF
        PDF + b"\n" + b"x" * 2000,  # the end marker is not near the end
        b"%PDF-1.4\n",
    ],
)
def test_truncated_pdf_is_refused(tmp_path, content):
    assert _refused(tmp_path, io.BytesIO(content), "证书.pdf") == "The PDF file is incomplete."


def test_pdf_end_marker_may_be_followed_by_a_little(tmp_path):
    store(tmp_path, io.BytesIO(PDF + b"\r\n" + b"\x00" * 100), "a.pdf")


def test_rejected_file_carries_a_translatable_message(tmp_path):
    with pytest.raises(RejectedFile) as info:
        store(tmp_path, io.BytesIO(b""), "a.pdf")
    assert str(info.value) == "The file is empty."
    assert info.value.message.render(lambda s: {"The file is empty.": "文件为空。"}[s]) == "文件为空。"


# permissions


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_permissions_regardless_of_umask(tmp_path, mask):
    root = tmp_path / "attachments"
    with _umask(mask):
        stored = store(root, io.BytesIO(PDF), "a.pdf")
    path = path_of(root, stored.sha256)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    assert stat.S_IMODE(root.stat().st_mode) == 0o750


def test_an_existing_root_is_left_as_it_is(tmp_path):
    tmp_path.chmod(0o700)
    store(tmp_path, io.BytesIO(PDF), "a.pdf")
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


# safe_filename


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\temp\\证书 2025.PDF", "application/pdf", "证书 2025.pdf"),
        ("/var/www/../证书.pdf", "application/pdf", "证书.pdf"),
        ("..\\..\\boot.ini", "image/png", "boot.png"),
        ('检定"证书".pdf', "application/pdf", "检定证书.pdf"),
        ("it's `here`.pdf", "application/pdf", "its here.pdf"),
        ("a\"b'c\nd\r\te.pdf", "application/pdf", "abc d e.pdf"),
        ("x.pdf\r\nSet-Cookie: a=b", "application/pdf", "x.pdf Set-Cookie_ a=b.pdf"),
        ("a\x00b.pdf", "application/pdf", "a b.pdf"),
        ("invoice\u202efdp.exe", "application/pdf", "invoicefdp.pdf"),  # right-to-left override
        ("photo.jpeg", "image/jpeg", "photo.jpg"),
        ("photo.JPG", "image/jpeg", "photo.jpg"),
        ("scan.png", "application/pdf", "scan.pdf"),
        ("report.exe", "application/pdf", "report.pdf"),
        ("report", "application/pdf", "report.pdf"),
        ("report v1.5", "application/pdf", "report v1.5.pdf"),
        ("2025.03.01", "image/png", "2025.03.01.png"),
        ("a<b>c|d?e*f:g.pdf", "application/pdf", "a_b_c_d_e_f_g.pdf"),
        ("  spaced   out  .pdf", "application/pdf", "spaced out.pdf"),
        ("证书\u3000第1页.png", "image/png", "证书 第1页.png"),
        (".bashrc", "application/pdf", "bashrc.pdf"),
        ("...", "application/pdf", "attachment.pdf"),
        ("", "application/pdf", "attachment.pdf"),
        (None, "image/png", "attachment.png"),
        ("   ", "image/jpeg", "attachment.jpg"),
        (".pdf", "application/pdf", "attachment.pdf"),
        ("../", "application/pdf", "attachment.pdf"),
        ('"\n\t"', "application/pdf", "attachment.pdf"),
    ],
)
def test_safe_filename(name, mime, expected):
    assert safe_filename(name, mime) == expected


def test_safe_filename_composes_accents():
    assert safe_filename("Prüfbericht.pdf", "application/pdf") == "Prüfbericht.pdf"
    assert safe_filename("Pru\u0308fbericht.pdf", "application/pdf") == "Prüfbericht.pdf"


@pytest.mark.parametrize("mime", sorted(ALLOWED))
def test_safe_filename_limits_the_length(mime):
    name = safe_filename("证" * 300 + ".pdf", mime)
    assert len(name) == 120
    assert name == "证" * (120 - len(ALLOWED[mime])) + ALLOWED[mime]


def test_safe_filename_does_not_end_a_cut_name_with_a_dot_or_space():
    name = safe_filename("a" * 115 + " .  b" * 10, "application/pdf")
    assert len(name) <= 120
    assert not name[: -len(".pdf")].endswith((" ", "."))


@pytest.mark.parametrize(
    "name", ["C:\\temp\\证书 2025.PDF", "x" * 500, "a.b.c", "..", "证书.pdf", 'q"\nr.jpeg']
)
def test_safe_filename_is_idempotent(name):
    once = safe_filename(name, "application/pdf")
    assert safe_filename(once, "application/pdf") == once


def test_safe_filename_refuses_other_types():
    with pytest.raises(ValueError, match="text/html"):
        safe_filename("a.html", "text/html")


# path_of


def test_path_of(tmp_path):
    sha = hashlib.sha256(b"x").hexdigest()
    assert path_of(tmp_path, sha) == tmp_path / sha[:2] / sha


@pytest.mark.parametrize(
    "value",
    [
        "../x",
        "../" + "a" * 61,
        "a" * 62 + "/.",
        "A" * 64,
        hashlib.sha256(b"x").hexdigest().upper(),
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "g" * 64,
        "",
        "/etc/passwd",
        None,
        b"a" * 64,
    ],
)
def test_path_of_refuses_anything_but_a_digest(tmp_path, value):
    with pytest.raises(ValueError, match="SHA-256"):
        path_of(tmp_path, value)


# download_headers


def test_download_headers_for_a_chinese_name():
    headers = download_headers("检定证书.pdf", "application/pdf")
    assert headers == {
        "Content-Type": "application/pdf",
        "Content-Disposition": (
            'attachment; filename="attachment.pdf"; '
            "filename*=UTF-8''%E6%A3%80%E5%AE%9A%E8%AF%81%E4%B9%A6.pdf"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=0",
    }
    assert parse_options_header(headers["Content-Disposition"]) == (
        "attachment",
        {"filename": "检定证书.pdf"},
    )


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("证书 2025.pdf", "2025.pdf"),
        ("Prüfbericht.pdf", "Prufbericht.pdf"),
        ("calibration 100%.png", "calibration 100.png"),
        ("report.pdf", "report.pdf"),
    ],
)
def test_download_headers_ascii_fallback(name, fallback):
    disposition = download_headers(name, "application/pdf")["Content-Disposition"]
    assert f'filename="{fallback}"' in disposition
    assert parse_options_header(disposition)[1]["filename"] == name


@pytest.mark.parametrize("mime", sorted(ALLOWED))
def test_download_headers_inline(mime):
    headers = download_headers("照片" + ALLOWED[mime], mime, inline=True)
    assert headers["Content-Type"] == mime
    assert headers["Content-Disposition"].startswith("inline; filename=")
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_download_headers_never_inline_an_unknown_type():
    headers = download_headers("x.html", "text/html", inline=True)
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("name", ['evil"; filename="x.html', "a\r\nSet-Cookie: x=1.pdf", "a\\b.pdf", ""])
def test_download_headers_cannot_be_injected(name):
    headers = download_headers(name, "application/pdf")
    disposition = headers["Content-Disposition"]
    for value in headers.values():
        assert value.isascii()
        assert "\r" not in value
        assert "\n" not in value
    kind, params = parse_options_header(disposition)
    assert kind == "attachment"
    assert set(params) == {"filename"}
    assert '"' not in params["filename"]
    assert disposition.count('"') == 2
