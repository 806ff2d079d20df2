r"""Ledger reads: our code against the raw database doing the same work.

    python bench/ledger_list.py \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_bench --instruments 100000 --firms 20
    python bench/ledger_list.py --url sqlite:////tmp/calrecall_bench.sqlite --instruments 100000 --firms 20

The database is created when missing and loaded once per size (the ``bench_meta`` table records what
was loaded; another size empties and reloads it). For one firm, a metrology user's actor:

- ours: what a web request does, a new session scoped with ``scope_to_org`` (the tenancy net adds
  its criteria), ``parse_filters`` and the function of ``service.ledger.queries``, then close;
- no net: the same with ``allow_all_tenants``, to show what the tenancy net itself costs;
- raw: the same statement written by hand (same joins, WHERE, ORDER BY, LIMIT) on one DBAPI
  connection from ``engine.raw_connection()``: execute, fetch every row, roll back.

Ours and raw must return the same ids (or counts), or the script stops. A second table times other
hand-written forms of some statements (same rows) to tell the ORM's cost from the SQL's shape.
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite) of the
exact statements our code sends, then of the raw ones.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url

from models import Base, Department, Instrument, Organization, StatusRequest, User
from models.ledger import RECALLED_STATUSES, UNUSABLE_STATUSES
from service.actors import Actor
from service.clock import today_in
from service.db import allow_all_tenants, make_engine, make_session_factory, normalise_url, scope_to_org
from service.ledger import queries
from service.ledger.operations import TRACKED_FIELDS
from service.migrations import upgrade

PROTECTED_DATABASES = {"postgres", "test", "template0", "template1"}
TIMEZONE = "Asia/Shanghai"
PAGE = queries.DEFAULT_LIMIT

bench_metadata = MetaData()
bench_meta = Table(
    "bench_meta",
    bench_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(200)),
)

# ----------------------------------------------------------------------------------------------
# Realistic ledger rows
# ----------------------------------------------------------------------------------------------

# (name, model, measuring range, accuracy, resolution, manufacturer, catalogue item, weight)
KINDS = [
    ("一般压力表", "Y-100", "0~1.6MPa", "1.6级", "0.05MPa", "红旗仪表有限公司", "压力表", 14),
    ("精密压力表", "YB-150", "0~2.5MPa", "0.4级", "0.01MPa", "西安仪表厂", "压力表", 3),
    ("数字压力计", "ConST211", "-0.1~60MPa", "0.05级", "0.001kPa", "北京康斯特", "", 1),
    ("压力变送器", "EJA530E", "0~10MPa", "0.075%FS", "", "横河川仪", "", 3),
    ("差压变送器", "3051CD", "0~250kPa", "0.065%", "", "罗斯蒙特", "", 2),
    ("游标卡尺", "0-150mm", "0~150mm", "±0.02mm", "0.02mm", "哈尔滨量具刃具厂", "", 10),
    ("外径千分尺", "0-25mm", "0~25mm", "±0.004mm", "0.01mm", "成都成量", "", 5),
    ("百分表", "0-10mm", "0~10mm", "±0.015mm", "0.01mm", "桂林广陆", "", 4),
    ("电子天平", "FA2004", "0~200g", "I级", "0.1mg", "上海舜宇恒平", "", 6),
    ("电子台秤", "TCS-150", "0~150kg", "III级", "50g", "上海友声", "衡器", 4),
    ("电子汽车衡", "SCS-100", "0~100t", "III级", "50kg", "梅特勒-托利多", "衡器", 1),
    ("玻璃液体温度计", "0-100℃", "0~100℃", "±1℃", "1℃", "河北华仪", "", 5),
    ("热电偶", "K型", "0~1200℃", "II级", "", "重庆川仪", "", 3),
    ("铂电阻温度计", "Pt100", "-50~300℃", "A级", "0.01℃", "安徽天康", "", 3),
    ("数字多用表", "FLUKE 87V", "0~1000V", "0.05%", "0.1mV", "福禄克", "", 5),
    ("绝缘电阻表", "ZC-7", "0~500MΩ", "10级", "", "上海第六电表厂", "绝缘电阻表", 3),
    ("接地电阻测试仪", "ETCR2000", "0~1000Ω", "±2%", "0.01Ω", "广州铱泰", "接地电阻测量仪", 2),
    ("电能表", "DTZY341", "3×1.5(6)A", "0.5S级", "", "威胜集团", "电能表", 4),
    ("电磁流量计", "LDG-50", "0~60m³/h", "0.5级", "", "开封仪表", "", 2),
    ("冷水水表", "LXS-20", "Q3=4m³/h", "2级", "", "宁波水表", "水表", 3),
    ("膜式燃气表", "G2.5", "0.025~4m³/h", "1.5级", "", "重庆前卫", "燃气表", 2),
    ("声级计", "AWA5688", "28~133dB", "2级", "0.1dB", "杭州爱华", "声级计", 2),
    ("可燃气体检测报警器", "GT-2000", "0~100%LEL", "±5%FS", "1%LEL", "汉威科技", "可燃气体检测报警器", 4),
    ("血压计", "YE655A", "0~300mmHg", "±3mmHg", "1mmHg", "鱼跃医疗", "血压计", 1),
    ("砝码", "M1-20kg", "20kg", "M1等级", "", "常州砝码厂", "砝码", 2),
    ("钢卷尺", "5m", "0~5m", "II级", "1mm", "长城精工", "", 4),
    ("扭矩扳手", "TB-200", "40~200N·m", "±4%", "1N·m", "杭州扳手厂", "", 2),
    ("洛氏硬度计", "HR-150A", "20~88HRA", "±1.5HR", "0.5HR", "莱州华银", "", 1),
    ("酸度计", "PHS-3C", "0~14pH", "0.01级", "0.01pH", "上海雷磁", "", 2),
]
DEPARTMENTS = [
    "质检部",
    "生产一车间",
    "生产二车间",
    "设备动力部",
    "技术中心",
    "仓储物流部",
    "安环部",
    "化验室",
]
LOCATIONS = ["一号厂房", "二号厂房", "锅炉房", "化验室", "计量室", "仓库", "配电室", "办公楼"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
LABS = ["河南省计量测试科学研究院", "郑州市质量技术监督检验测试中心", "洛阳市计量测试所", "企业内部校准"]
STATUS_WEIGHTS = {
    "in_service": 86,
    "out_for_calibration": 4,
    "under_repair": 2,
    "suspended": 3,
    "sealed": 1,
    "scrapped": 4,
}
CONCLUSION_WEIGHTS = {"pass": 90, "limited": 7, "fail": 3}


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def firm_row(org_id: int, digits: int, rng: random.Random, now: datetime) -> dict:
    """Return a benchmark firm's row, its number written with ``digits`` digits."""
    return {
        "id": org_id,
        "slug": f"bench-firm-{org_id:0{digits}d}",
        "name": f"基准测试企业{org_id:0{digits}d}有限公司",
        "kind": "firm",
        "region_code": "410100",
        "industry": "制造业",
        "employees": rng.randrange(50, 3000),
        "timezone": TIMEZONE,
        "created_at": now,
    }


