"""``make run``: everything a new user needs, in one process group.

Starts (or joins) the embedded PostgreSQL and Redis when DATABASE_URL/REDIS_URL are unset,
migrates, loads reference data and the demo, then runs gunicorn, a Celery worker and Celery
beat until Ctrl-C (SIGINT) or SIGTERM, and stops everything it started.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from portal import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the launcher dies (even by kill -9), so no orphaned
    server keeps the port and the next ``make run`` starts cleanly."""
    with contextlib.suppress(OSError):  # not Linux: no prctl, nothing to do
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def demo_password() -> str:
    if os.environ.get("DEMO_PASSWORD"):
        return os.environ["DEMO_PASSWORD"]
    path = embedded.DATA_DIR / "demo_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("demo-" + secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


def _environment(port: str) -> tuple[dict[str, str], Path, bool]:
    """The children's environment (development defaults, local mail, the embedded servers'
    URLs where none is set), the mail directory, and whether this launcher started Redis."""
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")  # local development server: console e-mail, plain-HTTP cookies
    env.setdefault("PORTAL_STAFF_2FA", "off")  # the demo's staff logins need no authenticator app
    env.setdefault("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")  # links in e-mails
    mail_dir = Path(env.get("EMAIL_FILE_PATH") or embedded.DATA_DIR / "mail")
    if not env.get("EMAIL_HOST"):
        # Every outgoing message becomes one file here, so invitation links open locally.
        env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
        env.setdefault("EMAIL_FILE_PATH", str(mail_dir))
        mail_dir.mkdir(parents=True, exist_ok=True)
    started_redis = False
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        print("Starting embedded PostgreSQL and Redis under .data/ …", flush=True)
        urls = embedded.ensure_services().as_env()
        started_redis = embedded.owns_redis() and "REDIS_URL" not in os.environ
        external_database = bool(env.get("DATABASE_URL"))
        for key, value in urls.items():
            if (key == "REDIS_URL" and not env.get(key)) or (
                key != "REDIS_URL" and not external_database
            ):
                env[key] = value
    env["DEMO_PASSWORD"] = demo_password()
    return env, mail_dir, started_redis


def _commands(python: str, port: str) -> list[list[str]]:
    """gunicorn (first), the Celery worker and Celery beat, as argument lists."""
    beat_schedule = embedded.DATA_DIR / "celerybeat-schedule"
    return [
        [
            python,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
        ],
        [
            python,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            f"worker-{os.getpid()}@%h",
        ],
        [
            python,
            "-m",
            "celery",
            "-A",
            "portal",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(beat_schedule),
            "--pidfile=",
        ],
    ]


def _start(commands: list[list[str]], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Start the commands one by one as the result is consumed (``children.extend`` keeps each
    started one, to be stopped); the first (gunicorn) without the worker role's credentials."""
    # gunicorn logs in as the web role and is not given the worker role's credentials;
    # Celery and beat (like the manage.py steps) log in as the worker role.
    web_env = {key: value for key, value in env.items() if key != "DATABASE_WORKER_URL"}
    return (
        subprocess.Popen(  # noqa: S603
            command,
            cwd=BASE_DIR,
            env=web_env if index == 0 else env,
            preexec_fn=_die_with_parent,
        )
        for index, command in enumerate(commands)
    )


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the children, then kill those still running after 15 s in all."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def _banner(port: str, env: dict[str, str], mail_dir: Path) -> str:
    """What a new user reads once everything runs: the address, the demo logins, the mail."""
    return (
        f"\nCountry Partnership Portal: http://127.0.0.1:{port}/\n"
        f"Demo logins (password: {env['DEMO_PASSWORD']}): official-jp, country_admin-jp, "
        "official-fr, reviewer, security_reviewer, compliance_officer, us_coordinator, "
        "approver, auditor, platform_admin\n"
        + (
            f"Outgoing e-mail (invitations, password resets) is written to {mail_dir}/\n"
            if not env.get("EMAIL_HOST")
            else ""
        )
        + "Press Ctrl-C to stop.\n"
    )


def main() -> int:
    port = os.environ.get("PORT", "8000")
    env, mail_dir, started_redis = _environment(port)
    python = sys.executable

    def manage(*args: str) -> None:
        subprocess.run([python, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)  # noqa: S603

    children: list[subprocess.Popen[bytes]] = []

    def stop(signum: int = 0, frame: FrameType | None = None) -> None:
        _stop_children(children)
        if started_redis:
            embedded.stop_redis()
        print("Stopped.", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        manage("migrate", "--no-input", "-v", "0")
        manage("load_territories")
        manage("load_fx_rates")
        manage("seed_demo")
        manage("collectstatic", "--no-input", "-v", "0")
        children.extend(_start(_commands(python, port), env))
        print(_banner(port, env, mail_dir), flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A process stopped; shutting down.", flush=True)
    except subprocess.CalledProcessError as exc:
        print(f"Start-up step failed: {exc}", file=sys.stderr, flush=True)
        stop()
        return 1
    stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
