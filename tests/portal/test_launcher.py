"""``make run``'s launcher on the embedded path: starts everything, answers /readyz, stops
everything on Ctrl-C (SIGINT to the process group), and starts again after a kill -9."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from portal import embedded

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_WORKER_URL", "REDIS_URL")
    }
    env.update(
        {
            "PORTAL_DATA_DIR": str(data_dir),
            "PORT": str(port),
            "DEMO_PASSWORD": "launcher test password",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "portal.launcher"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200 and json.load(response) == {"status": "ready"}:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("not ready in time:\n" + log.read_text()[-3000:])


def _api_tenants(port: int, username: str) -> set[str]:
    """The countries of the applications ``username`` sees through the API (gunicorn, the web
    database role: a programme-wide scope only with its signed claim, docs/rls.md)."""
    base = f"http://127.0.0.1:{port}/api/v1"
    body = json.dumps({"username": username, "password": "launcher test password"}).encode()
    request = urllib.request.Request(
        f"{base}/auth/token/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.load(response)["token"]
    request = urllib.request.Request(
        f"{base}/applications/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return {row["tenant"] for row in json.load(response)["results"]}


def _group(pgid: int) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(p.pid) == pgid:
                found.append(p)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


def _postgres_running(data_dir: Path) -> bool:
    pid_file = data_dir / "pg" / "postmaster.pid"
    return pid_file.exists() and psutil.pid_exists(int(pid_file.read_text().split()[0]))


def test_make_run_starts_stops_cleanly_and_survives_kill_9(tmp_path: Path) -> None:
    data_dir, log, port = tmp_path / "data", tmp_path / "run.log", _free_port()
    first = _start(data_dir, port, log)
    _wait_ready(port, first, log)
    text = log.read_text()
    assert (
        f"http://127.0.0.1:{port}/" in text
        and "Demo logins" in text
        and "launcher test password" in text
    )
    # Local mail: one file a message under .data/mail/, and the launcher says where.
    assert f"written to {data_dir / 'mail'}/" in text and (data_dir / "mail").is_dir()
    assert len(_group(first.pid)) >= 4  # launcher, gunicorn, worker, beat (and their children)
    # The web role on the embedded server: staff see every country, an official their own.
    assert len(_api_tenants(port, "reviewer")) > 1
    assert _api_tenants(port, "official-jp") == {"JP"}

    # kill -9 the launcher alone: its servers must not outlive it and block the next start.
    first.kill()
    first.wait()
    deadline = time.monotonic() + 30
    while _group(first.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _group(first.pid), [p.cmdline() for p in _group(first.pid)]

    second = _start(data_dir, port, log)
    later = _wait_ready(port, second, log)
    assert later < 60  # measured here: the second start skips install and initdb

    # Ctrl-C: SIGINT to the whole process group stops every process it started …
    os.killpg(second.pid, signal.SIGINT)
    assert second.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while (_group(second.pid) or _postgres_running(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _group(second.pid)
    # … and the embedded servers, including the Redis adopted from the killed run.
    assert not _postgres_running(data_dir)
    assert not embedded.redis_alive(data_dir / "redis" / "redis.sock")