def user_row(
    user_id: int, org_id: int, digits: int, n: int, role: str, rng: random.Random, now: datetime, **extra
) -> dict:
    """Return the row of a firm's ``n``-th user, with a random name and mobile number."""
    return {
        "id": user_id,
        "org_id": org_id,
        "email": f"u{n}@firm{org_id:0{digits}d}.bench.example",
        "name": _person(rng),
        "mobile": _mobile(rng),
        "role": role,
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$bench$bench",
        "locale": "zh_Hans_CN",
        "is_active": True,
        "created_at": now,
    } | extra


def _load_reference_rows(conn, firms: int, rng: random.Random, now: datetime) -> dict:
    """Insert the firms, their users and departments; return what the instruments need."""
    orgs, users, depts = [], [], []
    custodians: dict[int, list[int]] = {}
    dept_ids: dict[int, list[int]] = {}
    metrology_user: dict[int, int] = {}
    user_id = dept_id = 0
    for org_id in range(1, firms + 1):
        orgs.append(firm_row(org_id, 3, rng, now))
        custodians[org_id] = []
        for n, role in enumerate(["admin", "metrology"] + ["viewer"] * 10):
            user_id += 1
            users.append(user_row(user_id, org_id, 3, n, role, rng, now))
            custodians[org_id].append(user_id)
            if role == "metrology":
                metrology_user[org_id] = user_id
        dept_ids[org_id] = []
        for name in DEPARTMENTS:
            dept_id += 1
            depts.append({"id": dept_id, "org_id": org_id, "name": name, "head_user_id": user_id})
            dept_ids[org_id].append(dept_id)
    conn.execute(insert(Organization.__table__), orgs)
    conn.execute(insert(User.__table__), users)
    conn.execute(insert(Department.__table__), depts)
    return {"custodians": custodians, "departments": dept_ids, "metrology_user": metrology_user}


