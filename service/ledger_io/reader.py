"""Reading an uploaded spreadsheet into rows of cell values, refusing hostile or unusable files first.

Excel (.xlsx, .xlsm, .xlsb, .xls) and OpenDocument (.ods) go through python-calamine, which never
evaluates formulas: a formula cell gives the value Excel stored with it (nothing if none was
stored). CSV is decoded as UTF-8 (with or without BOM), UTF-16 with a BOM, or GB 18030, and its
delimiter is guessed. Cells come back as calamine gives them: str, float, int, bool, date,
datetime, time or timedelta; CSV cells are str.

Before anything is parsed the file must pass the limits of :class:`Limits`: its size, and for
the zip-based formats the number of parts, their total unpacked size, their compression ratio and
the absence of XML document type declarations (entity expansion), and for .xlsx the size each
worksheet declares (``<dimension ref="A1:W500"/>``): calamine materialises a sheet as a dense range,
so one cell at XFD190000 asks for about 99 GB and aborts the process. Every refusal is an
:class:`~service.errors.Invalid` whose message says what is wrong in the user's terms.

A sheet that declares no dimension, or a false one, is not caught here: uploads are read in a child
process under memory and CPU limits (:mod:`service.ledger_io.sandbox`, with the limits below).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import python_calamine

from service.errors import Invalid
from service.i18n import N_, Msg

log = logging.getLogger(__name__)

MB = 1024 * 1024
GB = 1024 * MB


@dataclass(frozen=True)
class Limits:
    """How much of a file the import accepts; tests pass small values."""

    max_bytes: int = 20 * MB
    max_rows: int = 200_000
    max_cell_chars: int = 2000
    max_zip_members: int = 10_000
    max_unpacked_bytes: int = 512 * MB
    #: Real sheets compress 10–30 times; zip bombs a thousand times and more.
    max_compression_ratio: int = 100
    #: Rows × columns a worksheet may declare: calamine holds a sheet as a dense range of them.
    max_cells: int = 20_000_000
    #: The child process that reads a file (:mod:`service.ledger_io.sandbox`): its address space,
    #: its CPU time, the size of the reading it sends back (pickled), and how long the caller waits.
    max_memory_bytes: int = 4 * GB
    max_cpu_seconds: int = 300
    max_output_bytes: int = 1 * GB
    max_wall_seconds: float = 600.0


DEFAULT_LIMITS = Limits()

#: Members smaller than this are not held to the compression ratio (tiny parts compress oddly).
_RATIO_FLOOR = MB
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_CHUNK = MB
#: A worksheet's declared extent, near the top of its part: ``<dimension ref="A1:XFD190000"/>``.
_DIMENSION = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref\s*=\s*["\'](?:\$?[A-Za-z]{1,3}\$?\d{1,7}:)?'
    rb"\$?([A-Za-z]{1,3})\$?(\d{1,7})[\"']"
)
#: How far into a part the dimension is looked for (it comes before the sheet's data).
_DIMENSION_WINDOW = 64 * 1024


def refuse(message: Msg) -> Invalid:
    """Return the error that refuses a whole file, with ``message`` under the ``file`` field."""
    return Invalid(message, {"file": [message]})


@dataclass
class Sheet:
    """One worksheet's rows, top to bottom, each a list of cell values (row 1 of the sheet first)."""

    name: str
    rows: list[list[Any]]


