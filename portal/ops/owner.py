"""Run a block of database work as the owner role (migrations, test set-up).

The web, the workers and ``manage.py`` connect as the application role, which owns no table;
schema changes need the owner. Django has one set of credentials per alias, so the owner's
credentials are swapped into the ``default`` connection for the duration of the block.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connections
from psycopg import sql

_CREDENTIAL_KEYS = ("USER", "PASSWORD", "HOST", "PORT")

# Tables the application role may append to and read, but never change.
APPEND_ONLY_TABLES = ("audit_auditevent",)


def owner_is_distinct() -> bool:
    app = settings.DATABASE_APP
    return any(app.get(k) != settings.DATABASE_OWNER.get(k) for k in ("USER", "HOST", "PORT"))


@contextlib.contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    connection = connections[alias]
    saved = {key: connection.settings_dict.get(key) for key in _CREDENTIAL_KEYS}
    if not owner_is_distinct():
        yield
        return
    connection.close()
    connection.settings_dict.update(
        {key: settings.DATABASE_OWNER.get(key) for key in _CREDENTIAL_KEYS}
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def app_role_name() -> str:
    return str(settings.DATABASE_APP["USER"])


def app_role_names() -> tuple[str, str]:
    """The web role (DATABASE_URL) and the worker role (DATABASE_WORKER_URL); the same name
    twice when one role does both."""
    return str(settings.DATABASE_WEB["USER"]), str(settings.DATABASE_WORKER["USER"])


def _claim_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), so PostgreSQL computes the same
    HMAC with its built-in ``sha256()`` alone (no pgcrypto)."""
    block = (
        key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
    )
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def register_scope_roles(cursor: Any) -> None:
    """Tell PostgreSQL (as the owner) which login role is the worker's and the claim key.

    ``portal_private.rls_config`` is readable by the owner only; ``portal_scope_wide()``
    (SECURITY DEFINER, tenancy migration 0005) reads it. With one role for web and workers
    (DATABASE_WORKER_URL unset), that role is the worker: its programme-wide scope is always
    honoured, as before the split.
    """
    cursor.execute("SELECT to_regclass('portal_private.rls_config')")
    if not cursor.fetchone()[0]:
        return
    _web, worker = app_role_names()
    inner, outer = _claim_pads(settings.PORTAL_RLS_CLAIM_KEY)
    cursor.execute(
        "INSERT INTO portal_private.rls_config (singleton, worker_roles, claim_inner, claim_outer) "
        "VALUES (true, %s, %s, %s) ON CONFLICT (singleton) DO UPDATE SET "
        "worker_roles = excluded.worker_roles, claim_inner = excluded.claim_inner, "
        "claim_outer = excluded.claim_outer",
        [[worker], inner, outer],
    )


def grant_app_role(*, using: str = "default", **_: object) -> None:
    """After every migrate (run as owner): give the application roles row access only.

    Connected to ``post_migrate``. Idempotent. The web and the worker role each get SELECT/INSERT/
    UPDATE/DELETE on ordinary tables, but only SELECT/INSERT on append-only tables, and no
    TRUNCATE or DDL anywhere.
    """
    if not owner_is_distinct():
        return
    connection = connections[using]
    with connection.cursor() as cursor:
        for name in sorted(set(app_role_names())):
            _grant_rows(cursor, sql.Identifier(name))
        register_scope_roles(cursor)


def _grant_rows(cursor: Any, role: sql.Identifier) -> None:
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
    cursor.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            role
        )
    )
    cursor.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role)
    )
    for table in APPEND_ONLY_TABLES:
        cursor.execute("SELECT to_regclass(%s)", [table])
        if cursor.fetchone()[0]:
            cursor.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), role
                )
            )
