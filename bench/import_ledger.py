r"""Importing a ledger spreadsheet: our import against the raw floor doing the same work.

    python bench/import_ledger.py --rows 100000 \
        --url sqlite:////tmp/calrecall_import_bench.sqlite3 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_import_bench

The script writes a 23-column ledger as firms keep it (a merged title row, a line with the
department and the date, the header, N instruments, the signature line) with xlsxwriter, once per
size, under the system's temporary folder. For each database it builds a fresh schema with the
Alembic migration, one firm with an administrator and the firm's eight departments, and then
times, each against an empty ledger:

- **raw floor**: python-calamine opens the file and returns the sheet's rows; the data rows become
  instrument rows with nothing but a dictionary lookup per coded column; one SQLAlchemy Core
  ``executemany`` inserts them; commit. No validation, no history.
- **ours**: ``import_ledger`` (what the CLI and the background job call) for the firm's
  administrator, then commit: the same file read with every cell checked, every row validated by
  the ledger's rules, the instruments written and one history event per instrument appended to
  the firm's hash chain.

It then times a re-import of the same file (every row unchanged) and of a file where every tenth
row has a new location (10% updated), and checks the chain with ``verify_chain``. It does all of
this ``--repeat`` times (3 by default) and prints the median of each timing, with every round's
figure. The ratio is ours / raw floor; the goal is at most 1.5 on both databases.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import python_calamine
import xlsxwriter
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_list import (  # noqa: E402
    DEPARTMENTS,
    GIVEN,
    KINDS,
    LABS,
    LOCATIONS,
    SURNAMES,
    ensure_database,
    parser_with_urls,
)

from models import Department, HistoryHead, Instrument, Organization, User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.db import allow_all_tenants, make_engine, make_session_factory  # noqa: E402
from service.history.chain import GENESIS_HASH, verify_chain  # noqa: E402
from service.ledger_io.columns import CODE_NAMES, COLUMNS, FLAG_NAMES  # noqa: E402
from service.ledger_io.importer import import_ledger  # noqa: E402
from service.ledger_io.reader import Limits  # noqa: E402
from service.migrations import upgrade  # noqa: E402

TODAY = date(2026, 11, 24)
HEADER = [
    "管理编号",
    "器具名称",
    "型号规格",
    "出厂编号",
    "制造厂",
    "测量范围",
    "准确度等级",
    "分辨力",
    "使用部门",
    "存放地点",
    "保管人",
    "保管人手机",
    "ABC分类",
    "是否强检",
    "强检用途",
    "溯源方式",
    "检定周期(月)",
    "上次检定日期",
    "有效期至",
    "检定单位",
    "证书编号",
    "检定结论",
    "使用状态",
]
#: The instrument column each header fills: the import's own layout, but 保管人 is a name here.
FIELDS = [
    {"custodian": "custodian_name"}.get(f, f)
    for f in ({c.header: c.field for c in COLUMNS}[h] for h in HEADER)
]
#: Statuses a file may set on a new instrument without an approval.
STATUSES = {"in_service": 90, "out_for_calibration": 4, "under_repair": 3, "suspended": 3}
TITLE_ROWS = 2  # the merged title and the "编制部门：… 更新日期：…" line


# ----------------------------------------------------------------------------------------------
# The file
# ----------------------------------------------------------------------------------------------


def _row(rng: random.Random, number: int) -> list:
    name, model, measuring_range, accuracy, resolution, maker, catalog = rng.choices(
        [k[:7] for k in KINDS], weights=[k[7] for k in KINDS]
    )[0]
    mandatory = bool(catalog) and rng.random() < 0.7
    interval = rng.choice((6, 12, 12, 12, 24))
    last = TODAY - timedelta(days=rng.randrange(1, 700))
    valid_until = last + timedelta(days=interval * 30 - 1)
    method = "verification" if mandatory else rng.choice(("verification", "calibration", "calibration"))
    status = rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0]
    return [
        f"JL-{number:06d}",
        name,
        model,
        f"SN{rng.randrange(10**8):08d}",
        maker,
        measuring_range,
        accuracy,
        resolution or None,
        rng.choice(DEPARTMENTS),
        rng.choice(LOCATIONS),
        rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
        rng.choice("ABC"),
        FLAG_NAMES[mandatory],
        CODE_NAMES["mandatory_use"][rng.choice(("trade", "safety", "medical", "environment"))]
        if mandatory
        else None,
        CODE_NAMES["control_method"][method],
        interval,
        last,
        valid_until,
        rng.choice(LABS),
        f"JD{last.year}-{rng.randrange(10**6):06d}",
        CODE_NAMES["conclusion"]["pass"],
        CODE_NAMES["status"][status],
    ]


def build_file(rows: int, seed: int, moved_every: int = 0) -> Path:
    """Write (once) the ledger of ``rows`` instruments; every ``moved_every``-th row gets a new location."""
    suffix = f"-moved{moved_every}" if moved_every else ""
    path = Path(tempfile.gettempdir()) / f"calrecall_import_bench_{rows}_{seed}{suffix}.xlsx"
    if path.exists():
        return path
    rng = random.Random(seed)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet("台账")
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, "基准测试有限公司计量器具台账")
    sheet.write_string(1, 0, f"编制部门：质检部    更新日期：{TODAY:%Y年%m月%d日}")
    for column, title in enumerate(HEADER):
        sheet.write_string(TITLE_ROWS, column, title)
    line = TITLE_ROWS
    for number in range(1, rows + 1):
        line += 1
        cells = _row(rng, number)
        if moved_every and number % moved_every == 0:
            cells[9] = "新计量室"
        for column, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(line, column, datetime(value.year, value.month, value.day), day)
            elif isinstance(value, int):
                sheet.write_number(line, column, value)
            else:
                sheet.write_string(line, column, value)
    sheet.write_string(line + 2, 0, "制表：          审核：          批准：")
    workbook.close()
    return path


# ----------------------------------------------------------------------------------------------
# The database
# ----------------------------------------------------------------------------------------------


def set_up(engine: Engine) -> tuple[Actor, dict[str, int]]:
    """Create the schema, one firm, its administrator and departments; return the actor and departments."""
    upgrade(engine)
    now = datetime.now().astimezone()
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Organization.__table__).returning(Organization.__table__.c.id),
            {"slug": "bench-import", "name": "基准测试有限公司", "kind": "firm", "timezone": "Asia/Shanghai"},
        ).scalar_one()
        user_id = conn.execute(
            insert(User.__table__).returning(User.__table__.c.id),
            {
                "org_id": org_id,
                "email": "admin@bench.example",
                "name": "管理员",
                "role": "admin",
                "password_hash": "x",
                "locale": "zh_Hans_CN",
                "is_active": True,
                "created_at": now,
            },
        ).scalar_one()
        conn.execute(
            insert(HistoryHead.__table__), {"org_id": org_id, "last_seq": 0, "last_hash": GENESIS_HASH}
        )
        conn.execute(insert(Department.__table__), [{"org_id": org_id, "name": n} for n in DEPARTMENTS])
        departments = dict(
            conn.execute(select(Department.name, Department.id).where(Department.org_id == org_id)).all()
        )
    return Actor(user_id, "管理员", "admin", org_id, "firm", org_id), departments


# ----------------------------------------------------------------------------------------------
# The two sides
# ----------------------------------------------------------------------------------------------


def raw_floor(engine: Engine, path: Path, org_id: int, departments: dict[str, int]) -> int:
    """Parse with calamine and insert the rows with one Core executemany; return the rows inserted."""
    codes = {field: {name: code for code, name in names.items()} for field, names in CODE_NAMES.items()}
    flags = {name: flag for flag, name in FLAG_NAMES.items()}
    decoders = {
        "department": lambda v: departments[v],
        "is_mandatory": flags.get,
        "interval_months": int,
        "mandatory_use": codes["mandatory_use"].get,
        "control_method": codes["control_method"].get,
        "conclusion": codes["conclusion"].get,
        "status": codes["status"].get,
    }
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    now = datetime.now().astimezone()
    instruments = []
    for cells in rows[TITLE_ROWS + 1 :]:
        if not cells or not cells[1]:
            continue
        row = {"org_id": org_id, "created_at": now, "updated_at": now}
        for field, value in zip(FIELDS, cells, strict=False):
            value = None if value == "" else value
            decode = decoders.get(field)
            row["department_id" if field == "department" else field] = (
                decode(value) if decode and value is not None else value
            )
        row["next_due_on"] = row["valid_until"]
        instruments.append(row)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Hand-written code runs under the server's planning: the engine's force_custom_plan
            # would plan each foreign-key check again for every row (service/bulk.py).
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = auto")
        conn.execute(insert(Instrument.__table__), instruments)
    return len(instruments)


def ours(engine: Engine, factory, actor: Actor, path: Path, today: date) -> dict:
    """Import the file as the CLI does; return the report's counts."""
    session = factory()
    allow_all_tenants(session)
    try:
        report = import_ledger(session, actor, path, path.name, today, limits=Limits(max_bytes=200 * 2**20))
        session.commit()
    finally:
        session.close()
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}


