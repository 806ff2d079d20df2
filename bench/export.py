r"""Ledger export: the xlsx background job and the streamed CSV against the raw SELECT of the same rows.

    python bench/export.py --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_export_bench
    python bench/export.py --url sqlite:////tmp/calrecall_export_bench.sqlite

Loads (once, with ``bench/ledger_list.py``'s loader) ``--instruments`` instruments in ``--firms``
firms; the largest firm is exported by one of its metrology users (default: 100,000 instruments in
one firm). For each of ``--runs`` runs, in turn:

- xlsx job: ``queue_export`` commits a job, then :func:`service.ledger_io.export_runner.run_export`
  claims it, counts, writes the workbook (xlsxwriter, constant memory) and stores the file: the
  time is the job's, from the claim to the stored file. It runs in a process of its own in
  production; here in the benchmark's process (``--job-process`` starts it as the web process
  would, in a child from the fork server, and waits for it);
- CSV stream: ``GET /api/v1/instruments/export.csv`` through the application (WSGI, a Bearer
  token), the body read chunk by chunk: time to the first chunk, and to the last;
- raw: the same rows by hand: one SELECT of the instruments with their department and custodian
  (same WHERE and ORDER BY), fetched in full on a DBAPI connection.

Prints the medians and the ratios to raw; the workbook's and the CSV's row counts must equal the
raw SELECT's, or the script stops. The resident memory, sampled every 20 ms during each case, shows
how much it grows (flat for the job and the stream; the raw SELECT holds every row).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger_list import Raw, ensure_database, largest_firm, load  # noqa: E402

from models import LedgerExport  # noqa: E402
from service.app import create_app  # noqa: E402
from service.auth.operations import create_api_token  # noqa: E402
from service.clock import today_in  # noqa: E402
from service.config import Config  # noqa: E402
from service.db import allow_all_tenants, make_engine, make_session_factory, normalise_url, scope_to_org  # noqa: E402
from service.jobs.children import run_in_child  # noqa: E402
from service.ledger_io.export_runner import run_export  # noqa: E402
from service.ledger_io.operations import queue_export  # noqa: E402
from service.ledger_io.sandbox import forkserver  # noqa: E402

TIMEZONE = "Asia/Shanghai"
RAW_SELECT = """
SELECT i.*, d.name AS department_name, u.name AS custodian_name, u.mobile AS custodian_mobile
FROM instruments i
LEFT JOIN departments d ON d.id = i.department_id
LEFT JOIN users u ON u.id = i.custodian_user_id
WHERE i.org_id = :org
ORDER BY i.next_due_on IS NULL, i.next_due_on, i.id
"""


def _rss_mb() -> float:
    """The process's resident memory now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class RssPeak:
    """Samples the resident memory every 20 ms while in use; ``grown`` is the peak over the start."""

    def __enter__(self):
        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())
        self.grown = self.peak - self.start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of the benchmark database")
    parser.add_argument("--instruments", type=int, default=100_000)
    parser.add_argument("--firms", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--job-process", action="store_true", help="run the xlsx job in a child process")
    args = parser.parse_args()

    url = normalise_url(args.url)
    ensure_database(url)
    engine = make_engine(url)
    today = today_in(TIMEZONE)
    load(engine, args.instruments, args.firms, args.seed, today)
    factory = make_session_factory(engine)
    with factory() as session:
        org_id, size, actor = largest_firm(session)
        _, token = create_api_token(session, actor, "export bench")
        session.commit()

    config = Config(database_url=url, secret_key="bench-secret-0123456789", export_runner="scheduler")
    app = create_app(config, engine=engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    raw = Raw(engine)
    sql, params = raw.prepare(RAW_SELECT, {"org": org_id})

    def xlsx_job() -> int:
        with factory() as session:
            scope_to_org(session, org_id)
            job = queue_export(session, actor, {})
            session.commit()
            job_id = job.id
        if args.job_process:
            child = forkserver().Process(target=run_in_child, args=(url, run_export, job_id, "ledger-export"))
            child.start()
            child.join()
        else:
            run_export(factory, job_id)
        with factory() as session:
            allow_all_tenants(session)
            job = session.get(LedgerExport, job_id)
            if job.state != "done":
                sys.exit(f"export {job_id} ended {job.state}: {job.error}")
            written = job.rows_written
            session.delete(job)
            session.commit()
        return written

    first_byte: list[float] = []

    def csv_stream() -> int:
        started = time.perf_counter()
        response = client.get("/api/v1/instruments/export.csv", headers=headers, buffered=False)
        if response.status_code != 200:
            sys.exit(f"CSV export answered {response.status_code}: {response.data[:300]!r}")
        lines = 0
        for index, chunk in enumerate(response.response):
            if index == 0:
                first_byte.append(time.perf_counter() - started)
            lines += chunk.count(b"\n")
        response.close()
        return lines - 1  # the header

    def raw_select() -> int:
        return len(raw.run(sql, params))

    cases = [("xlsx job", xlsx_job), ("CSV stream", csv_stream), ("raw SELECT", raw_select)]
    samples: dict[str, list[float]] = {name: [] for name, _ in cases}
    rss: dict[str, float] = {}
    try:
        expected = raw_select()
        if expected != size:
            sys.exit(f"raw SELECT read {expected} rows, the firm holds {size}")
        for _ in range(args.runs):
            for name, fn in cases:
                with RssPeak() as memory:
                    started = time.perf_counter()
                    rows = fn()
                    samples[name].append(time.perf_counter() - started)
                rss[name] = max(rss.get(name, 0.0), memory.grown)
                if rows != expected:
                    sys.exit(f"{name} wrote {rows} rows, the raw SELECT read {expected}")
    finally:
        raw.close()
        engine.dispose()

    raw_s = statistics.median(samples["raw SELECT"])
    print(
        f"\n{engine.dialect.name} {engine.dialect.server_version_info}: firm {org_id} exports {size:,} "
        f"instruments; median of {args.runs} runs"
        + (" (xlsx job in a child process)" if args.job_process else "")
    )
    print(f"{'case':<14} {'seconds':>8} {'rows/s':>9} {'vs raw':>7} {'first byte':>11} {'peak +MB':>11}")
    print("-" * 66)
    for name, _ in cases:
        seconds = statistics.median(samples[name])
        ttfb = f"{statistics.median(first_byte) * 1000:.0f} ms" if name == "CSV stream" else ""
        grown = f"{rss[name]:.0f}" if not (name == "xlsx job" and args.job_process) else "(child)"
        rate = size / seconds
        print(f"{name:<14} {seconds:>8.2f} {rate:>9,.0f} {seconds / raw_s:>7.1f} {ttfb:>11} {grown:>11}")
    print("-" * 66)
    print("vs raw: the case's time over the raw SELECT's (same rows, fetched in full, nothing written)")
    print("peak +MB: the resident memory's peak during the case over its start (largest of the runs)")


if __name__ == "__main__":
    main()