class Spreadsheet:
    """An opened, checked spreadsheet: its visible worksheets, read on demand."""

    def __init__(self, names: list[str], loader, limits: Limits):
        self.sheet_names = names
        self._loader = loader
        self._limits = limits

    def sheet(self, name: str) -> Sheet:
        """Return the rows of worksheet ``name``; refuse it if it has more rows than allowed."""
        rows = self._loader(name, self._limits.max_rows + 1)
        while rows and not any(_filled(c) for c in rows[-1]):
            rows.pop()
        if len(rows) > self._limits.max_rows:
            raise refuse(N_("The sheet has more than %(limit)s rows.", limit=self._limits.max_rows))
        return Sheet(name, rows)

    def head(self, name: str, rows: int) -> list[list[Any]]:
        """Return the first ``rows`` rows of worksheet ``name`` (to look for its header)."""
        return self._loader(name, rows)

    def sheets(self) -> Iterator[Sheet]:
        """Yield the visible worksheets in workbook order."""
        for name in self.sheet_names:
            yield self.sheet(name)


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def read_bytes(source: bytes | str | Path | IO[bytes], limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return the file's content, refusing it when larger than ``limits.max_bytes``."""
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | Path):
        with open(source, "rb") as f:
            data = f.read(limits.max_bytes + 1)
    else:
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise refuse(N_("The file is larger than %(limit)s MB.", limit=round(limits.max_bytes / MB, 1)))
    if not data.strip():
        raise refuse(N_("The file is empty."))
    return data


def open_spreadsheet(
    source: bytes | str | Path | IO[bytes], filename: str, limits: Limits = DEFAULT_LIMITS
) -> Spreadsheet:
    """Check and open an uploaded file; raise :class:`Invalid` when it is unusable or hostile."""
    data = read_bytes(source, limits)
    suffix = Path(filename or "").suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        check_zip(data, limits)
        return _open_workbook(data, limits)
    if data.startswith(_OLE_MAGIC):
        return _open_workbook(data, limits)
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        raise refuse(
            N_(
                "This file is a web page or XML saved under a spreadsheet name: "
                "open it in Excel and save it as .xlsx."
            )
        )
    if suffix in _TEXT_SUFFIXES:
        return _open_csv(data, filename, limits)
    raise refuse(N_("This file is not a spreadsheet: upload an .xlsx, .xls, .ods or .csv file."))


def check_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a zip container with too many parts, too much unpacked data, bomb-like compression or a DTD."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refuse(N_("The file is damaged and cannot be read.")) from None
    if len(members) > limits.max_zip_members:
        raise refuse(N_("The file has too many parts (%(count)s); it is refused.", count=len(members)))
    declared = sum(m.file_size for m in members)
    if declared > limits.max_unpacked_bytes:
        raise _bomb(limits)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > limits.max_compression_ratio:
            log.warning("refused zip member %s: ratio %.0f", member.filename, ratio)
            raise _bomb(limits)
    _unpack_and_scan(archive, members, limits)


def _bomb(limits: Limits) -> Invalid:
    return refuse(
        N_(
            "The file unpacks to far more data than a spreadsheet holds (a possible zip bomb); "
            "it is refused. At most %(limit)s MB unpacked.",
            limit=limits.max_unpacked_bytes // MB,
        )
    )


