"""Reading files in a child process: files and readers that kill it are refused, and the caller lives on."""

import os
import signal
import time

import pytest
import xlsxwriter

from service.errors import Invalid
from service.ledger_io import sandbox
from service.ledger_io.importer import UnmappedColumns, open_ledger_sheet, read_ledger, read_rows
from service.ledger_io.reader import Limits
from tests.sheets import far_cell_xlsx, messy_file, write_xlsx

GB = 1024**3
DEAD = "The file is too large or damaged and cannot be read."


def read_here(path, progress=None, **options):
    """Read a ledger all in this process, as :func:`read_ledger` does in two."""
    return read_rows(open_ledger_sheet(path, path.name), path.name, progress=progress, **options)


def refusal(path, limits=None, **options):
    with pytest.raises(Invalid) as caught:
        read_ledger(path, path.name, limits=limits or Limits(), **options)
    assert caught.value.field_errors == {"file": [caught.value.message]}
    return caught.value.message


# Readers for read_in_child: module-level, so the child finds them by name.


def killed_by_a_signal(data, filename, **_options):
    os.kill(os.getpid(), signal.SIGKILL)


def spinning(data, filename, **_options):
    while True:
        pass


def sleeping(data, filename, **_options):
    time.sleep(60)


def out_of_memory(data, filename, **_options):
    return [bytearray(64 * 1024 * 1024) for _ in range(64)]


def buggy(data, filename, **_options):
    raise KeyError("a bug in the reader")


def chatty(data, filename, *, limits, progress, **options):
    for done in range(3):
        progress("read", done, 2)
    return {"filename": filename, "size": len(data), "options": options}


# Files that abort calamine ----------------------------------------------------------------------


def test_a_sheet_declaring_a_cell_far_out_is_refused_before_it_is_built(tmp_path):
    path = far_cell_xlsx(tmp_path / "far.xlsx")
    assert 5_000 < path.stat().st_size < 6_500
    message = refusal(path)
    assert message.params["cell"] == "XFD190000"
    assert message.render().startswith("A sheet of the file reaches cell XFD190000 (3,112,960,000 cells)")
    assert "Delete the empty rows and columns" in message.render()


def test_the_declared_rows_and_cells_are_held_to_the_limits(tmp_path):
    rows = refusal(far_cell_xlsx(tmp_path / "rows.xlsx", "A300000"))
    assert rows.render() == "The sheet has more than 200000 rows."
    wide = refusal(far_cell_xlsx(tmp_path / "z.xlsx", "Z20"), Limits(max_cells=500))
    assert "reaches cell Z20 (520 cells)" in wide.render()
    # Within the limits the file is read (and found to hold no ledger).
    assert "No header row found" in refusal(far_cell_xlsx(tmp_path / "small.xlsx", "C3"))


@pytest.mark.parametrize("dimension", [None, "A1"], ids=["no dimension", "a false dimension"])
def test_a_far_cell_the_dimension_hides_kills_only_the_child(tmp_path, dimension):
    """calamine asks for 99 GB and aborts: without the child this test run would end here."""
    path = far_cell_xlsx(tmp_path / "far.xlsx", dimension=dimension)
    assert refusal(path) == DEAD
    # The caller lives on and reads the next file.
    assert len(read_ledger(messy_file(tmp_path), "台账.xlsx").rows) == 4


def test_the_memory_limit_stops_a_sheet_that_fits_in_the_machine(tmp_path):
    """Up to XFD3000 is 49 million cells, 1.5 GB to calamine: more than the child may have."""
    path = far_cell_xlsx(tmp_path / "wide.xlsx", "XFD3000", dimension=None)
    assert refusal(path, Limits(max_memory_bytes=1 * GB)) == DEAD


# Children that die ------------------------------------------------------------------------------


def test_a_valid_ledger_over_the_memory_limit_is_refused(tmp_path):
    """The child starts with some room mapped already: a small limit stops a larger file."""
    path = tmp_path / "big.xlsx"
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["管理编号", "器具名称", "型号规格"])
    for row in range(1, 100_001):
        sheet.write_row(row, 0, [f"M-{row}", "压力表", "Y-100 0~1.6MPa"])
    workbook.close()
    assert refusal(path, Limits(max_memory_bytes=16 * 1024 * 1024)) == DEAD


