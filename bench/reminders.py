r"""Reminders: planning one day and dispatching its outbox, against the raw database.

    python bench/reminders.py --instruments 1000000 --firms 1000 \
        --url sqlite:////tmp/calrecall_reminders_bench.sqlite3 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_reminders_bench

Each database is created when missing, migrated with Alembic, and loaded once per size (the
``bench_meta`` table records what was loaded; another size empties and reloads it): F firms, each
with 10 users who all get reminders (an admin, two metrology staff, seven custodians who also head
the firm's eight departments; each with a mobile number and an email address, every channel on)
and N/F instruments whose custodian is one of the firm's users. No firm has a policy row: the
defaults apply (ladder 30/15/7/0 days, every 7 days overdue, admins from the second overdue
reminder, window 09:00–18:00, 200 SMS a day). The day is Tuesday 2026-12-01, 10:00 in Shanghai.

- **planning, ours**: ``run_planning`` (what the scheduler and ``reminders tick`` call) for every
  firm's day, after the day's notifications, items and ``reminder_runs`` rows were deleted.
- **planning, raw**: one hand-written statement on a DBAPI connection that selects the same due
  instruments (id, firm, due date, custodian) of all firms: the recalled statuses ``find_due``
  filters on, and the due dates of ``candidate_due_dates`` for the day (served by the partial
  index ``ix_instruments_next_due_on_recalled``).
- **dispatch**: ``run_dispatch`` (the job) with every channel replaced by a null channel that
  accepts each message at once; messages/s over the planned outbox.

Before timing, the script checks that the instruments in ``notification_items`` (id and due date)
are exactly the raw statement's rows and that each custodian got an SMS listing their instruments;
after each dispatch, that every pending message was sent. A last planning round times the parts of
``plan_all`` (find_due_across, assign_recipients, rendering, inserts) to show where the time goes.
``--explain`` prints the plans of the raw statement and of one firm's ``find_due``.
"""

from __future__ import annotations

import logging
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_list import (  # noqa: E402
    DEPARTMENTS,
    Raw,
    _print_plan,
    bench_meta,
    ensure_database,
    firm_row,
    insert_instruments,
    instrument_rows,
    must_load,
    parser_with_urls,
    reset_sequences,
    user_row,
)

from models import Department, Notification, Organization, User  # noqa: E402
from models.ledger import RECALLED_STATUSES  # noqa: E402
from notifications import SendResult  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Config  # noqa: E402
from service.db import allow_all_tenants, make_engine, normalise_url  # noqa: E402
from service.jobs.reminders import run_dispatch, run_planning  # noqa: E402
from service.reminders import planning  # noqa: E402
from service.reminders.policy import defaults, ladder_of  # noqa: E402
from service.reminders.rules import candidate_due_dates  # noqa: E402

TIMEZONE = "Asia/Shanghai"
#: A Tuesday; 10:00 is inside the default sending window, so planned messages are due at once.
DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo(TIMEZONE))
#: Each firm's users, in order: all of them are told about some instrument on the day.
ROLES = ["admin", "metrology", "metrology"] + ["viewer"] * 7
# Bumped when the generated rows change, so that a database loaded by older code is reloaded.
DATASET = "reminders-2"

# ----------------------------------------------------------------------------------------------
# The data
# ----------------------------------------------------------------------------------------------


def _due_date(rng: random.Random) -> date:
    """A next due date: 90% within the coming year, 8% overdue by up to 120 days, 2% by up to 3 years."""
    r = rng.random()
    if r < 0.90:
        return DAY + timedelta(days=rng.randrange(0, 365))
    if r < 0.98:
        return DAY - timedelta(days=rng.randint(1, 120))
    return DAY - timedelta(days=rng.randint(121, 3 * 365))


def _reference_rows(conn, firms: int, rng: random.Random, now: datetime) -> dict:
    """Insert the firms, their ten users and eight departments; return custodians and departments by firm."""
    orgs, users, depts = [], [], []
    custodians: dict[int, list[int]] = {}
    dept_ids: dict[int, list[int]] = {}
    user_id = dept_id = 0
    for org_id in range(1, firms + 1):
        orgs.append(firm_row(org_id, 4, rng, now))
        ids = []
        for n, role in enumerate(ROLES):
            user_id += 1
            ids.append(user_id)
            opted_in = {"notify_sms": True, "notify_email": True, "notify_in_app": True}
            users.append(user_row(user_id, org_id, 4, n, role, rng, now, **opted_in))
        viewers = [uid for uid, role in zip(ids, ROLES, strict=True) if role == "viewer"]
        custodians[org_id] = ids[1:]  # everyone but the admin keeps instruments
        dept_ids[org_id] = []
        for k, name in enumerate(DEPARTMENTS):
            dept_id += 1
            depts.append(
                {"id": dept_id, "org_id": org_id, "name": name, "head_user_id": viewers[k % len(viewers)]}
            )
            dept_ids[org_id].append(dept_id)
    conn.execute(insert(Organization.__table__), orgs)
    conn.execute(insert(User.__table__), users)
    conn.execute(insert(Department.__table__), depts)
    return {"custodians": custodians, "departments": dept_ids}


