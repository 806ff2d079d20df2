r"""Load: requests a second and latency under gunicorn, at fixed request rates, against the raw read.

    python bench/load.py --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_bench \
        --instruments 1000000 --firms 20

The data is the ledger benchmark's (``bench/ledger_list.py`` loads it once per size). The script gives
firm 1's first metrology engineer a known password and an API token, starts gunicorn the way README's
"Running in production" does (``gunicorn --workers 4 wsgi:app``; plain HTTP, so the development
setting that lets the session cookie travel without TLS), and for each request below runs
``locust --headless`` (``bench/locustfile.py``) with ``--users`` simulated users asking at a fixed
total rate for ``--duration`` seconds. Each request is measured ``--rounds`` times; the table shows
the median round (by p99) with the achieved rate, p50, p95, p99 and errors, beside the median time
of the raw statement that reads the same rows (one DBAPI connection, as ``bench/ledger_list.py``).

With ``--during-import ROWS``, each request is then measured once more while a ledger of ROWS
instruments (``bench/import_ledger.py``'s file) is being imported through the API by a firm of its
own (as an upload with ``dry_run=false``, run the way production runs it: ``IMPORT_RUNNER=process``);
a second table shows those rounds. One import serves as many rounds as it outlasts; the imported
firm's rows are deleted after each.

Run it on a quiet machine: locust, gunicorn and PostgreSQL share the two cores.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_ledger import build_file  # noqa: E402
from ledger_list import DEPARTMENTS, Raw, _pad, build_ops, ensure_database, load  # noqa: E402

from models import Base, Department, HistoryHead, Organization  # noqa: E402
from models.tenancy import User  # noqa: E402
from service.actors import Actor  # noqa: E402
from service.auth.operations import create_api_token  # noqa: E402
from service.auth.secrets import hash_password  # noqa: E402
from service.clock import today_in  # noqa: E402
from service.db import make_engine, make_session_factory, normalise_url, scope_to_org  # noqa: E402
from service.history.chain import GENESIS_HASH  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-load-2026"
TIMEZONE = "Asia/Shanghai"


@dataclass
class Request:
    """One kind of request: its path, whether it goes through the API, its rate, its raw read."""

    name: str
    path: str
    api: bool
    rate: int
    raw_op: str | None  # the ledger benchmark's operation reading the same rows


@dataclass
class Outcome:
    achieved: float
    p50: float
    p95: float
    p99: float
    requests: int
    errors: int


def requests_for(args) -> list[Request]:
    rate, dash = args.rate, args.dashboard_rate
    return [
        Request(
            "API list, limit=50", "/api/v1/instruments?limit=50", True, rate, "first page, by next_due_on"
        ),
        Request("API due_within=30", "/api/v1/instruments?due_within=30", True, rate, "due_within=30"),
        Request(
            "API search q=压力", "/api/v1/instruments?q=%E5%8E%8B%E5%8A%9B", True, rate, "q=压力 (search)"
        ),
        Request("web ledger /instruments", "/instruments", False, rate, "first page, by next_due_on"),
        Request("web instrument page", "/instruments/{id}", False, rate, None),
        Request("web dashboard /", "/", False, dash, "ledger_counts"),
    ]


def prepare_user(engine, firm: int) -> tuple[str, str, list[int]]:
    """Give the firm's first metrology user a known password and a token; return some instrument ids."""
    factory = make_session_factory(engine)
    with engine.begin() as conn:
        user_id, email = conn.execute(
            select(User.id, User.email)
            .where(User.org_id == firm, User.role == "metrology")
            .order_by(User.id)
            .limit(1)
        ).one()
        conn.execute(
            text("UPDATE users SET password_hash = :h WHERE id = :id"),
            {"h": hash_password(PASSWORD), "id": user_id},
        )
        ids = list(
            conn.scalars(
                text("SELECT id FROM instruments WHERE org_id = :org ORDER BY random() LIMIT 2000"),
                {"org": firm},
            )
        )
    with factory() as session:
        scope_to_org(session, firm)
        actor = Actor(user_id, "bench", "metrology", firm, "firm", firm)
        _, token = create_api_token(session, actor, "load", 30)
        session.commit()
    return email, token, ids


IMPORT_FIRM = "bench-load-import"
#: The importing firm's own rows are deleted after each import; these are the firm itself.
KEPT_TABLES = {"organizations", "users", "departments", "history_heads", "api_tokens"}


