r"""The Python CPU one request costs in process, and its rendering's share; optionally where, by profile.

    python bench/page_cpu.py --url postgresql+psycopg://postgres@127.0.0.1:5432/calrecall_bench \
        /instruments "/instruments/{id}" / /account "/api/v1/instruments?limit=50" [--profile]

The data is ``bench/load.py``'s (run it once first; this script loads nothing). Signed in as firm 1's
first metrology engineer through the login form (the API with a token of theirs), each path is asked
for ``--requests`` times through Flask's test client after a warm-up, ``{id}`` standing for one of
200 of the firm's instruments. It prints the CPU (``time.process_time()``) and wall time a request,
and the CPU of ``render_template`` a render: what a web worker spends, without PostgreSQL's own CPU
(``bench/web_cpu.py`` measures both under gunicorn). ``--profile`` adds cProfile's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import flask.templating  # noqa: E402
import load  # noqa: E402
from sqlalchemy import text  # noqa: E402

from service.app import create_app  # noqa: E402
from service.config import Config  # noqa: E402
from service.db import make_engine, normalise_url  # noqa: E402

_render = flask.templating._render
RENDERING = {"cpu": 0.0, "renders": 0}


def _timed_render(app, template, context):
    started = time.process_time()
    try:
        return _render(app, template, context)
    finally:
        RENDERING["cpu"] += time.process_time() - started
        RENDERING["renders"] += 1


def signed_in_client(app, engine):
    """A test client signed in as firm 1's engineer, that engineer's API token, and some instrument ids."""
    email, token, ids = load.prepare_user(engine, 1)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"email": email, "password": load.PASSWORD, "csrf_token": csrf})
    if answer.status_code not in (302, 303):
        sys.exit("the benchmark user could not sign in: run bench/load.py once first")
    return client, token, ids[:200]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="bench/load.py's database (PostgreSQL)")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    url = normalise_url(args.url)
    engine = make_engine(url)
    with engine.connect() as connection:
        if not connection.scalar(text("SELECT count(*) FROM organizations")):
            sys.exit("no data: run bench/load.py once first")
    config = Config.from_env(
        database_url=url, secret_key="bench-page-cpu-secret-key-0123456789", env="development",
        sms_backend="console", email_backend="console",
    )  # fmt: skip
    app = create_app(config)
    logging.getLogger("calrecall.requests").setLevel(logging.WARNING)  # one line a request otherwise
    flask.templating._render = _timed_render
    client, token, ids = signed_in_client(app, engine)
    for path in args.paths:
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}

        def ask(i: int, path=path, headers=headers) -> None:
            answer = client.get(path.replace("{id}", str(ids[i % len(ids)])), headers=headers)
            if answer.status_code != 200:
                sys.exit(f"{path}: status {answer.status_code}")

        for i in range(20):
            ask(i)
        RENDERING.update(cpu=0.0, renders=0)
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(args.requests):
            ask(i)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rendering = RENDERING["cpu"] / RENDERING["renders"] * 1000 if RENDERING["renders"] else 0.0
        print(
            f"{path}: CPU {cpu / args.requests * 1000:.2f} ms a request (rendering {rendering:.2f} ms), "
            f"wall {wall / args.requests * 1000:.2f} ms",
            flush=True,
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for i in range(args.requests):
                ask(i)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    engine.dispose()


if __name__ == "__main__":
    main()
