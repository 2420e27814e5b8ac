"""Helpers shared by the audit tests: an owner connection and fast event generation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from portal.audit.record import record_events
from portal.audit.verbs import Verb


@contextlib.contextmanager
def owner_connection() -> Iterator[psycopg.Connection[Any]]:
    """A separate connection to the *test* database as the owner role (autocommit)."""
    owner = settings.DATABASE_OWNER
    conn = psycopg.connect(
        host=owner.get("HOST") or None,
        port=owner.get("PORT") or None,
        user=owner["USER"],
        password=owner.get("PASSWORD") or None,
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()


def make_events(count: int, **fields: Any) -> int:
    """Append ``count`` chained events through the bulk recorder."""
    return record_events(
        events=(
            {"verb": Verb.APPLICATION_UPDATED, "object_type": "test.thing", "object_id": str(n % 50),
             "object_label": f"Thing {n % 50}", "changes": {"n": {"before": n - 1, "after": n}},
             "reason": "generated for a test", **fields}
            for n in range(count)
        )
    )  # fmt: skip
