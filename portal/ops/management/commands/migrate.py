"""``migrate`` as the owner role; Django's command otherwise unchanged."""

from typing import Any

from django.core.management.commands import migrate

from portal.ops.owner import as_owner


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options.get("database") or "default"):
            super().handle(*args, **options)