def _unpack_and_scan(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Unpack every member once, counting real bytes (headers can lie); look for a DTD and at dimensions."""
    total = 0
    try:
        for member in members:
            with archive.open(member) as stream:
                tail = b""
                while chunk := stream.read(_CHUNK):
                    if not tail and member.filename.lower().endswith(".xml"):
                        check_dimension(chunk[:_DIMENSION_WINDOW], limits)
                    total += len(chunk)
                    if total > limits.max_unpacked_bytes:
                        raise _bomb(limits)
                    # XML is case-sensitive; spreadsheet text would escape the "<" as &lt;.
                    window = tail + chunk
                    if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                        raise refuse(
                            N_("The file contains XML declarations a spreadsheet never needs; it is refused.")
                        )
                    tail = chunk[-16:]
    # zipfile raises NotImplementedError for compression methods it does not know: damaged to us.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise refuse(N_("The file is damaged and cannot be read.")) from None
    except RuntimeError:  # zipfile says "encrypted" this way
        raise refuse(
            N_("The file is password-protected: remove the password in Excel and upload it again.")
        ) from None


def check_dimension(head: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a worksheet part whose declared extent (its ``<dimension>``, in ``head``) is too large.

    The extent counts from A1 (calamine reads the sheet from there), whatever cell it starts at.
    """
    found = _DIMENSION.search(head)
    if found is None:
        return
    letters, row = found.group(1).decode().upper(), int(found.group(2))
    columns = column_number(letters)
    if row > limits.max_rows:
        raise refuse(N_("The sheet has more than %(limit)s rows.", limit=limits.max_rows))
    if row * columns > limits.max_cells:
        raise refuse(
            N_(
                "A sheet of the file reaches cell %(cell)s (%(cells)s cells); at most %(max_cells)s "
                "cells are read. Delete the empty rows and columns after the data in Excel and save "
                "the file again.",
                cell=f"{letters}{row}",
                cells=f"{row * columns:,}",
                max_cells=f"{limits.max_cells:,}",
            )
        )


def column_number(letters: str) -> int:
    """Return the 1-based number of a column named by its letters (A is 1, XFD is 16,384)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _open_workbook(data: bytes, limits: Limits) -> Spreadsheet:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
            and meta.visible == python_calamine.SheetVisibleEnum.Visible
        ]
    except python_calamine.PasswordError:
        raise refuse(
            N_("The file is password-protected: remove the password in Excel and upload it again.")
        ) from None
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        log.info("calamine refused a workbook: %s", exc)
        if data.startswith(_OLE_MAGIC) and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00" in data[:65536]:
            raise refuse(
                N_("The file is password-protected: remove the password in Excel and upload it again.")
            ) from None
        raise refuse(
            N_("This file is not a spreadsheet or is damaged: open it in Excel and save it as .xlsx.")
        ) from None
    if not names:
        raise refuse(N_("The file is empty."))

    # calamine builds a sheet's whole range when it is first asked for, even for its first rows:
    # keep it, so that looking for the header and then reading the sheet builds it once.
    built: dict[str, Any] = {}

    def load(name: str, nrows: int) -> list[list[Any]]:
        try:
            sheet = built.get(name)
            if sheet is None:
                sheet = built[name] = workbook.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False, nrows=nrows)
            merged = sheet.merged_cell_ranges or []
        except (python_calamine.CalamineError, ValueError, OSError) as exc:
            log.info("calamine could not read sheet %s: %s", name, exc)
            raise refuse(N_("The file is damaged and cannot be read.")) from None
        fill_merged_down(rows, merged)
        return rows

    return Spreadsheet(names, load, limits)


def fill_merged_down(rows: list[list[Any]], merged) -> None:
    """Repeat a vertically merged cell's value in the rows below it, in its first column.

    Ledgers merge the department or the location over the rows it applies to; Excel keeps the
    value in the top cell only. Merges across columns (titles, signatures) are left alone.
    """
    for (top, left), (bottom, _right) in merged:
        if bottom <= top or top >= len(rows) or left >= len(rows[top]):
            continue
        value = rows[top][left]
        for row in rows[top + 1 : bottom + 1]:
            if left < len(row) and not _filled(row[left]):
                row[left] = value


def decode_text(data: bytes) -> str:
    """Decode a CSV file: UTF-16 or UTF-8 with a BOM, else UTF-8, else GB 18030 (which covers GBK)."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    encodings = ("utf-16",) if utf16 else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise refuse(N_("This file is not a spreadsheet: upload an .xlsx, .xls, .ods or .csv file."))


def sniff_delimiter(text: str) -> str:
    """Return the delimiter of a CSV text: the one of , tab ; | that the first lines use most."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _open_csv(data: bytes, filename: str, limits: Limits) -> Spreadsheet:
    text = decode_text(data)
    delimiter = sniff_delimiter(text)
    name = Path(filename).stem or "csv"

    def load(_name: str, nrows: int) -> list[list[Any]]:
        rows = []
        try:
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                rows.append(row)
                if len(rows) >= nrows:
                    break
        except csv.Error as exc:
            log.info("unreadable CSV: %s", exc)
            raise refuse(N_("The CSV file cannot be read near row %(row)s.", row=len(rows) + 1)) from None
        return rows

    return Spreadsheet([name], load, limits)