def _ledger_custodian(rng: random.Random, ref: dict, org_id: int) -> int | None:
    """Half the custodians are users of the firm; the others get a name and a mobile number."""
    return rng.choice(ref["custodians"][org_id]) if rng.random() < 0.5 else None


def _ledger_note(rng: random.Random) -> str | None:
    return None if rng.random() < 0.9 else "随设备安装，拆卸需通知计量室"


def instrument_rows(
    n: int,
    firms: int,
    ref: dict,
    rng: random.Random,
    today: date,
    now: datetime,
    *,
    due_date=None,
    firm_of=None,
    custodian=_ledger_custodian,
    note=_ledger_note,
):
    """Yield ``n`` instrument rows (tuples in ``INSTRUMENT_COLUMNS`` order), firms interleaved.

    Other benchmarks shape the data with ``due_date(rng)``, ``firm_of(rng, row_id)``,
    ``custodian(rng, ref, org_id) -> user id or None`` and ``note(rng)``; the defaults
    are this benchmark's ledger (due dates −60…+365 days from today, firms at random).
    """
    due_date = due_date or (lambda r: today + timedelta(days=r.randint(-60, 365)))
    firm_of = firm_of or (lambda r, _row_id: r.randrange(1, firms + 1))
    kinds = [k[:7] for k in KINDS]
    kind_weights = [k[7] for k in KINDS]
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    conclusions, conclusion_w = list(CONCLUSION_WEIGHTS), list(CONCLUSION_WEIGHTS.values())
    seq = dict.fromkeys(range(1, firms + 1), 0)
    batch = 10_000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        picked = rng.choices(kinds, kind_weights, k=size)
        picked_status = rng.choices(statuses, status_w, k=size)
        picked_conclusion = rng.choices(conclusions, conclusion_w, k=size)
        for j in range(size):
            row_id = start + j + 1
            org_id = firm_of(rng, row_id)
            seq[org_id] += 1
            name, model, measuring_range, accuracy, resolution, maker, catalog = picked[j]
            one_off = rng.random() < 0.01
            interval = 0 if one_off else rng.choice((6, 12, 12, 12, 24))
            due = None if one_off else due_date(rng)
            last_done = (due - timedelta(days=30 * interval)) if due else today - timedelta(days=400)
            custodian_user_id = custodian(rng, ref, org_id)
            mandatory = bool(catalog) and rng.random() < 0.7
            yield (
                row_id,
                f"JL-{2015 + org_id % 10}-{seq[org_id]:06d}",
                name,
                model,
                f"{rng.choice('ABCDEFGHKMNPRSTXYZ')}{rng.randrange(10**8):08d}",
                maker,
                measuring_range,
                accuracy,
                resolution or None,
                rng.choice(ref["departments"][org_id]) if rng.random() < 0.95 else None,
                rng.choice(LOCATIONS),
                custodian_user_id,
                None if custodian_user_id else _person(rng),
                None if custodian_user_id else _mobile(rng),
                rng.choice("AABBBBCCCC"),
                mandatory,
                rng.choice(("trade", "safety", "medical", "environment")) if mandatory else None,
                catalog or None,
                "one_off" if one_off else ("verification" if mandatory else "calibration"),
                interval,
                last_done,
                due,
                due,
                rng.choice(LABS),
                f"JD{last_done.year}-{rng.randrange(10**6):06d}",
                "verification_certificate" if mandatory else "calibration_certificate",
                picked_conclusion[j],
                picked_status[j],
                last_done - timedelta(days=rng.randrange(0, 3000)),
                note(rng),
                None,
                now,
                now,
                org_id,
            )


#: The ledger's columns, in ledger order, between the id and the bookkeeping columns.
INSTRUMENT_COLUMNS = ["id", *TRACKED_FIELDS, "replaced_by_id", "created_at", "updated_at", "org_id"]
assert set(INSTRUMENT_COLUMNS) == set(Instrument.__table__.c.keys())


