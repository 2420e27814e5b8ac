"""Fixtures for compliance tests: the territory list, staff users, and real Celery workers.

Worker tests run a real worker against the real Redis broker (``REDIS_URL``; use your own
database number) and the real test database: in-process with
``celery.contrib.testing.worker.start_worker``, or as a ``celery worker`` subprocess when a
test must kill it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from compliance.territories import territory_list_load
from compliance.territory_file import DEFAULT_FILE
from partnerships.workflow import application_transition
from tests.factories import make_user

ROOT = Path(settings.BASE_DIR)


def read_rows(path: Path = DEFAULT_FILE) -> tuple[list[str], list[str]]:
    """(header comment lines, data lines) of a territory file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("#")], [
        line for line in lines if not line.startswith("#")
    ]


def write_list(
    path: Path,
    *,
    replace: dict[str, str] | None = None,
    extra_header: list[str] | None = None,
    extra_rows: list[str] | None = None,
) -> Path:
    """A copy of the shipped territory file with some rows replaced (by code) or added."""
    header, rows = read_rows()
    replace = replace or {}
    out = [replace.get(row.split(",", 1)[0], row) for row in rows]
    path.write_text(
        "\n".join([*(extra_header or []), *header, *out, *(extra_rows or [])]) + "\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def territory_list(db: None) -> Any:
    return territory_list_load().version


@pytest.fixture
def compliance_officer(db: None) -> Any:
    return make_user("compliance_officer", username="compliance_officer")


@pytest.fixture
def auditor(db: None) -> Any:
    return make_user("auditor", username="auditor")


@pytest.fixture
def reviewer(db: None) -> Any:
    return make_user("reviewer", username="reviewer")


def submit(application: Any, official: Any) -> Any:
    return application_transition(
        application=application,
        actor=official,
        action="submit",
        version=application.version,
    )


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The test's own Redis database, emptied before and after (queues, unacked messages)."""
    from portal.services_env import redis_py_url

    client = redis.Redis.from_url(redis_py_url(settings.CELERY_BROKER_URL))
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def celery_worker(transactional_db: None, broker: redis.Redis) -> Iterator[Any]:
    """A real worker thread consuming the real broker, with the project's Celery app."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"
    ) as worker:
        yield worker


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a ``celery worker`` subprocess that uses this test's database."""
    db = connection.settings_dict
    # The host may be a socket directory (the embedded server): quote it into the URL.
    host = quote(str(db["HOST"] or "127.0.0.1"), safe="")
    url = f"postgresql://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_WORKER_URL": url,  # the test's own role (the worker role) on its database
        "DATABASE_OWNER_URL": url,
        "PORTAL_TESTING": "1",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PORTAL_TEST_SCREENING_PAUSE", None)
    env.update(extra)
    return env


@contextlib.contextmanager
def worker_process(log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """A ``celery -A portal worker`` subprocess (solo pool); stopped (TERM, then KILL) on exit."""
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool=solo",
        "-Q",
        "portal",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
        "-n",
        f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=worker_env(**env), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
