r"""The CPU a request costs under gunicorn, in the web workers and in PostgreSQL (docs/scaling.md).

    python bench/web_cpu.py --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_load \
        --instruments 100000 --firms 20 --workers 2,4 --rate 300 --duration 15 --port 8765

On a shared machine the requests served a second say how much CPU was left; the CPU time each
request costs does not depend on that much, and it is what capacity is planned with: requests a
second per core = 1000 ÷ (app ms + PostgreSQL ms). The data and the driver are ``bench/load.py``'s
(locust at a fixed rate); the CPU times are read from ``/proc`` for the gunicorn workers and the
PostgreSQL backends connected to the database, before and after each request kind.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from service.clock import today_in  # noqa: E402
from service.db import make_engine, normalise_url  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
MEASURED = ("API list, limit=50", "web ledger /instruments")


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU seconds of process ``pid`` (0 when it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def backends(engine, database: str) -> list[int]:
    """Return the PostgreSQL backends connected to ``database`` (but this one)."""
    with engine.connect() as connection:
        return list(
            connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": database},
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--firms", type=int, default=20)
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts, comma-separated")
    parser.add_argument("--rate", type=int, default=300, help="requests a second asked for")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    url = normalise_url(args.url)
    database = make_url(url).database
    load.ensure_database(url)
    engine = make_engine(url)
    load.load(engine, args.instruments, args.firms, 20240601, today_in(load.TIMEZONE))
    email, token, ids = load.prepare_user(engine, 1)
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as ids_file:
        ids_file.write("\n".join(map(str, ids)))
    requests = {
        r.name: r for r in load.requests_for(SimpleNamespace(rate=args.rate, dashboard_rate=args.rate))
    }
    try:
        for workers in (int(w) for w in args.workers.split(",")):
            server = load.start_gunicorn(url, args.port, workers)
            try:
                cookie = load.sign_in(args.port, email)
                for name in MEASURED:
                    request = requests[name]
                    load.drive(request, args, args.port, cookie, token, ids_file.name, 4)  # warm up
                    web, db = children(server.pid), backends(engine, database)
                    app_before, db_before = sum(map(cpu_seconds, web)), sum(map(cpu_seconds, db))
                    outcome = load.drive(
                        request, args, args.port, cookie, token, ids_file.name, args.duration
                    )
                    db = set(db) | set(backends(engine, database))
                    served = max(outcome.requests, 1)
                    app_ms = (sum(map(cpu_seconds, web)) - app_before) / served * 1000
                    db_ms = (sum(map(cpu_seconds, db)) - db_before) / served * 1000
                    print(
                        f"{workers} workers, {name}: asked {request.rate}/s, "
                        f"served {outcome.achieved:.1f}/s, "
                        f"p50 {outcome.p50:.0f} ms, p99 {outcome.p99:.0f} ms, errors {outcome.errors}; "
                        f"CPU a request: app {app_ms:.1f} ms + PostgreSQL {db_ms:.1f} ms = "
                        f"{1000 / (app_ms + db_ms):.0f} requests/s per core; load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        os.unlink(ids_file.name)
        engine.dispose()


if __name__ == "__main__":
    main()