def _status_request_rows(conn, firms: int, ref: dict, now: datetime) -> list[dict]:
    rows, request_id = [], 0
    for org_id in range(1, firms + 1):
        ids = conn.scalars(
            select(Instrument.id)
            .where(Instrument.org_id == org_id, Instrument.status == "in_service")
            .order_by(Instrument.id)
            .limit(30)
        ).all()
        for k, instrument_id in enumerate(ids):
            request_id += 1
            rows.append(
                {
                    "id": request_id,
                    "org_id": org_id,
                    "instrument_id": instrument_id,
                    "action": "suspend" if k % 2 else "scrap",
                    "reason": "示值超差，申请停用",
                    "state": "pending" if k < 12 else "approved",
                    "requested_by_id": ref["metrology_user"][org_id],
                    "requested_at": now,
                }
            )
    return rows


def parser_with_urls(doc: str) -> argparse.ArgumentParser:
    """A bench's command line: its docstring as the help, and ``--url`` once per database to run on."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", action="append", required=True, help="a database URL; repeat for several")
    return parser


# ----------------------------------------------------------------------------------------------
# Database set-up and loading
# ----------------------------------------------------------------------------------------------


def ensure_database(url: str, fresh: bool = False) -> None:
    """Make sure the benchmark's database exists, empty when ``fresh``; refuse the shared ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            if fresh:
                Path(parsed.database).unlink(missing_ok=True)
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    if parsed.database in PROTECTED_DATABASES:
        sys.exit(f"refusing to benchmark in the {parsed.database!r} database; name a database of its own")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            quoted = admin.dialect.identifier_preparer.quote(parsed.database)
            if fresh:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
            elif not conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ):
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
                print(f"created database {parsed.database}")
    finally:
        admin.dispose()


def _loaded(engine: Engine) -> dict[str, str]:
    bench_metadata.create_all(engine)
    with engine.connect() as conn:
        return dict(conn.execute(select(bench_meta.c.key, bench_meta.c.value)).all())


def _wipe(engine: Engine) -> None:
    """Empty the application tables of this benchmark database (only ever one we loaded)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for name in reversed(tables):
                conn.exec_driver_sql(f"DELETE FROM {name}")
        conn.execute(bench_meta.delete())


def insert_instruments(engine: Engine, rows) -> None:
    """Insert instrument rows (tuples in ``INSTRUMENT_COLUMNS`` order): PostgreSQL COPY, else executemany."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                copy_sql = f"COPY instruments ({', '.join(INSTRUMENT_COLUMNS)}) FROM STDIN"
                with cur.copy(copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    else:
        table = Instrument.__table__
        with engine.begin() as conn:
            chunk: list[dict] = []
            for row in rows:
                chunk.append(dict(zip(INSTRUMENT_COLUMNS, row, strict=True)))
                if len(chunk) == 10_000:
                    conn.execute(insert(table), chunk)
                    chunk = []
            if chunk:
                conn.execute(insert(table), chunk)


def must_load(engine: Engine, wanted: dict[str, str], instruments: int, ours: Callable[[dict], bool]) -> bool:
    """Whether the data must be loaded: not when the database holds ``wanted`` already.

    A database holding another load the benchmark recognises as ``ours`` (by its bench_meta) is
    wiped first; one holding anything else is refused.
    """
    upgrade(engine)
    meta = _loaded(engine)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Instrument.__table__))
        orgs = conn.scalar(select(func.count()).select_from(Organization.__table__))
    if all(meta.get(k) == v for k, v in wanted.items()) and count == instruments:
        firms = int(wanted["firms"])
        print(f"reusing {count:,} instruments across {firms:,} firms loaded on {meta.get('loaded_on')}")
        return False
    if orgs and not ours(meta):
        sys.exit("this database holds data this benchmark did not load; use a database of its own")
    if orgs:
        print(f"reloading: found {count:,} instruments / {meta.get('firms')} firms")
        _wipe(engine)
    return True


