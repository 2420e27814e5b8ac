"""``flush`` is refused outside tests: it would erase the audit history.

Test isolation (pytest-django's transactional tests) needs it; there it runs as the owner,
which may lift the append-only triggers of its own table for the length of the flush.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections

from portal.ops.owner import APPEND_ONLY_TABLES, as_owner


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        if not settings.TESTING:
            raise CommandError("flush is refused: it would erase the append-only audit history.")
        alias = options.get("database") or "default"
        with as_owner(alias):
            connection = connections[alias]
            with connection.cursor() as cursor:
                for table in APPEND_ONLY_TABLES:
                    cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            try:
                super().handle(**options)
            finally:
                with connection.cursor() as cursor:
                    for table in APPEND_ONLY_TABLES:
                        cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