def _instrument_rows(n: int, firms: int, ref: dict, rng: random.Random, now: datetime):
    """Yield ``n`` instrument rows: the ledger benchmark's, with the firms in turn, due dates from
    :func:`_due_date` and every custodian a user of the firm (so that planning addresses them)."""
    return instrument_rows(
        n,
        firms,
        ref,
        rng,
        DAY,
        now,
        due_date=_due_date,
        firm_of=lambda _rng, row_id: (row_id - 1) % firms + 1,
        custodian=lambda r, refs, org_id: r.choice(refs["custodians"][org_id]),
        note=lambda _rng: None,
    )


def load(engine: Engine, instruments: int, firms: int, seed: int) -> None:
    wanted = {"dataset": DATASET, "instruments": str(instruments), "firms": str(firms), "seed": str(seed)}
    if not must_load(engine, wanted, instruments, ours=lambda meta: meta.get("dataset") == DATASET):
        return
    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as conn:
        ref = _reference_rows(conn, firms, rng, now)
    insert_instruments(engine, _instrument_rows(instruments, firms, ref, rng, now))
    loaded = time.perf_counter() - started
    with engine.begin() as conn:
        reset_sequences(conn, ("organizations", "users", "departments", "instruments"))
        conn.execute(
            insert(bench_meta),
            [{"key": k, "value": v} for k, v in wanted.items()]
            + [{"key": "loaded_on", "value": date.today().isoformat()}],
        )
    analyze(engine)
    total = time.perf_counter() - started
    print(
        f"loaded {instruments:,} instruments across {firms:,} firms: "
        f"instruments {loaded:.1f} s ({instruments / loaded:,.0f} rows/s), with vacuum/analyze {total:.1f} s"
    )


def analyze(engine: Engine, table: str = "") -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}".strip())
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {table}".strip())


# ----------------------------------------------------------------------------------------------
# Between rounds
# ----------------------------------------------------------------------------------------------

PLANNED_TABLES = ("notification_items", "notifications", "reminder_runs", "sms_usage")


def forget_plans(engine: Engine) -> None:
    """Delete every planned message and planned day, so that the next round plans the day again."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(PLANNED_TABLES)}")
        else:
            for table in PLANNED_TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")


def unsend(engine: Engine) -> int:
    """Put the day's digests back as planned (pending, unclaimed, uncounted); return how many."""
    table = Notification.__table__
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.kind != "due_digest"))
        conn.exec_driver_sql("DELETE FROM sms_usage")
        return conn.execute(
            table.update()
            .where(table.c.channel != "in_app")
            .values(
                state="pending",
                attempts=0,
                not_before=NOW,
                **dict.fromkeys(
                    (
                        "lease_until",
                        "claimed_by",
                        "quota_day",
                        "provider_id",
                        "provider_status",
                        "error_code",
                        "last_error",
                        "first_attempt_at",
                        "sent_at",
                    )
                ),
            )
        ).rowcount


def planned_count(engine: Engine) -> int:
    """Return how many of the day's digests are in the outbox (any state)."""
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM notifications WHERE kind = 'due_digest'"))


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text("SELECT count(*) FROM notifications WHERE state = 'pending' AND kind = 'due_digest'")
        )


# ----------------------------------------------------------------------------------------------
# Raw
# ----------------------------------------------------------------------------------------------


def _due_dates_sql() -> tuple[str, dict]:
    """The day's candidate due dates as SQL: single days in one IN list, longer ranges with BETWEEN."""
    ranges = candidate_due_dates(ladder_of(defaults(0)), DAY, DAY)
    params: dict = {}
    terms = []
    singles = [start for start, end in ranges if start == end]
    if singles:
        params.update((f"d{k}", day) for k, day in enumerate(singles))
        terms.append(f"next_due_on IN ({', '.join(f':d{k}' for k in range(len(singles)))})")
    for k, (start, end) in enumerate(r for r in ranges if r[0] != r[1]):
        params[f"s{k}"], params[f"e{k}"] = start, end
        terms.append(f"next_due_on BETWEEN :s{k} AND :e{k}")
    return " OR ".join(terms), params