def reset_sequences(conn, tables: tuple[str, ...]) -> None:
    """Move PostgreSQL's id sequences past the ids a bulk load wrote."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )


def load(engine: Engine, instruments: int, firms: int, seed: int, today: date) -> None:
    wanted = {"instruments": str(instruments), "firms": str(firms)}
    if not must_load(engine, wanted, instruments, ours=bool):
        return
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as conn:
        ref = _load_reference_rows(conn, firms, rng, now)
    insert_instruments(engine, instrument_rows(instruments, firms, ref, rng, today, now))
    loaded = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(insert(StatusRequest.__table__), _status_request_rows(conn, firms, ref, now))
        reset_sequences(conn, ("organizations", "users", "departments", "instruments", "status_requests"))
        conn.execute(
            insert(bench_meta),
            [
                {"key": "instruments", "value": str(instruments)},
                {"key": "firms", "value": str(firms)},
                {"key": "seed", "value": str(seed)},
                {"key": "loaded_on", "value": today.isoformat()},
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    total = time.perf_counter() - started
    print(
        f"loaded {instruments:,} instruments across {firms} firms: "
        f"instruments {loaded:.1f} s ({instruments / loaded:,.0f} rows/s), with vacuum/analyze {total:.1f} s"
    )


# ----------------------------------------------------------------------------------------------
# The operations, ours and raw
# ----------------------------------------------------------------------------------------------


def _cols(alias: str, table) -> str:
    return ", ".join(f"{alias}.{c.name}" for c in table.c)


SELECT_PAGE = f"""
SELECT {_cols("i", Instrument.__table__)}, {_cols("d", Department.__table__)},
       {_cols("u", User.__table__)}, {_cols("o", Organization.__table__)}
FROM instruments i
LEFT JOIN departments d ON d.id = i.department_id AND d.org_id = i.org_id
LEFT JOIN users u ON u.id = i.custodian_user_id AND u.org_id = i.org_id
LEFT JOIN organizations o ON o.id = u.org_id
WHERE i.org_id = :org {{where}}
ORDER BY i.next_due_on ASC NULLS LAST, i.id ASC
LIMIT :limit
"""


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


RECALLED, UNUSABLE = _in(RECALLED_STATUSES), _in(UNUSABLE_STATUSES)


@dataclass
class Op:
    name: str
    ours: Callable  # (session) -> comparable result
    sql: str
    params: dict
    raw_result: Callable  # (rows) -> comparable result


@dataclass
class Probe:
    """Another hand-written form of an operation's SQL, to tell the ORM's cost from the SQL's shape."""

    name: str
    op: str  # the operation whose rows it must return
    sql: str
    params: dict


