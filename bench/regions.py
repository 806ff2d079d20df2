r"""The institute's region dashboard at scale: our query against the raw database doing the same work.

    python bench/regions.py --instruments 1000000 --firms 1000 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_regions_bench

The database is created when missing, migrated with Alembic and loaded once per size (the
``bench_meta`` table records what was loaded; another size empties and reloads it), with the ledger
of ``bench/ledger_list.py`` (its loader and rows): F firms spread over Henan's regions (every 37th
without a region), N instruments among them at random (every 20th mandatory one a household meter,
so both targets are exercised), one institute with an active link to 95% of the firms (the others
ended), and five completed visits and five returned service orders per firm this year.

- **ours**: what the web request does: a session scoped to the institute, then
  ``region_dashboard`` (the clients, one aggregate statement over their instruments grouped by
  client, the visits and orders done in the year), then close.
- **raw**: the same four statements written by hand on one DBAPI connection from
  ``engine.raw_connection()``: execute, fetch every row, roll back. It is the floor: the database
  doing the same work with no Python around it.

Before timing, the script checks that ours and raw give the same totals. ``--facts`` also times the
way the figures module reads one firm (``read_facts`` and ``inspection``, every instrument as an
object), over every linked firm once, to show why the dashboard does not read it that way.
``--explain`` prints the plan of the raw instrument statement.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_list import (  # noqa: E402
    Raw,
    _load_reference_rows,
    _print_plan,
    bench_meta,
    ensure_database,
    insert_instruments,
    instrument_rows,
    must_load,
    reset_sequences,
    user_row,
)

from models import ClientLink, Organization, ServiceOrder, User, Visit  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.clock import today_in  # noqa: E402
from service.db import (  # noqa: E402
    allow_all_tenants,
    make_engine,
    make_session_factory,
    normalise_url,
    scope_to_org,
)
from service.figures import (  # noqa: E402
    HOUSEHOLD_METER_WORDS,  # noqa: E402
    inspection,
    read_facts,
)
from service.reports.regions import fold_figures, region_dashboard  # noqa: E402
from service.validation import henan_regions  # noqa: E402

DATASET = "regions"
TIMEZONE = "Asia/Shanghai"
#: The name a twentieth of the mandatory instruments get: household meters (98% target).
METER = "单相电能表"


def _rows_with_meters(rows):
    for n, row in enumerate(rows):
        # Column 2 is the name, 15 the mandatory flag (INSTRUMENT_COLUMNS' order).
        if row[15] and n % 20 == 0:
            row = (*row[:2], METER, *row[3:])
        yield row


def load(engine, instruments: int, firms: int, seed: int, today: date) -> int:
    """Load the data set when it is not there already; return the institute's id."""
    institute_id = firms + 1
    wanted = {"dataset": DATASET, "instruments": str(instruments), "firms": str(firms), "seed": str(seed)}
    if not must_load(engine, wanted, instruments, ours=lambda meta: meta.get("dataset") == DATASET):
        return institute_id
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    codes = [r.code for r in henan_regions()]
    with engine.begin() as conn:
        ref = _load_reference_rows(conn, firms, rng, now)
        for org_id in range(1, firms + 1):
            conn.execute(
                Organization.__table__.update()
                .where(Organization.__table__.c.id == org_id)
                .values(region_code=None if org_id % 37 == 0 else codes[org_id % len(codes)])
            )
        conn.execute(
            insert(Organization.__table__),
            [
                {
                    "id": institute_id,
                    "slug": "bench-institute",
                    "name": "基准测试计量院",
                    "kind": "institute",
                    "timezone": TIMEZONE,
                    "created_at": now,
                }
            ],
        )
        staff_id = conn.scalar(select_max_user(conn)) + 1
        conn.execute(insert(User.__table__), [user_row(staff_id, institute_id, 3, 0, "staff", rng, now)])
        conn.execute(
            insert(ClientLink.__table__),
            [
                {
                    "institute_id": institute_id,
                    "firm_id": org_id,
                    "created_at": now,
                    "ended_at": now if org_id % 20 == 0 else None,
                }
                for org_id in range(1, firms + 1)
            ],
        )
        year_start = datetime(today.year, 1, 1, 12, tzinfo=UTC)
        span = max((now - year_start).days, 1)
        visits, orders = [], []
        for org_id in range(1, firms + 1):
            for _ in range(5):
                done = year_start + timedelta(days=rng.randrange(span))
                visits.append(
                    {
                        "institute_id": institute_id,
                        "firm_id": org_id,
                        "planned_on": done.date(),
                        "state": "completed",
                        "earliest_due_on": done.date() + timedelta(days=rng.randint(-5, 20)),
                        "created_at": done,
                        "completed_at": done,
                    }
                )
                orders.append(
                    {
                        "institute_id": institute_id,
                        "firm_id": org_id,
                        "method": "mail_in",
                        "state": "returned",
                        "created_at": done,
                        "changed_at": done,
                    }
                )
        conn.execute(insert(Visit.__table__), visits)
        conn.execute(insert(ServiceOrder.__table__), orders)
    insert_instruments(engine, _rows_with_meters(instrument_rows(instruments, firms, ref, rng, today, now)))
    loaded = time.perf_counter() - started
    with engine.begin() as conn:
        reset_sequences(
            conn,
            (
                "organizations",
                "users",
                "departments",
                "instruments",
                "client_links",
                "visits",
                "service_orders",
            ),
        )
        conn.execute(
            insert(bench_meta),
            [{"key": k, "value": v} for k, v in wanted.items()]
            + [{"key": "loaded_on", "value": today.isoformat()}],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(
        f"loaded {instruments:,} instruments across {firms:,} firms in {time.perf_counter() - started:.1f} s "
        f"(instruments {loaded:.1f} s)"
    )
    return institute_id


def select_max_user(conn):
    return select(func.max(User.__table__.c.id))


def raw_statements(sqlite: bool) -> list[str]:
    """The dashboard's four statements, by hand (``:name`` parameters)."""
    linked = "SELECT firm_id FROM client_links WHERE institute_id = :institute AND ended_at IS NULL"
    match = "REGEXP" if sqlite else "~"
    in_use = "status IN ('in_service', 'out_for_calibration', 'under_repair')"
    verified = (
        "control_method = 'verification' AND (conclusion IS NULL OR conclusion <> 'fail') "
        "AND next_due_on >= :today"
    )
    standing = f"CASE WHEN {verified} THEN 1 WHEN next_due_on < :today THEN 2 ELSE 0 END"
    kind = (
        f"CASE WHEN NOT ({in_use}) THEN 0 "
        "WHEN NOT is_mandatory THEN (CASE WHEN next_due_on < :today THEN 2 ELSE 1 END) "
        f"WHEN (name || ' ' || coalesce(catalog_item, '')) {match} :pattern THEN 4 + {standing} "
        f"ELSE 8 + {standing} END"
    )
    return [
        f"SELECT id, slug, name, region_code FROM organizations WHERE id IN ({linked})",
        f"""SELECT org_id, {kind} AS kind, count(*)
            FROM instruments WHERE org_id IN ({linked}) GROUP BY org_id, kind""",
        f"""SELECT firm_id, count(*) FROM visits WHERE institute_id = :institute AND firm_id IN ({linked})
            AND state = 'completed' AND completed_at >= :first AND completed_at < :last GROUP BY firm_id""",
        f"""SELECT firm_id, count(*) FROM service_orders
            WHERE institute_id = :institute AND firm_id IN ({linked})
            AND (state = 'returned' OR (state = 'completed' AND method = 'on_site'))
            AND changed_at >= :first AND changed_at < :last GROUP BY firm_id""",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the benchmark database")
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--firms", type=int, default=100)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--facts", action="store_true", help="also time read_facts over every linked firm")
    parser.add_argument("--explain", action="store_true", help="print the plan of the instrument statement")
    args = parser.parse_args()

    url = normalise_url(args.url)
    ensure_database(url)
    engine = make_engine(url)
    today = today_in(TIMEZONE)
    institute_id = load(engine, args.instruments, args.firms, args.seed, today)
    with engine.connect() as conn:
        staff_id = conn.scalar(
            User.__table__.select()
            .with_only_columns(User.__table__.c.id)
            .where(User.__table__.c.org_id == institute_id)
        )
    actor = Actor(staff_id, "bench", "staff", institute_id, "institute", institute_id)
    factory = make_session_factory(engine)
    raw = Raw(engine)
    if not raw.sqlite:  # as ours does for its statement (SET LOCAL jit = off)
        with raw.conn.cursor() as cur:
            cur.execute("SET jit = off")
        raw.conn.commit()
    first = datetime(today.year, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    params = {
        "institute": institute_id,
        "today": today,
        "first": first,
        "last": first.replace(year=today.year + 1),
    }
    params["pattern"] = HOUSEHOLD_METER_WORDS.pattern
    statements = [raw.prepare(sql, params) for sql in raw_statements(raw.sqlite)]

    def ours():
        with factory() as session:
            scope_to_org(session, institute_id)
            return region_dashboard(session, actor, today, today.year, TIMEZONE)

    def theirs():
        return [raw.run(sql, values) for sql, values in statements]

    try:
        dashboard, rows = ours(), theirs()
        total = dashboard.total
        mine = (
            sum(len(r.clients) for r in dashboard.regions),
            total.instruments,
            total.mandatory,
            total.household.denominator,
            total.household.numerator,
            total.other.denominator,
            total.other.numerator,
            total.overdue,
            total.visits,
            total.orders,
        )
        folded = fold_figures(rows[1]).values()
        sums = [
            sum(f.instruments for f in folded),
            sum(f.mandatory for f in folded),
            sum(f.household.denominator for f in folded),
            sum(f.household.numerator for f in folded),
            sum(f.other.denominator for f in folded),
            sum(f.other.numerator for f in folded),
            sum(f.overdue for f in folded),
        ]
        reference = (len(rows[0]), *sums, sum(r[1] for r in rows[2]), sum(r[1] for r in rows[3]))
        if mine != reference:
            sys.exit(f"ours and raw disagree\n ours: {mine}\n raw:  {reference}")
        samples: dict[str, list[float]] = {"ours": [], "raw": []}
        order = random.Random(0)
        cases = [("ours", ours), ("raw", theirs)]
        for _ in range(args.warmup):
            for _name, fn in cases:
                fn()
        for _ in range(args.runs):
            for name, fn in order.sample(cases, 2):
                t0 = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - t0)
        ours_ms, raw_ms = (statistics.median(samples[k]) * 1000 for k in ("ours", "raw"))
        print(
            f"\n{engine.dialect.name} {engine.dialect.server_version_info}, "
            f"{args.instruments:,} instruments / {args.firms:,} firms, {mine[0]:,} actively linked; "
            f"median of {args.runs} runs after {args.warmup} warm-up"
        )
        print(
            f"clients {mine[0]:,}, instruments in use {mine[1]:,}, mandatory {mine[2]:,} "
            f"(household {mine[3]:,}, inspection {total.inspection.rate})"
        )
        print(f"{'region dashboard':<20} {'ours (ms)':>10} {'raw (ms)':>9} {'ratio':>6}")
        print(f"{'':<20} {ours_ms:>10.1f} {raw_ms:>9.1f} {ours_ms / raw_ms:>6.2f}")
        if args.facts:
            t0 = time.perf_counter()
            with factory() as session:
                allow_all_tenants(session)  # read_facts reads one firm at a time, as a firm's own page does
                for firm_id, *_rest in rows[0]:
                    inspection(read_facts(session, firm_id, TIMEZONE), today)
            print(
                f"read_facts + inspection per firm, every linked firm once: {time.perf_counter() - t0:.1f} s"
            )
        if args.explain:
            _print_plan(engine, raw, "instrument figures (raw)", *statements[1])
    finally:
        raw.close()
        engine.dispose()


if __name__ == "__main__":
    main()