STATUSES_SQL = ", ".join(f"'{s}'" for s in RECALLED_STATUSES)


def raw_statement() -> tuple[str, dict]:
    """The due instruments of every firm for DAY, in one statement: recalled statuses, candidate due dates."""
    dates, params = _due_dates_sql()
    sql = (
        "SELECT id, org_id, next_due_on, custodian_user_id FROM instruments "
        f"WHERE status IN ({STATUSES_SQL}) AND ({dates})"
    )
    return sql, params


def raw_firm_statement() -> tuple[str, dict]:
    """What ``find_due`` selects for one firm (same columns, WHERE and ORDER BY), by hand."""
    dates, params = _due_dates_sql()
    sql = (
        "SELECT id, management_no, name, department_id, next_due_on, is_mandatory, custodian_user_id, "
        "custodian_mobile, custodian_name FROM instruments "
        f"WHERE org_id = :org AND status IN ({STATUSES_SQL}) AND ({dates}) ORDER BY next_due_on, id"
    )
    return sql, params


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def check_plan(engine: Engine, rows: list, summary: dict) -> None:
    """Stop unless the planned items are exactly the raw rows and each custodian got an SMS listing theirs."""
    expected = {(row[0], _as_date(row[2])) for row in rows}
    with engine.connect() as conn:
        planned = {
            (instrument_id, _as_date(due_on))
            for instrument_id, due_on in conn.execute(
                text("SELECT DISTINCT instrument_id, due_on FROM notification_items")
            )
        }
        told = set(
            conn.execute(
                text(
                    "SELECT i.instrument_id, n.recipient_user_id FROM notification_items i "
                    "JOIN notifications n ON n.id = i.notification_id WHERE n.channel = 'sms'"
                )
            ).all()
        )
    if planned != expected:
        sys.exit(
            f"planned instruments differ from the raw query: {len(planned - expected)} only planned, "
            f"{len(expected - planned)} only raw"
        )
    if summary["instruments"] != len(expected):
        sys.exit(f"run_planning reports {summary['instruments']} instruments, the raw query {len(expected)}")
    missing = {(row[0], row[3]) for row in rows if row[3] is not None} - told
    if missing:
        sys.exit(f"{len(missing)} custodians got no SMS listing their instrument, e.g. {sorted(missing)[:3]}")


# ----------------------------------------------------------------------------------------------
# Where planning's time goes
# ----------------------------------------------------------------------------------------------


def breakdown(app, engine: Engine) -> tuple[float, dict[str, float]]:
    """Plan the day again with timers around ``plan_days``' parts; return the total and each part (s)."""
    spent: dict[str, float] = defaultdict(float)

    def timed(name, fn, key=None):
        @wraps(fn)
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key(*args) if key else name] += time.perf_counter() - started

        return run

    timed_parts = (
        "find_due_across",
        "assign_recipients",
        "render_digests",
        "insert_ignoring_conflicts",
        "insert_rows",
    )
    originals = {name: getattr(planning, name) for name in timed_parts}
    planning.find_due_across = timed("find_due_across", originals["find_due_across"])
    planning.assign_recipients = timed("assign_recipients", originals["assign_recipients"])
    planning.render_digests = timed("render_digests", originals["render_digests"])
    table_key = lambda _conn, table, *_: f"insert {table.name}"  # noqa: E731
    planning.insert_ignoring_conflicts = timed(
        "insert", originals["insert_ignoring_conflicts"], key=table_key
    )
    planning.insert_rows = timed("insert", originals["insert_rows"], key=table_key)
    forget_plans(engine)
    try:
        started = time.perf_counter()
        run_planning(app, NOW)
        total = time.perf_counter() - started
    finally:
        for name, fn in originals.items():
            setattr(planning, name, fn)
    return total, dict(spent)


def explain(engine: Engine, raw: Raw, sql: str, params: dict, firm: int) -> None:
    """Print the plan of the raw statement and of the statement ``find_due`` sends for one firm."""
    _print_plan(engine, raw, "raw: the due instruments of all firms", *raw.prepare(sql, params))
    sent: list = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        sent.append((statement, parameters))

    from service.db import make_session_factory

    factory = make_session_factory(engine)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with factory() as session:
            allow_all_tenants(session)
            planning.find_due(session, firm, ladder_of(defaults(firm)), DAY, DAY)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    for statement, parameters in sent:
        if statement.lstrip().upper().startswith("SELECT"):
            _print_plan(engine, raw, f"ours: find_due of firm {firm}", statement, parameters)