class Raw:
    """One DBAPI connection from the engine's pool, used directly."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.conn = engine.raw_connection()

    def prepare(self, sql: str, params: dict) -> tuple[str, dict]:
        values = {k: (v.isoformat() if self.sqlite and isinstance(v, date) else v) for k, v in params.items()}
        if not self.sqlite:
            sql = re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", r"%(\1)s", sql)
        return sql, values

    def run(self, sql: str, params: dict) -> list:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            rows = cur.fetchall()
        finally:
            cur.close()
        self.conn.rollback()
        return rows

    def close(self) -> None:
        self.conn.close()


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _page_ids(rows: list) -> list[int]:
    return [row[0] for row in rows[:PAGE]]


def build_ops(engine: Engine, factory, actor: Actor, today: date, raw: Raw) -> list[Op]:
    org = actor.org_id
    ilike = "ILIKE" if engine.dialect.name == "postgresql" else "LIKE"  # SQLite LIKE ignores ASCII case

    def page(filters: dict) -> Callable:
        def run(session):
            parsed = queries.parse_filters(filters)
            return [i.id for i in queries.list_instruments(session, actor, parsed, today).items]

        return run

    def page_sql(where: str = "") -> str:
        return SELECT_PAGE.format(where=where)

    base = {"org": org, "limit": PAGE + 1}
    ops = [
        Op("first page, by next_due_on", page({}), page_sql(), base, _page_ids),
    ]

    # Follow the cursor ~50 pages (outside the timing), then time the next page.
    cursor, last = None, None
    with factory() as session:
        scope_to_org(session, org)
        for _ in range(50):
            result = queries.list_instruments(
                session, actor, queries.parse_filters({"cursor": cursor} if cursor else {}), today
            )
            cursor, last = result.next_cursor, result.items[-1]
    # Mid-list pages are all dated: our code sends only the dated segment, which this mirrors.
    keyset = "AND i.next_due_on IS NOT NULL AND (i.next_due_on, i.id) > (:after_due, :after_id)"
    ops.append(
        Op(
            "page 51 (cursor after 50 pages)",
            page({"cursor": cursor}),
            page_sql(keyset),
            {**base, "after_due": last.next_due_on, "after_id": last.id},
            _page_ids,
        )
    )

    # A page at 90 % of the firm's list: where a keyset that the index cannot seek would show.
    sql, params = raw.prepare(
        "SELECT next_due_on, id FROM instruments WHERE org_id = :org "
        "ORDER BY next_due_on ASC NULLS LAST, id ASC LIMIT 1 OFFSET :skip",
        {"org": org, "skip": int(firm_size(engine, org) * 0.9)},
    )
    deep_due, deep_id = raw.run(sql, params)[0]
    deep_due = _as_date(deep_due)
    deep_cursor = queries._encode_cursor("next_due_on", deep_due, deep_id)
    ops.append(
        Op(
            "page at 90% depth (cursor)",
            page({"cursor": deep_cursor}),
            page_sql(keyset),
            {**base, "after_due": deep_due, "after_id": deep_id},
            _page_ids,
        )
    )

    ops.append(
        Op(
            "due_within=30",
            page({"due_within": "30"}),
            page_sql(f"AND i.status IN {RECALLED} AND i.next_due_on BETWEEN :today AND :until"),
            {**base, "today": today, "until": today + timedelta(days=30)},
            _page_ids,
        )
    )

    def search(label: str, q: str) -> Op:
        where = (
            f"AND (i.name {ilike} :pattern ESCAPE '\\' OR i.management_no {ilike} :pattern ESCAPE '\\' "
            f"OR i.serial_no {ilike} :pattern ESCAPE '\\')"
        )
        if engine.dialect.name == "postgresql":  # the bigram column and its index, as our search asks it
            where += " AND i.search_pairs @> search_bigrams(:q)"
        return Op(label, page({"q": q}), page_sql(where), {**base, "pattern": f"%{q}%", "q": q}, _page_ids)

    # A fragment of one serial number of the firm: one row among a million.
    sql, params = raw.prepare(
        "SELECT serial_no FROM instruments WHERE org_id = :org AND serial_no IS NOT NULL "
        "ORDER BY id LIMIT 1 OFFSET :skip",
        {"org": org, "skip": firm_size(engine, org) // 2},
    )
    fragment = raw.run(sql, params)[0][0][2:8]
    ops.append(search("q=压力 (search)", "压力"))
    ops.append(search(f"q={fragment} (rare serial fragment)", fragment))
    ops.append(search("q=硬度 (rare two-character word)", "硬度"))
    ops.append(
        Op(
            "label=red",
            page({"label": "red"}),
            page_sql(f"AND (i.status IN {UNUSABLE} OR i.conclusion = 'fail' OR i.next_due_on < :today)"),
            {**base, "today": today},
            _page_ids,
        )
    )
    ops.append(
        Op(
            "ledger_counts",
            lambda session: astuple(queries.ledger_counts(session, actor, today)),
            f"""
SELECT count(*),
       count(*) FILTER (WHERE status = 'in_service'),
       count(*) FILTER (WHERE status IN {RECALLED} AND next_due_on BETWEEN :today AND :until),
       count(*) FILTER (WHERE status IN {RECALLED} AND next_due_on < :today),
       count(*) FILTER (WHERE status IN {UNUSABLE} OR conclusion = 'fail' OR next_due_on < :today),
       count(*) FILTER (WHERE conclusion IN ('limited', 'pending') AND status NOT IN {UNUSABLE}
                          AND (next_due_on IS NULL OR next_due_on >= :today)),
       count(*) FILTER (WHERE (is_mandatory AND mandatory_use IS NULL)
                          OR (interval_months IS NULL
                              AND (control_method IS NULL OR control_method <> 'one_off'))
                          OR (next_due_on IS NULL AND (interval_months IS NULL OR interval_months <> 0)
                              AND (control_method IS NULL OR control_method <> 'one_off')
                              AND status IN {RECALLED})),
       (SELECT count(*) FROM status_requests WHERE org_id = :org AND state = 'pending')
FROM instruments WHERE org_id = :org
""",
            {"org": org, "today": today, "until": today + timedelta(days=30)},
            lambda rows: tuple(int(v) for v in rows[0]),
        )
    )
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last_day = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    ops.append(
        Op(
            f"due_calendar {first:%Y-%m}",
            lambda session: queries.due_calendar(session, actor, first, last_day),
            f"""
