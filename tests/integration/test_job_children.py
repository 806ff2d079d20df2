"""Background jobs in child processes: the job runs outside the web process, with its own engine."""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from service.jobs.children import JOB_NICENESS, start_in_child


def _note(sessions, job_id: int) -> None:
    """A job: write its process id, what the database answers and its niceness to a file named by the job."""
    with sessions() as session:
        answer = session.execute(text("SELECT 41 + 1")).scalar_one()
    _path(job_id).write_text(f"{os.getpid()} {answer} {os.nice(0)}")


def _fail(sessions, job_id: int) -> None:
    raise RuntimeError("the job broke")


def _path(job_id: int) -> Path:
    return Path(tempfile.gettempdir()) / f"calrecall-child-job-{job_id}"


def _wait_for(path: Path, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.1)
    raise AssertionError(f"{path} was not written within {seconds} s")


def test_a_job_runs_in_a_child_process_with_an_engine_of_its_own(tmp_path):
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    job_id = random.randrange(10**9)
    try:
        started = time.monotonic()
        start_in_child(url, _note, job_id, "test-job")
        assert time.monotonic() - started < 10  # the caller does not wait for the job

        pid, answer, niceness = _wait_for(_path(job_id)).split()
        assert int(pid) != os.getpid()
        assert answer == "42"
        # Below the web workers: under load the requests get the CPU first.
        assert int(niceness) == min(os.nice(0) + JOB_NICENESS, 19)
    finally:
        _path(job_id).unlink(missing_ok=True)


def test_a_failing_job_leaves_the_caller_standing(tmp_path):
    start_in_child(f"sqlite:///{tmp_path / 'jobs.sqlite3'}", _fail, 1, "test-job")
    # The child logs the failure and exits; the job stays claimed for the scheduler's retry.
    start_in_child(
        f"sqlite:///{tmp_path / 'jobs.sqlite3'}", _note, job_id := random.randrange(10**9), "test-job"
    )
    try:
        assert _wait_for(_path(job_id)).split()[1] == "42"
    finally:
        _path(job_id).unlink(missing_ok=True)