def test_a_result_over_the_output_limit_is_refused(tmp_path):
    assert refusal(messy_file(tmp_path), Limits(max_output_bytes=1000)) == DEAD


@pytest.mark.parametrize(
    ("reader", "limits"),
    [
        (killed_by_a_signal, Limits()),
        (spinning, Limits(max_cpu_seconds=1)),
        (sleeping, Limits(max_wall_seconds=0.5)),
        (out_of_memory, Limits(max_memory_bytes=2 * GB)),
    ],
    ids=["signal", "cpu", "wall clock", "memory"],
)
def test_a_child_that_dies_or_hangs_becomes_a_refusal(reader, limits):
    started = time.monotonic()
    with pytest.raises(Invalid) as caught:
        sandbox.read_in_child(reader, b"data", "x.xlsx", limits=limits)
    assert caught.value.message == DEAD
    assert caught.value.message.render() == DEAD
    assert time.monotonic() - started < 10


def test_a_bug_in_the_reader_is_not_blamed_on_the_file():
    with pytest.raises(sandbox.ReadFailed, match="KeyError: 'a bug in the reader'"):
        sandbox.read_in_child(buggy, b"data", "x.xlsx")


def test_empty_and_oversized_files_are_refused_without_a_child():
    with pytest.raises(Invalid, match="empty"):
        sandbox.read_in_child(killed_by_a_signal, b"  ", "x.csv")
    with pytest.raises(Invalid, match="larger than"):
        sandbox.read_in_child(killed_by_a_signal, b"x" * 2000, "x.csv", limits=Limits(max_bytes=1000))


# What crosses from the child --------------------------------------------------------------------


def test_progress_and_options_cross_to_the_caller():
    heard = []
    result = sandbox.read_in_child(
        chatty, b"12345", "x.xlsx", progress=lambda *call: heard.append(call), header_map={"a": 1}
    )
    assert heard == [("read", 0, 2), ("read", 1, 2), ("read", 2, 2)]
    assert result == {"filename": "x.xlsx", "size": 5, "options": {"header_map": {"a": 1}}}


def test_a_ledger_read_in_the_child_is_the_one_read_here_with_its_progress(tmp_path):
    path = messy_file(tmp_path)
    heard, heard_here = [], []
    ledger = read_ledger(path, path.name, progress=lambda *call: heard.append(call))
    assert ledger == read_here(path, progress=lambda *call: heard_here.append(call))
    assert [row.values["management_no"] for row in ledger.rows] == ["JL-001", "JL-002", "JL-003", "JL-004"]
    assert heard == heard_here
    assert heard[0] == ("read", 8, 8)  # the rows below the header, blank and footer lines included
    assert heard[-1] == ("validated", 8, 8)


def test_a_refusal_in_the_child_keeps_its_class_and_field_errors(tmp_path):
    rows = [["器具名称", "型号规格", "使用部门"], ["压力表", "Y-100", "质检部"]]
    path = write_xlsx(tmp_path / "h.xlsx", rows)
    with pytest.raises(UnmappedColumns) as caught:
        read_ledger(path, path.name)
    with pytest.raises(UnmappedColumns) as here:
        read_here(path)
    assert caught.value.message == here.value.message
    assert caught.value.field_errors == here.value.field_errors == {"file": [here.value.message]}
    assert caught.value.column_fields == here.value.column_fields
    assert caught.value.column_fields[0] == {"index": 0, "letter": "A", "header": "器具名称", "field": "name"}

    with pytest.raises(Invalid) as mapping:
        read_ledger(messy_file(tmp_path), "台账.xlsx", mapping={2: "no_such_field"})
    assert list(mapping.value.field_errors) == ["mapping"]
    # Refused in the child (it opens the workbook): the same class, message and field messages.
    with pytest.raises(Invalid) as sheet:
        read_ledger(messy_file(tmp_path), "台账.xlsx", sheet="没有这张表")
    assert sheet.value.field_errors == {"file": ["The file has no sheet named %(name)s."]}
    assert sheet.value.message.params == {"name": "没有这张表"}
    assert "column mapping" in mapping.value.field_errors["mapping"][0]
