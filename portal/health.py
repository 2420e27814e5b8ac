"""Liveness and readiness (DESIGN §5)."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from portal.services_env import redis_py_url


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_postgres() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means not ready; the message names it
        return f"postgres: {type(exc).__name__}"
    return None


def _check_migrations() -> str | None:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return f"migrations: {type(exc).__name__}"
    return f"migrations: {len(pending)} unapplied" if pending else None


def _check_redis() -> str | None:
    try:
        client = redis.Redis.from_url(
            redis_py_url(settings.REDIS_URL),
            socket_connect_timeout=2,
            socket_timeout=2,
        )
        client.ping()
    except Exception as exc:
        return f"redis: {type(exc).__name__}"
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    failures = [f for f in (_check_postgres(), _check_redis()) if f]
    if not any(f.startswith("postgres") for f in failures):
        migrations = _check_migrations()
        if migrations:
            failures.append(migrations)
    if failures:
        return JsonResponse({"status": "unavailable", "failing": failures}, status=503)
    return JsonResponse({"status": "ready"})