# ----------------------------------------------------------------------------------------------
# The floor: the same day planned by hand
# ----------------------------------------------------------------------------------------------

#: What the floor keeps of each planned message: who gets it, how, and which instruments it lists.
Shape = tuple[int, str, int | None, str, str, list[tuple[int, str, int]]]

NOTIFICATION_COLUMNS = (
    "id", "org_id", "kind", "channel", "recipient_user_id", "to_address", "locale", "subject", "body",
    "idempotency_key", "local_day", "state", "attempts", "not_before", "is_ceiling_exempt", "summary",
    "created_at", "updated_at",
)  # fmt: skip
ITEM_COLUMNS = ("org_id", "notification_id", "instrument_id", "stage", "days", "due_on")
LINE = "{management_no} {name}：{due_on} 到期（{days} 天）"
HEADER = "{org}：{count} 台计量器具需要安排检定/校准"


def message_shapes(engine: Engine) -> list[Shape]:
    """Read back what the checked planning round wrote: each message's recipient, channel and items."""
    with engine.connect() as conn:
        items = defaultdict(list)
        for notification_id, instrument_id, stage, days in conn.execute(
            text("SELECT notification_id, instrument_id, stage, days FROM notification_items")
        ):
            items[notification_id].append((instrument_id, stage, days))
        return [
            (org_id, channel, user_id, to_address, locale, items[notification_id])
            for notification_id, org_id, channel, user_id, to_address, locale in conn.execute(
                text(
                    "SELECT id, org_id, channel, recipient_user_id, to_address, locale FROM notifications "
                    "WHERE kind = 'due_digest' ORDER BY id"
                )
            )
        ]


def floor_statement() -> tuple[str, dict]:
    """The raw selection with what a digest line shows: the due instruments of every firm."""
    dates, params = _due_dates_sql()
    sql = (
        "SELECT i.id, i.management_no, i.name, i.next_due_on, o.name FROM instruments i "
        f"JOIN organizations o ON o.id = i.org_id WHERE i.status IN ({STATUSES_SQL}) AND ({dates})"
    )
    return sql, params


def floor_round(engine: Engine, raw: Raw, prepared: tuple[str, dict], shapes: list[Shape]) -> float:
    """Plan the day by hand and return the seconds it took.

    Select the due rows, format each message with ``str.format``, copy the messages and their items
    into the outbox (PostgreSQL ``COPY``; SQLite ``executemany``), roll back. The outbox must be
    empty (after ``forget_plans``).
    """
    started = time.perf_counter()
    due = {row[0]: row for row in raw.run(*prepared)}
    cur = raw.conn.cursor()
    try:
        if raw.sqlite:
            cur.execute("BEGIN")  # the engine's SQLite connections leave transactions to the caller
            cur.execute("SELECT coalesce(max(id), 0) FROM notifications")
            first = cur.fetchone()[0] + 1
            ids = range(first, first + len(shapes))
        else:
            # Hand-written code runs under the server's planning: the engine's force_custom_plan
            # would plan each foreign-key check again for every row copied (service/bulk.py).
            cur.execute("SET LOCAL plan_cache_mode = auto")
            cur.execute("SELECT nextval('notifications_id_seq') FROM generate_series(1, %s)", (len(shapes),))
            ids = [row[0] for row in cur.fetchall()]
        day, now = DAY.isoformat(), datetime.now(UTC)
        messages, items = [], []
        for notification_id, shape in zip(ids, shapes, strict=True):
            org_id, channel, user_id, to_address, locale, listed = shape
            lines = []
            for instrument_id, stage, days in listed:
                _id, management_no, name, due_on, org_name = due[instrument_id]
                lines.append(LINE.format(management_no=management_no, name=name, due_on=due_on, days=days))
                items.append((org_id, notification_id, instrument_id, stage, days, due_on))
            subject = HEADER.format(org=org_name, count=len(listed))
            body = subject + "\n" + "\n".join(lines)
            key = f"floor:{notification_id}"
            messages.append(
                (notification_id, org_id, "due_digest", channel, user_id, to_address, locale, subject, body,
                 key, day, "pending", 0, now, False, "{}", now, now)
            )  # fmt: skip
        if raw.sqlite:
            for table, columns, rows in (
                ("notifications", NOTIFICATION_COLUMNS, messages),
                ("notification_items", ITEM_COLUMNS, items),
            ):
                marks = ", ".join("?" * len(columns))
                cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        else:
            for table, columns, rows in (
                ("notifications", NOTIFICATION_COLUMNS, messages),
                ("notification_items", ITEM_COLUMNS, items),
            ):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        elapsed = time.perf_counter() - started
    finally:
        cur.close()
        raw.conn.rollback()
    return elapsed


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------