def import_firm(engine) -> tuple[int, str]:
    """The firm that imports during the load (made once): its id and an API token of its admin."""
    with engine.begin() as conn:
        org_id = conn.scalar(select(Organization.id).where(Organization.slug == IMPORT_FIRM))
        if org_id is None:
            org_id = conn.execute(
                Organization.__table__.insert().returning(Organization.__table__.c.id),
                {"slug": IMPORT_FIRM, "name": "导入测试有限公司", "kind": "firm", "timezone": TIMEZONE},
            ).scalar_one()
            conn.execute(
                User.__table__.insert(),
                {
                    "org_id": org_id,
                    "email": "admin@bench-load-import.example",
                    "name": "导入管理员",
                    "role": "admin",
                    "password_hash": "x",
                    "locale": "zh_Hans_CN",
                    "is_active": True,
                },
            )
            conn.execute(
                HistoryHead.__table__.insert(),
                {"org_id": org_id, "last_seq": 0, "last_hash": GENESIS_HASH},
            )
            conn.execute(Department.__table__.insert(), [{"org_id": org_id, "name": n} for n in DEPARTMENTS])
        user_id = conn.scalar(select(User.id).where(User.org_id == org_id))
    purge_import_firm(engine, org_id)
    with make_session_factory(engine)() as session:
        scope_to_org(session, org_id)
        actor = Actor(user_id, "导入管理员", "admin", org_id, "firm", org_id)
        _, token = create_api_token(session, actor, "load", 30)
        session.commit()
    return org_id, token


def purge_import_firm(engine, org_id: int) -> None:
    """Delete what the importing firm's imports made, and restart its history chain."""
    with engine.begin() as conn:
        # Every row of the firm goes, so no foreign key can be left dangling: checking them row by
        # row (a scan of the million instruments for each deleted one, for replaced_by_id) is skipped.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            if "org_id" in table.c and table.name not in KEPT_TABLES:
                conn.execute(table.delete().where(table.c.org_id == org_id))
        conn.execute(
            HistoryHead.__table__.update()
            .where(HistoryHead.org_id == org_id)
            .values(last_seq=0, last_hash=GENESIS_HASH)
        )


def start_import(port: int, token: str, path: Path) -> str:
    """Upload the ledger to import at once; return the job's address once its import is running."""
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    with open(path, "rb") as file:
        answer = requests.post(
            f"{base}/api/v1/imports",
            headers=headers,
            files={"file": (path.name, file)},
            data={"dry_run": "false"},
            timeout=120,
        )
    if answer.status_code != 202:
        sys.exit(f"the import was refused: {answer.status_code} {answer.text[:300]}")
    job = base + answer.headers["Location"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = import_job(job, token)
        if state["state"] == "running" and state["rows_read"]:
            return job
        if state["state"] in ("done", "failed"):
            sys.exit(f"the import ended before the load began: {state['state']}")
        time.sleep(0.5)
    sys.exit("the import did not start within 300 s")


def import_job(job: str, token: str) -> dict:
    """The import job as the API shows it (``state``, ``rows_read`` …)."""
    return requests.get(job, headers={"Authorization": f"Bearer {token}"}, timeout=30).json()


def finish_import(job: str, token: str) -> dict:
    """Wait for the import to end; return its state."""
    while True:
        state = import_job(job, token)
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(1)


def raw_ms(engine, firm: int, op_name: str | None, instrument_ids: list[int], runs: int = 30) -> float:
    """Median time of the raw statement reading what the request reads."""
    raw = Raw(engine)
    try:
        if op_name is None:
            sql, params = raw.prepare(
                "SELECT * FROM instruments WHERE org_id = :org AND id = :id", {"org": firm, "id": 0}
            )
            statements = [(sql, {**params, "id": i}) for i in instrument_ids[:runs]]
        else:
            user_id = (
                engine.connect()
                .execute(
                    select(User.id)
                    .where(User.org_id == firm, User.role == "metrology")
                    .order_by(User.id)
                    .limit(1)
                )
                .scalar_one()
            )
            actor = Actor(user_id, "bench", "metrology", firm, "firm", firm)
            built = build_ops(engine, make_session_factory(engine), actor, today_in(TIMEZONE), raw)[0]
            ops = {op.name: op for op in built}
            op = ops[op_name]
            statements = [raw.prepare(op.sql, op.params)] * runs
        for sql, params in statements[:5]:
            raw.run(sql, params)
        times = []
        for sql, params in statements:
            start = time.perf_counter()
            raw.run(sql, params)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)
    finally:
        raw.close()


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-load-secret-key-0123456789",
        "APP_ENV": "development",
        "SMS_BACKEND": "console",
        "EMAIL_BACKEND": "console",
        "IMPORT_RUNNER": "process",
    }
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit("gunicorn did not answer within 60 s")