def fresh_database(url: str) -> tuple[Engine, Actor, dict[str, int]]:
    """Return an engine on a new, migrated database with the firm set up, its actor and departments."""
    ensure_database(url, fresh=True)
    engine = make_engine(url)
    actor, departments = set_up(engine)
    return engine, actor, departments


def timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def one_round(url: str, rows: int, path: Path, moved: Path) -> dict[str, float]:
    """Time the floor and our three imports once, each against a new database; return the seconds."""
    engine, actor, departments = fresh_database(url)
    floor, inserted = timed(lambda: raw_floor(engine, path, actor.org_id, departments))
    assert inserted == rows, inserted
    engine.dispose()

    # A new database rather than a DELETE: SQLite checks the instruments' foreign keys row by row.
    engine, actor, departments = fresh_database(url)
    factory = make_session_factory(engine)
    first, counts = timed(lambda: ours(engine, factory, actor, path, TODAY))
    assert counts == {"created": rows, "updated": 0, "unchanged": 0}, counts
    again, counts = timed(lambda: ours(engine, factory, actor, path, TODAY))
    assert counts == {"created": 0, "updated": 0, "unchanged": rows}, counts
    changed, counts = timed(lambda: ours(engine, factory, actor, moved, TODAY))
    assert counts == {"created": 0, "updated": rows // 10, "unchanged": rows - rows // 10}, counts

    with factory() as session:
        allow_all_tenants(session)
        chain = verify_chain(session, actor.org_id)
        assert chain.ok, chain
        assert chain.checked == rows + rows // 10, chain
        assert session.scalar(select(func.count()).select_from(Instrument)) == rows
    engine.dispose()
    return {"floor": floor, "first": first, "again": again, "changed": changed}


def bench(url: str, rows: int, seed: int, repeat: int) -> None:
    path = build_file(rows, seed)
    moved = build_file(rows, seed, moved_every=10)
    size = path.stat().st_size / 2**20
    print(f"\n{make_url(url).get_backend_name()}: {rows:,} rows, {size:.1f} MB, {repeat} rounds")
    rounds = [one_round(url, rows, path, moved) for _ in range(repeat)]
    median = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    floor = median["floor"]

    print(f"{'median of the rounds':34}{'seconds':>9}{'rows/s':>10}{'ratio':>8}   rounds (s)")
    for label, name in (
        ("raw floor (calamine + executemany)", "floor"),
        ("ours: first import", "first"),
        ("ours: re-import, all unchanged", "again"),
        ("ours: re-import, 10% updated", "changed"),
    ):
        seconds = median[name]
        each = " ".join(f"{r[name]:.2f}" for r in rounds)
        print(f"{label:34}{seconds:9.2f}{rows / seconds:10,.0f}{seconds / floor:8.2f}   {each}")


def main() -> None:
    parser = parser_with_urls(__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median of each timing is shown")
    args = parser.parse_args()
    for url in args.url:
        bench(url, args.rows, args.seed, args.repeat)


if __name__ == "__main__":
    main()
