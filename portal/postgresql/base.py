"""Django's PostgreSQL backend, with psycopg's C loader for ``timestamptz``.

Django 5.2 registers on every connection its own ``timestamptz`` loader, a Python subclass of
psycopg's that only swaps the result's tzinfo for its own. psycopg uses its C loaders only
for its own classes, so every timestamp Django reads is parsed in Python (Django ticket
#36960, psycopg issue #1273). A reviewer queue page of 50 applications reads 150 of them;
psycopg's C loader cut the page's instructions by 18 % (callgrind, #16, bench/README.md).

The C loader gives the same instants, aware, in the session's time zone, which Django sets
to its own (``timezone_name``: UTC here) when it opens the connection; the one difference is
the tzinfo object for UTC (``zoneinfo.ZoneInfo("UTC")`` instead of ``datetime.timezone.utc``).
Only with ``USE_TZ``: without it Django wants naive datetimes and keeps its own loader.
Everything else is Django's backend (``ENGINE = "portal.postgresql"``, portal/settings.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import adapters
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader  # psycopg registers its C version

_TIMESTAMPTZ = adapters.types["timestamptz"].oid
_PSYCOPG_LOADER = adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)  # C when psycopg has it

# Django's client-side-binding server cursor (its stubs declare it without arguments).
_SERVER_SIDE_CURSOR: Any = base.ServerSideCursor


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        if settings.USE_TZ:
            connection.adapters.register_loader("timestamptz", TimestamptzLoader)
        return connection

    def create_cursor(self, name: str | None = None) -> Any:
        """Django's cursors, without its check of the connection's ``timestamptz`` loader
        (it reads a ``timezone`` attribute psycopg's loader has not, and would put its Python
        loader back on every cursor)."""
        if self.connection.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT) is not _PSYCOPG_LOADER:
            return super().create_cursor(name)  # Django's own loader (USE_TZ off at connect)
        if name is None:
            cursor = self.connection.cursor()
        elif self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
            # Named (server-side) cursors as Django makes them.
            cursor = _SERVER_SIDE_CURSOR(
                self.connection, name=name, scrollable=False, withhold=self.connection.autocommit
            )
        else:
            cursor = self.connection.cursor(
                name, scrollable=False, withhold=self.connection.autocommit
            )
        if not settings.USE_TZ:  # turned off since the connection opened: naive, as Django's
            register_tzloader(self.timezone, cursor)
        return cursor