def sign_in(port: int, email: str) -> str:
    """Sign in through the login form once; return the session cookie (``name=value``)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/login", timeout=30).read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"email": email, "password": PASSWORD, "csrf_token": match.group(1) if match else ""}
    answer = opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode(), timeout=30)
    if "/login" in answer.url:
        sys.exit("the benchmark user could not sign in")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def drive(request: Request, args, port: int, cookie: str, token: str, ids_file: str, seconds: int) -> Outcome:
    """Run locust at the request's rate for ``seconds``; return what its statistics say."""
    with tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "load")
        env = {
            **os.environ,
            "LOAD_PATH": request.path,
            "LOAD_IDS": ids_file,
            "LOAD_USER_RATE": str(request.rate / args.users),
        }
        if request.api:
            env["LOAD_TOKEN"] = token
        else:
            env["LOAD_COOKIE"] = cookie
        command = [
            str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
            "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time", f"{seconds}s",
            "--host", f"http://127.0.0.1:{port}", "--csv", prefix, "--only-summary", "--loglevel", "ERROR",
        ]  # fmt: skip
        subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(f"{prefix}_stats.csv", newline="") as stats:
            row = next(r for r in csv.DictReader(stats) if r["Name"] == "request")
    return Outcome(
        achieved=float(row["Requests/s"]),
        p50=float(row["50%"]),
        p95=float(row["95%"]),
        p99=float(row["99%"]),
        requests=int(row["Request Count"]),
        errors=int(row["Failure Count"]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the benchmark database (PostgreSQL)")
    parser.add_argument("--instruments", type=int, default=1_000_000)
    parser.add_argument("--firms", type=int, default=20)
    parser.add_argument("--firm", type=int, default=1, help="the firm (organisation id) whose engineer asks")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--users", type=int, default=20, help="simulated users (connections)")
    parser.add_argument("--rate", type=int, default=200, help="requests a second asked for")
    parser.add_argument("--dashboard-rate", type=int, default=100, help="requests a second for the dashboard")
    parser.add_argument("--duration", type=int, default=20, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", help="measure only the requests whose name contains this")
    parser.add_argument(
        "--during-import", type=int, default=0, metavar="ROWS",
        help="measure each request once more while a ledger of ROWS instruments is imported",
    )  # fmt: skip
    args = parser.parse_args()

    url = normalise_url(args.url)
    ensure_database(url)
    engine = make_engine(url)
    load(engine, args.instruments, args.firms, args.seed, today_in(TIMEZONE))
    email, token, ids = prepare_user(engine, args.firm)
    chosen = [r for r in requests_for(args) if not args.only or args.only in r.name]
    raws = {r.name: raw_ms(engine, args.firm, r.raw_op, ids) for r in chosen}
    importer = import_firm(engine) if args.during_import else None
    ledger_file = build_file(args.during_import, args.seed) if args.during_import else None

    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids_file:
        ids_file.write("\n".join(map(str, ids)))
    server = start_gunicorn(url, args.port, args.workers)
    try:
        cookie = sign_in(args.port, email)
        drive(chosen[0], args, args.port, cookie, token, ids_file.name, 5)  # warm the workers up
        print(
            f"\n{args.instruments:,} instruments / {args.firms} firms; gunicorn {args.workers} workers; "
            f"{args.users} users; {args.duration} s rounds, median of {args.rounds} (by p99)\n"
        )
        header = (
            f"{'request':<26} {'asked':>6} {'achieved':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'errors':>7} {'raw ms':>7}"
        )
        print(header)
        print("-" * len(header))
        for request in chosen:
            rounds = [
                drive(request, args, args.port, cookie, token, ids_file.name, args.duration)
                for _ in range(args.rounds)
            ]
            rounds.sort(key=lambda o: o.p99)
            median = rounds[len(rounds) // 2]
            errors = sum(o.errors for o in rounds)
            print(
                f"{_pad(request.name, 26)} {request.rate:>6} {median.achieved:>9.1f} {median.p50:>7.0f} "
                f"{median.p95:>7.0f} {median.p99:>7.0f} {errors:>7} {raws[request.name]:>7.2f}",
                flush=True,
            )
            print(f"{'':<26} p99 of the rounds: {', '.join(f'{o.p99:.0f}' for o in rounds)}", flush=True)
        if importer is not None:
            print(f"\nwhile another firm imports {args.during_import:,} rows (one round each)\n")
            print(header)
            print("-" * len(header))
            for request, during in measure_during_imports(
                chosen, args, cookie, token, ids_file.name, engine, importer, ledger_file
            ):
                print(
                    f"{_pad(request.name, 26)} {request.rate:>6} {during.achieved:>9.1f} "
                    f"{during.p50:>7.0f} {during.p95:>7.0f} {during.p99:>7.0f} {during.errors:>7}",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
        os.unlink(ids_file.name)
        engine.dispose()


def measure_during_imports(chosen, args, cookie, token, ids_file, engine, importer, ledger_file):
    """Yield ``(request, outcome)``: one round of each request while the importing firm imports.

    An import serves as many rounds as it lasts (six imports of 100,000 rows took most of the
    benchmark's time). A round that the import did not outlast is measured again under a new one,
    unless that import was new: then the import is shorter than a round, and the note says so.
    """
    org_id, import_token = importer
    job = None
    for request in chosen:
        while True:
            fresh = job is None
            if fresh:
                job = start_import(args.port, import_token, ledger_file)
            outcome = drive(request, args, args.port, cookie, token, ids_file, args.duration)
            if import_job(job, import_token)["state"] == "running":
                break
            end_import(engine, org_id, job, import_token)
            job = None
            if fresh:
                print(f"{'':<26} (the import ended within {request.name}'s round)", flush=True)
                break
        yield request, outcome
    if job is not None:
        end_import(engine, org_id, job, import_token)


def end_import(engine, org_id: int, job: str, token: str) -> None:
    """Wait for the import to end, check it succeeded, and delete what it wrote."""
    final = finish_import(job, token)
    if final["state"] != "done":
        sys.exit(f"the import failed: {final}")
    purge_import_firm(engine, org_id)


if __name__ == "__main__":
    main()
