"""Several `reminders tick` processes: each message exactly once, none lost to a crash.

A dispatcher holds at most ``dispatch_in_flight`` messages *in flight* (handed to the provider, their
outcome not yet committed); a dispatcher killed mid-send repeats at most those. The processes here
run ``run_tick`` (what ``flask reminders tick`` calls) with a file channel that also measures, at
each hand-over, how many of its process's messages are in flight: those it handed over whose row
still says ``sending``, and the one it is handing over.
"""

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
from service.config import Config, ConfigError
from service.db import unit_of_work
from tests.conftest import TEST_DATABASE_URL
from tests.integration.test_postgres_concurrency import committed_world  # noqa: F401 (fixture)
from tests.reminders import due_on, firm_with_people

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T10:00"
#: The bound the tests assert: the default setting.
IN_FLIGHT = Config.dispatch_in_flight
#: The dying worker is killed after this many hand-overs: more than the bound, fewer than the old
#: recording interval (100 messages or 0.25 s), under which every one of them went twice.
KILLED_AFTER = 40

#: ``run_tick`` as ``reminders tick --now 2026-12-01T10:00`` runs it; with KILL_AFTER set, the process
#: kills itself (SIGKILL, no cleanup) right after the provider accepted that many messages.
WORKER = """
import json, os, signal
from datetime import datetime
from zoneinfo import ZoneInfo
from sqlalchemy import bindparam, text
from notifications.file import FileChannel
from service.db import make_engine
from service.jobs.reminders import run_tick
from wsgi import app

PROBE = make_engine(os.environ["DATABASE_URL"]).connect().execution_options(isolation_level="AUTOCOMMIT")
UNRECORDED = text(
    "SELECT count(*) FROM notifications WHERE state = 'sending' AND idempotency_key IN :keys"
).bindparams(bindparam("keys", expanding=True))
KILL_AFTER = int(os.environ.get("KILL_AFTER") or 0)

class Watched(FileChannel):
    handed = []
    most = 0
    def send(self, message):
        unrecorded = PROBE.scalar(UNRECORDED, {"keys": Watched.handed}) if Watched.handed else 0
        Watched.most = max(Watched.most, unrecorded + 1)
        Watched.handed.append(message.idempotency_key)
        result = super().send(message)
        if len(Watched.handed) == KILL_AFTER:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

watched = Watched(os.environ["NOTIFY_FILE"])
app.extensions["calrecall.channel_overrides"] = {"sms": watched, "email": watched}
summary = run_tick(app, datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
print(json.dumps({**summary, "most_in_flight": Watched.most}))
"""


def _seed(sessions, world, instruments: int = 12) -> None:
    with unit_of_work(sessions) as session:
        for tenant in (world.a, world.b):
            firm_with_people(session, tenant)
            for n in range(instruments):
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


def _worker(env: dict, kill_after: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env={**env, "KILL_AFTER": str(kill_after)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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


def test_the_bound_is_a_setting_of_ten_by_default(monkeypatch):
    assert IN_FLIGHT == 10
    monkeypatch.setenv("DISPATCH_IN_FLIGHT", "3")
    assert Config.from_env().dispatch_in_flight == 3
    monkeypatch.setenv("DISPATCH_IN_FLIGHT", "0")
    with pytest.raises(ConfigError, match="DISPATCH_IN_FLIGHT"):
        Config.from_env()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="several processes at once need PostgreSQL")
def test_four_processes_send_each_message_exactly_once(committed_world, tmp_path):  # noqa: F811
    sessions, world = committed_world
    _seed(sessions, world)
    notify_file = tmp_path / "sent.jsonl"
    env = _env(sessions, notify_file)
    processes = [_worker(env) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err for _out, err in outputs]
    outbox = _outbox(sessions)
    assert len(outbox) > 20
    assert {m.state for m in outbox} == {"sent"}
    sent = _sent_keys(notify_file)
    assert set(sent) == {m.idempotency_key for m in outbox}
    assert max(sent.values()) == 1
    summaries = [json.loads(out) for out, _err in outputs]
    # Each firm's day was planned by exactly one of the four processes.
    with unit_of_work(sessions) as session:
        total = len(session.scalars(select(Notification.id)).all())
    assert sum(summary["messages"] for summary in summaries) == total
    # No process ever had more than the bound handed over and unrecorded.
    assert max(summary["most_in_flight"] for summary in summaries) <= IN_FLIGHT


def test_the_tick_command_plans_and_sends_from_another_process(committed_world, tmp_path):  # noqa: F811
    sessions, world = committed_world
    _seed(sessions, world)
    notify_file = tmp_path / "sent.jsonl"
    tick = _tick(_env(sessions, notify_file))
    out, err = tick.communicate(timeout=120)
    assert tick.returncode == 0, err
    outbox = _outbox(sessions)
    assert json.loads(out)["dispatch"]["sent"] == len(outbox) > 20
    assert {m.state for m in outbox} == {"sent"}
    assert _sent_keys(notify_file) == Counter({m.idempotency_key: 1 for m in outbox})


def test_a_worker_killed_mid_dispatch_loses_nothing(committed_world, tmp_path):  # noqa: F811
    sessions, world = committed_world
    _seed(sessions, world, instruments=30)
    notify_file = tmp_path / "sent.jsonl"
    env = _env(sessions, notify_file)
    dying = _worker(env, kill_after=KILLED_AFTER)
    _out, err = dying.communicate(timeout=120)
    assert dying.returncode == -9, err
    assert sum(_sent_keys(notify_file).values()) == KILLED_AFTER
    outbox = _outbox(sessions)
    assert len(outbox) > KILLED_AFTER
    assert any(m.state == "sending" for m in outbox)
    # What the dead worker handed over and had not recorded: in flight, at most the bound.
    handed = set(_sent_keys(notify_file))
    assert 1 <= sum(1 for m in outbox if m.state == "sending" and m.idempotency_key in handed) <= IN_FLIGHT
    # After the dead worker's lease (5 minutes), another process takes its claims over.
    survivor = _tick(env, "2026-12-01T10:06")
    _out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    outbox = _outbox(sessions)
    assert {m.state for m in outbox} == {"sent"}
    sent = _sent_keys(notify_file)
    assert set(sent) == {m.idempotency_key for m in outbox}  # nothing lost
    # Only what was in flight when the worker died went twice.
    assert 1 <= sum(1 for count in sent.values() if count > 1) <= IN_FLIGHT
