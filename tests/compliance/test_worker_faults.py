"""Faults with real processes: a worker killed mid-task, and a Redis restart (DESIGN §8).

The workers here are ``celery -A portal worker`` subprocesses on this test's database; the
test-only pause hook (``PORTAL_TEST_SCREENING_PAUSE``) parks the task inside its transaction,
holding the application's row lock, so the kill lands mid-task.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from celery import Celery

from compliance.models import ScreeningResult
from compliance.territories import territory_list_load
from partnerships.models import CountryApplication, Decision, State
from portal.audit.models import AuditEvent
from tests.compliance.conftest import submit, wait_for, worker_process
from tests.factories import create_application

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def state_of(application) -> str:
    return CountryApplication.objects.get(pk=application.pk).state


def screened_exactly_once(application) -> None:
    assert ScreeningResult.objects.filter(application=application).count() == 1
    assert Decision.objects.filter(application=application, action="screen_clear").count() == 1
    assert (
        AuditEvent.objects.filter(verb="screening.completed", object_id=str(application.pk)).count()
        == 1
    )
    assert CountryApplication.objects.get(pk=application.pk).version == application.version + 1


def test_worker_killed_mid_task_is_redelivered_and_screens_once(broker, official_jp, jp, tmp_path):
    territory_list_load()
    pause = tmp_path / "pause"
    pause.write_text("hold")
    started = Path(f"{pause}.started")
    application = submit(create_application(official_jp, jp), official_jp)  # enqueued after commit

    with worker_process(
        tmp_path / "worker-a.log", PORTAL_TEST_SCREENING_PAUSE=str(pause)
    ) as worker_a:
        wait_for(started.exists, timeout=60, what="worker A to start the task")
        # Mid-task: inside the transaction, nothing is visible yet.
        assert state_of(application) == State.SCREENING
        assert not ScreeningResult.objects.filter(application=application).exists()
        os.kill(worker_a.pid, signal.SIGKILL)
        worker_a.wait(timeout=10)
        assert worker_a.returncode == -signal.SIGKILL
    # Killed: PostgreSQL rolled the transaction back; the message was never acknowledged.
    time.sleep(0.5)
    assert state_of(application) == State.SCREENING
    assert not ScreeningResult.objects.filter(application=application).exists()
    assert broker.hlen("unacked") == 1

    # A fresh worker gets the unacknowledged message redelivered and screens the application,
    # once. Its visibility timeout is short so the test need not wait ten minutes; kombu
    # restores messages older than that when the worker starts polling, so let it age first.
    [(_, delivered_at)] = broker.zrange("unacked_index", 0, -1, withscores=True)
    wait_for(lambda: time.time() - delivered_at > 3, timeout=10, what="the message to age")
    with worker_process(tmp_path / "worker-b.log", CELERY_VISIBILITY_TIMEOUT="2"):
        wait_for(
            lambda: state_of(application) == State.TECHNICAL_REVIEW, timeout=90, what="redelivery"
        )
        wait_for(lambda: broker.hlen("unacked") == 0, timeout=30, what="the acknowledgement")
    screened_exactly_once(application)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A throw-away redis-server (no persistence) that this test may kill and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        wait_for(lambda: self._ping(redis), timeout=15, what="redis-server")

    def _ping(self, redis_module) -> bool:
        try:
            return bool(redis_module.Redis.from_url(self.url).ping())
        except redis_module.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


def client_for(url: str) -> Celery:
    # A fresh client each time: a pooled connection to the killed server is dead.
    return Celery("test-client", broker=url)


def send(url: str, name: str, args: list | None = None) -> None:
    client = client_for(url)
    try:
        client.send_task(name, args=args or [], queue="portal")
    finally:
        client.close()


def worker_answers(url: str) -> bool:
    client = client_for(url)
    try:
        return bool(client.control.ping(timeout=0.5))
    except Exception:  # the server is still coming back
        return False
    finally:
        client.close()


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary")
def test_redis_restart_loses_nothing(broker, official_jp, jp, tmp_path):
    territory_list_load()
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        application = submit(create_application(official_jp, jp), official_jp)
        # The screening message sits in Redis when Redis dies (no persistence): it is lost.
        send(server.url, "compliance.screen_application", [application.pk, application.version])
        server.kill()
        server.start()
        with worker_process(
            tmp_path / "worker.log", REDIS_URL=server.url, PORTAL_SCREENING_SWEEP_SECONDS="0"
        ):
            wait_for(lambda: worker_answers(server.url), timeout=60, what="the worker")
            assert state_of(application) == State.SCREENING  # nothing to redeliver
            # Redis restarts again under the running worker, which reconnects.
            server.kill()
            server.start()
            wait_for(lambda: worker_answers(server.url), timeout=60, what="the worker to reconnect")
            # Beat's periodic sweep (sent by hand here) re-enqueues the lost screening.
            send(server.url, "compliance.sweep_screening")
            wait_for(
                lambda: state_of(application) == State.TECHNICAL_REVIEW,
                timeout=60,
                what="the sweep",
            )
        screened_exactly_once(application)
    finally:
        if server.process and server.process.poll() is None:
            server.kill()
