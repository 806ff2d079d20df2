"""The load of ``bench/load.py``: a firm's metrology engineer asking for one page at a fixed rate.

``bench/load.py`` runs it through ``locust --headless``; the environment says what to ask for:

- ``LOAD_PATH``: the path, with ``{id}`` standing for an instrument id drawn from ``LOAD_IDS``;
- ``LOAD_IDS``: a file of instrument ids, one per line (for the instrument page);
- ``LOAD_USER_RATE``: requests a second per simulated user (``constant_throughput``: a user never has
  more than one request open, so a slow server lowers the achieved rate, as with real people);
- ``LOAD_TOKEN`` for the API (a Bearer token), or ``LOAD_COOKIE`` for the web pages (the session
  cookie of one sign-in that ``bench/load.py`` made: the same engineer in many tabs; twenty sign-ins at
  once would spend the first seconds hashing passwords).
"""

from __future__ import annotations

import os
import random

from locust import FastHttpUser, constant_throughput, task

PATH = os.environ.get("LOAD_PATH", "/")


def _ids(path: str | None) -> list[str]:
    """The instrument ids the instrument page is asked for, one per line in LOAD_IDS."""
    if not path:
        return []
    with open(path, encoding="utf-8") as lines:
        return [line.strip() for line in lines]


IDS = _ids(os.environ.get("LOAD_IDS"))


class Engineer(FastHttpUser):
    """One signed-in engineer asking for ``LOAD_PATH`` again and again."""

    wait_time = constant_throughput(float(os.environ.get("LOAD_USER_RATE", "10")))

    def on_start(self) -> None:
        token = os.environ.get("LOAD_TOKEN")
        if token:
            self.headers = {"Authorization": f"Bearer {token}"}
        else:
            self.headers = {"Cookie": os.environ["LOAD_COOKIE"]}

    @task
    def ask(self) -> None:
        path = PATH.replace("{id}", random.choice(IDS)) if "{id}" in PATH else PATH
        with self.client.get(
            path, name="request", headers=self.headers, allow_redirects=False, catch_response=True
        ) as answer:
            # A redirect is the login page: the session was refused, which must not pass for speed.
            if answer.status_code != 200:
                answer.failure(f"status {answer.status_code}")
