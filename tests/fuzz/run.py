"""``make fuzz``: the OpenAPI schema is true for every role (issue #10, DESIGN §5c).

Starts the portal (gunicorn, ``DEBUG`` off) on a throwaway database with the demo data, then
runs Schemathesis (PyPI) against ``/api/schema/`` as ``official`` (official-jp),
``reviewer``, ``compliance_officer`` and ``auditor``, with the two checks the contract names:
``not_a_server_error`` (no 5xx for any input) and ``response_schema_conformance`` (what the
role receives validates against the schema). Examples per operation are bounded
(``FUZZ_EXAMPLES``, default 8) so the run takes a few minutes. Prints, per role, the number
of server errors and schema mismatches, and exits non-zero on any finding.

Needs DATABASE_URL, DATABASE_OWNER_URL and REDIS_URL (as ``make test``); the database
``<name>_fuzz`` (or ``FUZZ_DATABASE``) is created, dropped first, beside the configured one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
ROLES = {
    "official": "official-jp",
    "reviewer": "reviewer",
    "compliance_officer": "compliance_officer",
    "auditor": "auditor",
}
CHECKS = ("not_a_server_error", "response_schema_conformance")
PASSWORD = "fuzzing the portal's contract"


def _on(url: str, database: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{database}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(env: dict[str, str]) -> dict[str, str]:
    """A fresh ``<name>_fuzz`` database, migrated and seeded; returns the environment for it."""
    owner = os.environ.get("DATABASE_OWNER_URL", os.environ["DATABASE_URL"])
    name = os.environ.get("FUZZ_DATABASE") or (
        (urlparse(os.environ["DATABASE_URL"]).path.lstrip("/") or "portal") + "_fuzz"
    )
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = {
        **env,
        "DATABASE_URL": _on(os.environ["DATABASE_URL"], name),
        "DATABASE_OWNER_URL": _on(owner, name),
        "DATABASE_WORKER_URL": _on(
            os.environ.get("DATABASE_WORKER_URL", os.environ["DATABASE_URL"]), name
        ),
    }
    for command in (
        ["migrate", "--verbosity", "0"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
        ["seed_demo"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return env


def serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "3", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).ok:
                return process
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the portal did not start; see {log}")
        time.sleep(0.3)


def token(base: str, username: str) -> str:
    response = requests.post(
        f"{base}/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["token"])


def fuzz(base: str, role: str, key: str, reports: Path) -> dict[str, int]:
    """One Schemathesis run as ``role``; returns the failures found per check."""
    report = reports / f"{role}.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base}/api/schema/",
        "--checks", ",".join(CHECKS),
        "--max-examples", os.environ.get("FUZZ_EXAMPLES", "8"),
        "--phases", os.environ.get("FUZZ_PHASES", "examples,fuzzing"),
        "--header", f"Authorization: Token {key}",
        # Signing out everywhere would end the run's own token; the token endpoints are
        # throttled anonymous endpoints with their own tests.
        "--exclude-path-regex", "^/api/v1/auth/",
        "--continue-on-failure", "--request-timeout", "60",
        "--seed", os.environ.get("FUZZ_SEED", "10"),
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=False)
    found = dict.fromkeys(CHECKS, 0)
    unique = set()
    for line in report.read_text().splitlines():
        for check, operation, title in _failed_checks(json.loads(line)):
            unique.add((check, operation, title))
    for check, operation, title in sorted(unique):
        found[check] = found.get(check, 0) + 1
        print(f"  {role}: {check} {operation}: {title}")
    return found


def _failed_checks(event: Any) -> list[tuple[str, str, str]]:
    """(check, operation, first line of the message) of each failed check in one ndjson
    event, at any depth."""
    failed: list[tuple[str, str, str]] = []
    stack = [event]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("status") == "failure" and isinstance(node.get("name"), str):
                failure = (node.get("failure_info") or {}).get("failure") or {}
                message = str(failure.get("message") or failure.get("title") or "")
                failed.append(
                    (node["name"], str(failure.get("operation", "?")), message.split("\n")[0])
                )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return failed


def main() -> int:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECURE_COOKIES": "0",
        # Plain HTTP over loopback: production's redirect to HTTPS would answer every call 301.
        "SECURE_SSL_REDIRECT": "0",
        "PORTAL_STAFF_2FA": "off",
        "DEMO_PASSWORD": PASSWORD,
        "USER_THROTTLE_RATE": "1000000/hour",
        "TOKEN_THROTTLE_RATE": "1000/min",
    }
    env.pop("PORTAL_TESTING", None)
    work = Path(tempfile.mkdtemp(prefix="portal-fuzz-"))
    env["STATIC_ROOT"] = str(work / "static")  # served as in production (manifest storage)
    env = prepare(env)
    port = _free_port()
    server = serve(env, port, work / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, int]] = {}
    try:
        for role, username in ROLES.items():
            results[role] = fuzz(base, role, token(base, username), work)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\nmake fuzz: findings per role (reports in {work})")
    print(f"{'role':<20}{'server errors':>15}{'schema mismatches':>20}")
    for role, found in results.items():
        print(
            f"{role:<20}{found['not_a_server_error']:>15}{found['response_schema_conformance']:>20}"
        )
    return 1 if any(sum(found.values()) for found in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