class NullChannel:
    """A channel that accepts every message at once and sends nothing."""

    def __init__(self):
        self.count = 0

    def send(self, message):
        self.count += 1
        return SendResult.sent(f"null-{self.count}")


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def dispatch_rounds(app, engine: Engine, runs: int) -> tuple[int, float]:
    """Dispatch the outbox the last planning round wrote, then put it back and again; print the rates."""
    if engine.dialect.name == "postgresql":
        analyze(engine, "notifications")
    with engine.connect() as conn:
        by_channel = dict(
            conn.execute(
                text("SELECT channel, count(*) FROM notifications WHERE state = 'pending' GROUP BY channel")
            ).all()
        )
    dispatch_times, totals = [], None
    for k in range(runs):
        if k:
            unsend(engine)
            if engine.dialect.name == "postgresql":
                analyze(engine, "notifications")
        pending = pending_count(engine)
        started = time.perf_counter()
        totals = run_dispatch(app, NOW)
        dispatch_times.append(time.perf_counter() - started)
        left = pending_count(engine)
        if totals.get("sent") != pending or left:
            sys.exit(
                f"dispatch sent {totals.get('sent')} of {pending} pending messages; {left} still pending"
            )

    dispatch_s = _median(dispatch_times)
    sent = totals["sent"]
    channels = ", ".join(f"{c} {n:,}" for c, n in sorted(by_channel.items()))
    print(
        f"\ndispatch to a null channel: {sent:,} messages ({channels}) in {dispatch_s:.2f} s: "
        f"{sent / dispatch_s:,.0f} messages/s (goal >= 2,000); "
        f"held {totals.get('held', 0)}, skipped {totals.get('skipped', 0)}, "
        f"deferred {totals.get('deferred', 0)}"
    )
    print(f"dispatch rounds (s): {', '.join(f'{t:.2f}' for t in dispatch_times)}")
    return sent, dispatch_s