SELECT next_due_on, count(*) FROM instruments
WHERE org_id = :org AND status IN {RECALLED} AND next_due_on BETWEEN :first AND :last
GROUP BY next_due_on
""",
            {"org": org, "first": first, "last": last_day},
            lambda rows: {_as_date(day): count for day, count in rows},
        )
    )
    by_name = {op.name: op for op in ops}
    # The shape the code used before the fix: one query with OR next_due_on IS NULL.
    with_or = "AND ((i.next_due_on, i.id) > (:after_due, :after_id) OR i.next_due_on IS NULL)"
    probes = [
        Probe(
            "label=red as ours: CASE ... = 'red'",
            "label=red",
            page_sql(
                f"AND CASE WHEN (i.status IN {UNUSABLE} OR i.conclusion = 'fail' OR i.next_due_on < :today) "
                "THEN 'red' WHEN i.conclusion = 'limited' THEN 'yellow' ELSE 'green' END = 'red'"
            ),
            by_name["label=red"].params,
        ),
        Probe(
            "page 51, keyset with OR IS NULL (old)",
            "page 51 (cursor after 50 pages)",
            page_sql(with_or),
            by_name["page 51 (cursor after 50 pages)"].params,
        ),
        Probe(
            "90% depth, keyset with OR IS NULL (old)",
            "page at 90% depth (cursor)",
            page_sql(with_or),
            by_name["page at 90% depth (cursor)"].params,
        ),
    ]
    return ops, probes


def largest_firm(session) -> tuple[int, int, Actor]:
    """Return the firm with the most instruments, their number and its first metrology engineer."""
    allow_all_tenants(session)
    org_id, size = session.execute(
        select(Instrument.org_id, func.count(Instrument.id))
        .group_by(Instrument.org_id)
        .order_by(func.count(Instrument.id).desc())
        .limit(1)
    ).one()
    user = session.scalar(
        select(User).where(User.org_id == org_id, User.role == "metrology").order_by(User.id).limit(1)
    )
    return org_id, size, Actor.of(user)


def firm_size(engine: Engine, org_id: int) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            select(func.count()).select_from(Instrument.__table__).where(Instrument.org_id == org_id)
        )


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------


def measure(ops: list[Op], probes: list[Probe], factory, org_id: int, raw: Raw, runs: int, warmup: int):
    """Check that ours and raw agree, then time them and return the median of each case (ms).

    The cases of one operation (ours, ours without the net, raw, raw variants) are timed together,
    one of each per round in a new random order: load from elsewhere on the machine hits every side
    alike, and each operation is measured in its own warm cache (at 1M a full-firm scan evicts the
    pages the other operations need from the 128 MB of shared buffers).
    """
    results: dict[str, object] = {}
    groups: list[list[tuple[tuple[str, str], Callable]]] = []

    def ours_of(op: Op, net: bool = True) -> Callable:
        def run():
            with factory() as session:
                if net:
                    scope_to_org(session, org_id)
                else:  # the same code with the tenancy net open: what the net itself costs
                    allow_all_tenants(session)
                return op.ours(session)

        return run

    def raw_of(sql: str, params: dict, convert: Callable) -> Callable:
        return lambda: convert(raw.run(sql, params))

    for op in ops:
        ours, theirs = ours_of(op), raw_of(*raw.prepare(op.sql, op.params), op.raw_result)
        mine, reference = ours(), theirs()
        if mine != reference:
            sys.exit(f"{op.name}: ours and raw disagree\n ours: {mine!r}\n raw:  {reference!r}")
        results[op.name] = mine
        group = [
            (("ours", op.name), ours),
            (("open", op.name), ours_of(op, net=False)),
            (("raw", op.name), theirs),
        ]
        for probe in (p for p in probes if p.op == op.name):
            variant = raw_of(*raw.prepare(probe.sql, probe.params), _page_ids)
            if variant() != mine:
                sys.exit(f"{probe.name}: returns other rows than {probe.op}")
            group.append((("probe", probe.name), variant))
        groups.append(group)

    def floor():  # a scoped session with no query: pool checkout (with pre-ping) and close
        with factory() as session:
            scope_to_org(session, org_id)
            session.connection()

    groups.append([(("floor", ""), floor)])
    medians: dict[tuple[str, str], float] = {}
    order = random.Random(0)
    for group in groups:
        for _ in range(warmup):
            for _key, fn in group:
                fn()
        samples: dict[tuple[str, str], list[float]] = {key: [] for key, _fn in group}
        for _ in range(runs):
            for key, fn in order.sample(group, len(group)):
                t0 = time.perf_counter()
                fn()
                samples[key].append(time.perf_counter() - t0)
        medians.update((key, statistics.median(times) * 1000) for key, times in samples.items())
    return results, medians


def _pad(label: str, width: int) -> str:
    """Left-justify ``label`` to ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in label)
    return label + " " * max(width - used, 0)


