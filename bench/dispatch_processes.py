r"""Several dispatch processes on one outbox: wall time and messages a second (docs/scaling.md).

    python bench/dispatch_processes.py --url postgresql+psycopg://postgres@127.0.0.1:5432/dispatch_bench 1 2 4

Uses the day ``bench/reminders.py --dispatch-only`` planned in that database (run it first). For each
count N, the day's messages are put back to pending and N processes, started together, each run
``run_dispatch`` to a null channel until nothing is due; the script prints the wall time, the rate,
each process's share, and stops unless every message was sent exactly once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reminders as bench  # noqa: E402

from service.db import make_engine, normalise_url  # noqa: E402

CHILD = r"""
import json, logging, sys
sys.path[:0] = [sys.argv[2], sys.argv[2] + "/bench"]
import reminders as bench
from service.app import create_app
from service.config import Config
from service.db import make_engine
from service.jobs.reminders import run_dispatch
url = sys.argv[1]
config = Config(database_url=url, secret_key="bench-secret-key-0123456789", sms_backend="console",
                email_backend="console", robot_backend="console", base_url="https://calrecall.example.com",
                import_runner="scheduler")
app = create_app(config, engine=make_engine(url))
logging.getLogger().setLevel(logging.WARNING)
app.extensions["calrecall.channel_overrides"] = dict.fromkeys(
    ("sms", "email", "in_app", "wecom", "dingtalk"), bench.NullChannel()
)
sys.stdin.readline()
print(json.dumps(run_dispatch(app, bench.NOW)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("counts", type=int, nargs="+", help="numbers of processes to run together")
    args = parser.parse_args()
    url = normalise_url(args.url)
    engine = make_engine(url)
    root = str(Path(__file__).resolve().parent.parent)
    for count in args.counts:
        bench.unsend(engine)
        bench.analyze(engine, "notifications")
        pending = bench.pending_count(engine)
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, url, root],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        time.sleep(5)  # let every process import and connect before the clock starts
        started = time.perf_counter()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = [json.loads(process.communicate()[0]) for process in processes]
        wall = time.perf_counter() - started
        sent = sum(o.get("sent", 0) for o in outcomes)
        left = bench.pending_count(engine)
        if sent != pending or left:
            sys.exit(f"{count} processes sent {sent} of {pending} pending messages; {left} still pending")
        shares = " + ".join(f"{o.get('sent', 0):,}" for o in outcomes)
        rate = sent / wall
        print(f"{count} processes: {sent:,} messages in {wall:.2f} s = {rate:,.0f} msg/s ({shares})")
    engine.dispose()


if __name__ == "__main__":
    main()