def bench(
    url: str,
    instruments: int,
    firms: int,
    seed: int,
    runs: int,
    raw_runs: int,
    show_plans: bool,
    dispatch_only: bool = False,
):
    url = normalise_url(url)
    ensure_database(url)
    engine = make_engine(url)
    load(engine, instruments, firms, seed)
    config = Config(
        database_url=url,
        secret_key="bench-secret-key-0123456789",
        sms_backend="console",
        email_backend="console",
        robot_backend="console",
        base_url="https://calrecall.example.com",
        import_runner="scheduler",
    )
    app = create_app(config, engine=engine)
    logging.getLogger().setLevel(logging.WARNING)
    null = NullChannel()
    app.extensions["calrecall.channel_overrides"] = dict.fromkeys(
        ("sms", "email", "in_app", "wecom", "dingtalk"), null
    )
    server = engine.dialect.server_version_info
    print(
        f"\n{engine.dialect.name} {'.'.join(map(str, server))}: {instruments:,} instruments, "
        f"{firms:,} firms, day {DAY} at {NOW:%H:%M} {TIMEZONE}; median of {runs} rounds (raw: {raw_runs})"
    )

    if dispatch_only and planned_count(engine):
        # The day is planned already (by an earlier run): dispatch it again from the start.
        print(f"the day's {planned_count(engine):,} messages are planned already; dispatching them again")
        unsend(engine)
        dispatch_rounds(app, engine, runs)
        engine.dispose()
        return
    # Check: one planning round (untimed) against the raw rows.
    sql, params = raw_statement()
    raw = Raw(engine)
    try:
        prepared = raw.prepare(sql, params)
        rows = raw.run(*prepared)
        forget_plans(engine)
        summary = run_planning(app, NOW)
        check_plan(engine, rows, summary)
        per_firm = Counter(row[1] for row in rows)
        print(
            f"due today: {len(rows):,} instruments ({len(rows) / instruments:.2%}; "
            f"{min(per_firm.values())}–{max(per_firm.values())} a firm), "
            f"{summary['messages']:,} messages planned in {summary['firms_planned']:,} firms (checked)"
        )
        if dispatch_only:
            dispatch_rounds(app, engine, runs)
            engine.dispose()
            return

        shapes = message_shapes(engine)
        raw_times = []
        for _ in range(2):
            raw.run(*prepared)
        for _ in range(raw_runs):
            started = time.perf_counter()
            raw.run(*prepared)
            raw_times.append(time.perf_counter() - started)

        # The same selection as find_due makes it: one statement per firm, on one raw connection.
        firm_sql, firm_params = raw.prepare(*raw_firm_statement())
        per_firm_times = []
        for _ in range(max(1, runs)):
            started = time.perf_counter()
            found = sum(len(raw.run(firm_sql, {**firm_params, "org": org})) for org in range(1, firms + 1))
            per_firm_times.append(time.perf_counter() - started)
            assert found == len(rows), (found, len(rows))

        plan_times = []
        for _ in range(runs):
            forget_plans(engine)
            started = time.perf_counter()
            again = run_planning(app, NOW)
            plan_times.append(time.perf_counter() - started)
            assert again == summary, (again, summary)

        floor_prepared = raw.prepare(*floor_statement())
        floor_times = []
        for _ in range(max(1, runs)):
            forget_plans(engine)
            floor_times.append(floor_round(engine, raw, floor_prepared, shapes))

        total, parts = breakdown(app, engine)
        if show_plans:
            explain(engine, raw, sql, params, 1)
    finally:
        raw.close()

    sent, dispatch_s = dispatch_rounds(app, engine, runs)
    plan_s, raw_s = _median(plan_times), _median(raw_times)
    per_firm_s = _median(per_firm_times)
    width = 50
    print(f"\n{'':{width}}{'seconds':>10}{'ratio':>9}")
    print("-" * (width + 19))
    floor_s = _median(floor_times)
    lines = [
        ("raw: due instruments of all firms, 1 query", raw_s),
        ("floor: select, str.format, copy in (by hand)", floor_s),
        ("ours: run_planning, the whole day", plan_s),
        ("ours: find_due_across, the day's due selection", parts["find_due_across"]),
        (f"raw: find_due's query once per firm ({firms:,})", per_firm_s),
    ]
    for label, seconds in lines:
        print(f"{label:{width}}{seconds:10.3f}{seconds / raw_s:9.2f}")
    print("-" * (width + 19))
    print(f"ours / floor: {plan_s / floor_s:.1f}x (goal < 3; the day in under 10 s)")
    print(f"planning rounds (s): {', '.join(f'{t:.2f}' for t in plan_times)}")
    print(f"floor rounds (s): {', '.join(f'{t:.2f}' for t in floor_times)}")
    print(f"\nwhere one planning round's {total:.2f} s go (timers around plan_days' parts):")
    named = {
        "find_due_across": "find_due_across (one SELECT, latest_stage)",
        "assign_recipients": "assign_recipients (users, opt-outs, heads)",
        "render_digests": "render_digests (Jinja, per recipient)",
        "insert notifications": "INSERT notifications … RETURNING",
        "insert notification_items": "INSERT notification_items (COPY on PostgreSQL)",
        "insert reminder_runs": "INSERT reminder_runs",
    }
    for key, label in named.items():
        print(f"  {label:48}{parts.get(key, 0):8.2f} s {parts.get(key, 0) / total:6.1%}")
    rest = total - sum(parts.get(key, 0) for key in named)
    print(f"  {'the rest (transactions, queries, building rows)':48}{rest:8.2f} s {rest / total:6.1%}")

    engine.dispose()


def main() -> None:
    parser = parser_with_urls(__doc__)
    parser.add_argument("--instruments", type=int, default=1_000_000)
    parser.add_argument("--firms", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--runs", type=int, default=3, help="timed planning and dispatch rounds")
    parser.add_argument("--raw-runs", type=int, default=10)
    parser.add_argument(
        "--dispatch-only",
        action="store_true",
        help="plan the day once (checked, untimed) and time only the dispatch rounds",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the raw and find_due queries"
    )
    args = parser.parse_args()
    if args.instruments % args.firms:
        parser.error("--instruments must be a multiple of --firms")
    for url in args.url:
        bench(
            url,
            args.instruments,
            args.firms,
            args.seed,
            args.runs,
            args.raw_runs,
            args.explain,
            args.dispatch_only,
        )


if __name__ == "__main__":
    main()