def _print_plan(engine: Engine, raw: Raw, title: str, statement: str, parameters) -> None:
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    cur = raw.conn.cursor()
    cur.execute(prefix + statement, parameters)
    plan = cur.fetchall()
    cur.close()
    raw.conn.rollback()
    print(f"\n--- {title}")
    for row in plan:
        print("   ", row[0] if engine.dialect.name == "postgresql" else row[-1])


def explain(engine: Engine, factory, org_id: int, ops: list[Op], probes: list[Probe], raw: Raw) -> None:
    """Print the plan of the exact statements our code sends (EXPLAIN ANALYZE / QUERY PLAN)."""
    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        for op in ops:
            sent.clear()
            with factory() as session:
                scope_to_org(session, org_id)
                op.ours(session)
            for statement, parameters in sent:
                if not statement.lstrip().upper().startswith("SELECT") or statement.strip() == "SELECT 1":
                    continue
                tail = " ".join(statement.split())[-90:]
                _print_plan(engine, raw, f"ours, {op.name}: ...{tail}", statement, parameters)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    for op in ops + probes:
        sql, params = raw.prepare(op.sql, op.params)
        _print_plan(engine, raw, f"raw, {op.name}", sql, params)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the benchmark database")
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--firms", type=int, default=20)
    parser.add_argument("--firm", type=int, default=1, help="the firm (organisation id) measured")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--explain", action="store_true", help="print the plans of the statements we send")
    args = parser.parse_args()

    url = normalise_url(args.url)
    ensure_database(url)
    engine = make_engine(url)
    today = today_in(TIMEZONE)
    load(engine, args.instruments, args.firms, args.seed, today)

    with engine.connect() as conn:
        user_id = conn.scalar(
            select(User.id)
            .where(User.org_id == args.firm, User.role == "metrology")
            .order_by(User.id)
            .limit(1)
        )
    if user_id is None:
        sys.exit(f"no metrology user in firm {args.firm}")
    actor = Actor(user_id, "bench", "metrology", args.firm, "firm", args.firm)
    factory = make_session_factory(engine)
    raw = Raw(engine)
    try:
        ops, probes = build_ops(engine, factory, actor, today, raw)
        size = firm_size(engine, args.firm)
        print(
            f"\n{engine.dialect.name} {engine.dialect.server_version_info}, "
            f"{args.instruments:,} instruments / {args.firms} firms; firm {args.firm} holds {size:,}; "
            f"median of {args.runs} runs after {args.warmup} warm-up runs\n"
        )
        print(f"{'operation':<34} {'rows':>6} {'ours (ms)':>10} {'no net':>8} {'raw (ms)':>9} {'ratio':>6}")
        print("-" * 78)
        results, ms = measure(ops, probes, factory, args.firm, raw, args.runs, args.warmup)
        for op in ops:
            result = results[op.name]
            rows = len(result) if isinstance(result, list | dict) else 1
            ours_ms, open_ms, raw_ms = ms["ours", op.name], ms["open", op.name], ms["raw", op.name]
            print(
                f"{_pad(op.name, 34)} {rows:>6} {ours_ms:>10.2f} {open_ms:>8.2f} {raw_ms:>9.2f} "
                f"{ours_ms / raw_ms:>6.2f}"
            )
        print("-" * 78)
        print("ours: scoped session as in a request; no net: same code, allow_all_tenants; ratio: ours/raw")
        print(
            f"a scoped session with no query (pool checkout with pre-ping, close): {ms['floor', '']:.2f} ms"
        )
        print(f"\n{'raw SQL variant (same rows)':<40} {'raw (ms)':>9} {'vs raw above':>13}")
        print("-" * 64)
        for probe in probes:
            variant_ms = ms["probe", probe.name]
            print(f"{_pad(probe.name, 40)} {variant_ms:>9.2f} {variant_ms / ms['raw', probe.op]:>13.2f}")
        if args.explain:
            explain(engine, factory, args.firm, ops, probes, raw)
    finally:
        raw.close()
        engine.dispose()


if __name__ == "__main__":
    main()
