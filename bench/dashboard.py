r"""The firm's dashboard at scale: our code against the raw database doing the same work.

    python bench/dashboard.py --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_bench \
        --instruments 1000000 --firms 20
    python bench/dashboard.py --url sqlite:////tmp/calrecall_bench.sqlite --instruments 100000 --firms 2

The data is ``bench/ledger_list.py``'s (its loader; the database is loaded once per size). For the
largest firm, a metrology engineer's actor:

- **ours (kept)**: what the page does once its figures are kept: a session scoped to the firm,
  ``service.reports.queries.firm_dashboard`` (the ledger's counts, the due, overdue, status and ABC
  counts and the inspection and on-time figures, all kept), commit, close;
- **ours (after a change)**: the same right after the ledger changed (the kept figures dropped),
  when the inspection and on-time figures are read again from every instrument's history;
- **raw, counting**: the four count statements written by hand on one DBAPI connection: execute,
  fetch every row, roll back (what computing the figures costs the database);
- **raw, kept**: the statements the page needs once the figures are kept (the history's head, the
  kept figures, the requests awaiting a decision, the department names), by hand alike.

Ours and raw must give the same counts, or the script stops.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_list import Raw, ensure_database, largest_firm, load  # noqa: E402

from models import FigureSnapshot  # noqa: E402
from models.ledger import RECALLED_STATUSES  # noqa: E402
from service.clock import today_in  # noqa: E402
from service.db import allow_all_tenants, make_engine, make_session_factory, normalise_url, scope_to_org  # noqa: E402
from service.migrations import upgrade  # noqa: E402
from service.reports import queries  # noqa: E402
from service.reports.dashboard import months_from  # noqa: E402

TIMEZONE = "Asia/Shanghai"
IN_USE = ", ".join(f"'{status}'" for status in RECALLED_STATUSES)
RAW_STATEMENTS = [
    # Due per month by label: per day and label, summed by month in Python as ours does.
    f"""SELECT next_due_on, CASE
          WHEN status IN ('suspended', 'sealed', 'scrapped', 'under_repair') OR conclusion = 'fail'
               OR next_due_on < :today THEN 'red'
          WHEN conclusion IN ('limited', 'pending') THEN 'yellow' ELSE 'green' END AS grp, count(id)
        FROM instruments
        WHERE org_id = :org AND status IN ({IN_USE}) AND next_due_on BETWEEN :first AND :last
        GROUP BY next_due_on, grp""",
    f"""SELECT coalesce(department_id, 0), count(id) FROM instruments
        WHERE org_id = :org AND status IN ({IN_USE}) AND next_due_on < :today
        GROUP BY coalesce(department_id, 0)""",
    "SELECT status, count(id) FROM instruments WHERE org_id = :org GROUP BY status",
    f"""SELECT abc_class, count(id) FROM instruments WHERE org_id = :org AND status IN ({IN_USE})
        GROUP BY abc_class""",
]
#: What the page reads once its figures are kept: the history's head, the kept figures, the live
#: count of requests awaiting a decision and the department names.
RAW_KEPT = [
    "SELECT last_seq FROM history_heads WHERE org_id = :org",
    "SELECT history_seq, figures FROM figure_snapshots WHERE org_id = :org AND as_of = :today",
    "SELECT count(id) FROM status_requests WHERE org_id = :org AND state = 'pending'",
    "SELECT id, name FROM departments WHERE org_id = :org",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the benchmark database")
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--firms", type=int, default=2)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="runs after a change (each reads every history)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    url = normalise_url(args.url)
    ensure_database(url)
    engine = make_engine(url)
    upgrade(engine)
    today = today_in(TIMEZONE)
    load(engine, args.instruments, args.firms, args.seed, today)
    factory = make_session_factory(engine)
    with factory() as session:
        org_id, size, actor = largest_firm(session)

    def ours():
        with factory() as session:
            scope_to_org(session, org_id)
            board = queries.firm_dashboard(session, actor, today)
            session.commit()
            return board

    def forget():
        with factory() as session:
            allow_all_tenants(session)
            session.execute(delete(FigureSnapshot).where(FigureSnapshot.org_id == org_id))
            session.commit()

    months = months_from(today, 12)
    raw = Raw(engine)
    params = {"org": org_id, "today": today, "first": months[0].first, "last": months[-1].last}
    statements = [raw.prepare(sql, params) for sql in RAW_STATEMENTS]
    kept_statements = [raw.prepare(sql, params) for sql in RAW_KEPT]

    def theirs():
        return [raw.run(sql, values) for sql, values in statements]

    def theirs_kept():
        return [raw.run(sql, values) for sql, values in kept_statements]

    try:
        board, rows = ours(), theirs()
        mine = (
            sum(sum(counts) for counts in board.due.counts.values()),
            sum(count for _dept, count in board.overdue),
            sum(board.statuses.values()),
            sum(board.abc.values()),
        )
        reference = tuple(sum(row[-1] for row in result) for result in rows[:4])
        if mine != reference or not theirs_kept()[1]:
            sys.exit(f"ours and raw disagree\n ours: {mine}\n raw:  {reference}")
        samples: dict[str, list[float]] = {"kept": [], "raw": [], "raw kept": [], "after a change": []}
        cases = [("kept", ours), ("raw", theirs), ("raw kept", theirs_kept)]
        order = random.Random(0)
        for _ in range(3):
            ours(), theirs(), theirs_kept()
        for _ in range(args.runs):
            for name, fn in order.sample(cases, 3):
                started = time.perf_counter()
                fn()
                samples[name].append(time.perf_counter() - started)
        for _ in range(args.cold_runs):
            forget()
            started = time.perf_counter()
            ours()
            samples["after a change"].append(time.perf_counter() - started)
        kept, floor, kept_floor, cold = (
            statistics.median(samples[k]) * 1000 for k in ("kept", "raw", "raw kept", "after a change")
        )
        print(
            f"\n{engine.dialect.name} {engine.dialect.server_version_info}, "
            f"{args.instruments:,} instruments / "
            f"{args.firms} firms; the firm measured has {size:,}; median of {args.runs} runs "
            f"({args.cold_runs} after a change)"
        )
        print(f"{'firm dashboard':<30} {'ms':>8} {'ratio':>7}  to")
        print(f"{'raw, counting the ledger':<30} {floor:>8.1f}")
        print(f"{'raw, reading the kept figures':<30} {kept_floor:>8.1f}")
        print(f"{'ours, figures kept':<30} {kept:>8.1f} {kept / kept_floor:>7.2f}  raw kept")
        print(f"{'ours, after a change':<30} {cold:>8.1f} {cold / floor:>7.2f}  raw counting")
        print(f"(today {today}, next 12 months {months[0].first} … {months[-1].last + timedelta(days=0)})")
    finally:
        raw.close()
        engine.dispose()


if __name__ == "__main__":
    main()
