"""Where the portal's PostgreSQL and Redis are: the environment's, else the embedded ones."""

from __future__ import annotations

import os

from portal import embedded


def redis_py_url(url: str) -> str:
    """redis-py spells a Unix socket ``unix://``; Celery (kombu) spells it ``redis+socket://``."""
    return url.replace("redis+socket://", "unix://", 1).replace("?virtual_host=", "?db=", 1)


def resolve(*, testing: bool = False) -> dict[str, str]:
    """Return DATABASE_URL, DATABASE_OWNER_URL, DATABASE_WORKER_URL and REDIS_URL.

    Variables set in the environment win. With ``DATABASE_URL`` unset, the embedded
    PostgreSQL (and, with ``REDIS_URL`` unset, Redis) under ``.data/`` is started or joined,
    so any ``manage.py`` command run from the checkout reaches the same servers as
    ``make run``. ``DATABASE_WORKER_URL`` (Celery, beat, commands) defaults to
    ``DATABASE_URL``: one role for everything, whose programme-wide scope is then always
    honoured (docs/rls.md, "Scope widening").
    """
    env = {
        key: os.environ[key]
        for key in ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_WORKER_URL", "REDIS_URL")
        if os.environ.get(key)
    }
    if "DATABASE_URL" not in env or "REDIS_URL" not in env:
        urls = embedded.ensure_services().as_env()
        if "DATABASE_URL" in env:  # external PostgreSQL, embedded Redis
            urls.pop("DATABASE_URL")
            urls.pop("DATABASE_OWNER_URL")
            urls.pop("DATABASE_WORKER_URL")
        if testing:
            # Tests empty their broker database: never the one `make run` is using.
            urls["REDIS_URL"] += "?virtual_host=1"
        env = {**urls, **env}
    env.setdefault("DATABASE_OWNER_URL", env["DATABASE_URL"])
    env.setdefault("DATABASE_WORKER_URL", env["DATABASE_URL"])
    return env
