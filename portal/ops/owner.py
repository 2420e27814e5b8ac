"""Run a block of database work as the owner role (migrations, test set-up).

The web, the workers and ``manage.py`` connect as the application role, which owns no table;
schema changes need the owner. Django has one set of credentials per alias, so the owner's
credentials are swapped into the ``default`` connection for the duration of the block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


def grant_app_role(*, using: str = "default", **_: object) -> None:
    """After every migrate (run as owner): give the application role row access only.

    Connected to ``post_migrate``. Idempotent. The application role gets SELECT/INSERT/
    UPDATE/DELETE on ordinary tables, but only SELECT/INSERT on append-only tables, and no
    TRUNCATE or DDL anywhere.
    """
    if not owner_is_distinct():
        return
    role = sql.Identifier(app_role_name())
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        cursor.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(role)
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
