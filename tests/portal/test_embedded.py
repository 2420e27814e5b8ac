"""The embedded PostgreSQL + Redis path (no DATABASE_URL/REDIS_URL), and docker-compose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from portal import embedded
urls = embedded.ensure_services()
print(urls.database_url, urls.redis_url, flush=True)
sys.stdin.readline()
"""


def _clean_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_WORKER_URL", "REDIS_URL")
    }
    env["PORTAL_DATA_DIR"] = str(data_dir)
    return env


def _start_holder(env: dict[str, str]) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=ROOT,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    database_url, redis_url = proc.stdout.readline().split()
    return proc, database_url, redis_url


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=60)


def _postgres_up(database_url: str) -> bool:
    try:
        with psycopg.connect(database_url, connect_timeout=3) as conn:
            return conn.execute("SELECT current_user").fetchone() == ("portal_app",)
    except psycopg.OperationalError:
        return False


def test_embedded_services_start_are_shared_and_stop(tmp_path: Path) -> None:
    from portal import embedded

    data_dir = tmp_path / "d"
    env = _clean_env(data_dir)
    first, database_url, redis_url = _start_holder(env)
    try:
        assert redis_url == f"redis+socket://{data_dir}/redis/redis.sock"
        assert _postgres_up(database_url)
        # A second process (say, manage.py run from the checkout) joins the same servers …
        second, database_url_2, redis_url_2 = _start_holder(env)
        assert (database_url_2, redis_url_2) == (database_url, redis_url)
        _release(second)
        # … and leaving does not stop them for the first.
        assert _postgres_up(database_url)
        assert embedded.redis_alive(data_dir / "redis" / "redis.sock")
    finally:
        _release(first)
    # The last holder stops PostgreSQL; the process that started Redis stops it.
    deadline = time.monotonic() + 20
    while _postgres_up(database_url) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _postgres_up(database_url)
    assert not embedded.redis_alive(data_dir / "redis" / "redis.sock")


def test_embedded_services_recover_after_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    env = _clean_env(data_dir)
    first, _database_url, _ = _start_holder(env)
    first.kill()
    first.wait()
    # A new start after kill -9 joins (or restarts) the servers and still stops them at exit.
    second, database_url_2, _ = _start_holder(env)
    assert _postgres_up(database_url_2)
    _release(second)
    deadline = time.monotonic() + 20
    while _postgres_up(database_url_2) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _postgres_up(database_url_2)
    # The Redis the killed process started was adopted and stopped by the second one.
    from portal import embedded

    assert not embedded.redis_alive(data_dir / "redis" / "redis.sock")


def test_docker_compose_file_is_valid() -> None:
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose (Debian package) is not installed on CI")
        pytest.skip("docker-compose not installed")
    result = subprocess.run(
        ["docker-compose", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SECRET_KEY": "check-only", "PORTAL_AUDIT_KEY": "check-only"},
    )
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        ["docker-compose", "config", "--services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SECRET_KEY": "check-only", "PORTAL_AUDIT_KEY": "check-only"},
        check=True,
    ).stdout.split()
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
