"""Several `reminders tick` processes on PostgreSQL: each message exactly once, none lost to a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Notification
from service.db import unit_of_work
from tests.conftest import TEST_DATABASE_URL
from tests.integration.test_postgres_concurrency import committed_world  # noqa: F401 (fixture)
from tests.reminders import due_on, firm_with_people

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="several processes need PostgreSQL")
ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T10:00"

#: A dispatcher that is killed (SIGKILL, no cleanup) right after the provider accepted its 5th message.
DYING_WORKER = """
import os, signal, sys
from datetime import datetime
from zoneinfo import ZoneInfo
from notifications.file import FileChannel
from service.jobs.reminders import run_tick
from wsgi import app

class Dying(FileChannel):
    sent = 0
    def send(self, message):
        result = super().send(message)
        Dying.sent += 1
        if Dying.sent == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

dying = Dying(os.environ["NOTIFY_FILE"])
app.extensions["calrecall.channel_overrides"] = {"sms": dying, "email": dying}
run_tick(app, datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
"""


def _seed(sessions, world) -> None:
    with unit_of_work(sessions) as session:
        for tenant in (world.a, world.b):
            firm_with_people(session, tenant)
            for n in range(12):
                due_on(
                    session,
                    tenant.actor("admin"),
                    30 if n % 2 else 7,
                    custodian=f"保管人{n}",
                    custodian_mobile=f"1390000{tenant.org.id % 10}{n:03d}",
                )


def _env(sessions, notify_file: Path) -> dict:
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SMS_BACKEND": "file",
        "EMAIL_BACKEND": "file",
        "NOTIFY_FILE": str(notify_file),
        "PYTHONPATH": str(ROOT),
    }


def _tick(env: dict, now: str = NOW) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "tick", "--now", now],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sent_keys(notify_file: Path) -> Counter:
    lines = notify_file.read_text("utf-8").splitlines() if notify_file.exists() else []
    return Counter(json.loads(line)["idempotency_key"] for line in lines)


def _outbox(sessions) -> list[Notification]:
    with unit_of_work(sessions) as session:
        return list(session.scalars(select(Notification).where(Notification.channel != "in_app")))


def test_four_processes_send_each_message_exactly_once(committed_world, tmp_path):  # noqa: F811
    sessions, world = committed_world
    _seed(sessions, world)
    notify_file = tmp_path / "sent.jsonl"
    env = _env(sessions, notify_file)
    processes = [_tick(env) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err for _out, err in outputs]
    outbox = _outbox(sessions)
    assert len(outbox) > 20
    assert {m.state for m in outbox} == {"sent"}
    sent = _sent_keys(notify_file)
    assert set(sent) == {m.idempotency_key for m in outbox}
    assert max(sent.values()) == 1
    # Each firm's day was planned by exactly one of the four processes.
    with unit_of_work(sessions) as session:
        total = len(session.scalars(select(Notification.id)).all())
    assert sum(json.loads(out)["messages"] for out, _err in outputs) == total


def test_a_worker_killed_mid_dispatch_loses_nothing(committed_world, tmp_path):  # noqa: F811
    sessions, world = committed_world
    _seed(sessions, world)
    notify_file = tmp_path / "sent.jsonl"
    env = _env(sessions, notify_file)
    dying = subprocess.run(
        [sys.executable, "-c", DYING_WORKER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert dying.returncode == -9, dying.stderr
    assert sum(_sent_keys(notify_file).values()) == 5
    assert any(m.state == "sending" for m in _outbox(sessions))
    # After the dead worker's lease (5 minutes), another process takes its claims over.
    survivor = _tick(env, "2026-12-01T10:06")
    _out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    outbox = _outbox(sessions)
    assert {m.state for m in outbox} == {"sent"}
    sent = _sent_keys(notify_file)
    assert set(sent) == {m.idempotency_key for m in outbox}  # nothing lost
    # The documented window: what the provider accepted after the last recorded batch goes twice.
    assert sum(1 for count in sent.values() if count > 1) <= 5
