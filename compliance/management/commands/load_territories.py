"""``manage.py load_territories [FILE]``: load the territory list as a new version if it changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.territories import (
    DEFAULT_FILE,
    TerritoryFileError,
    format_diff,
    territory_list_load,
)
from portal.context import actor_context


class Command(BaseCommand):
    help = (
        "Validate and load the territory list (default compliance/data/territories.csv). A new "
        "version is created only when the rows changed; its diff is printed and audited, and "
        "applications not yet final are re-screened."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default=str(DEFAULT_FILE), help="the CSV file to load"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with actor_context(system_label="command:load_territories"):
            try:
                result = territory_list_load(path=options["file"])
            except TerritoryFileError as exc:
                problems = "\n  ".join(exc.errors[:50])
                more = f"\n  … and {len(exc.errors) - 50} more" if len(exc.errors) > 50 else ""
                raise CommandError(
                    f"{options['file']} is not a valid territory list; nothing was loaded:\n  {problems}{more}"
                ) from exc
        version = result.version
        if not result.created:
            self.stdout.write(
                f"Unchanged: territory list v{version.number} (checksum {version.checksum[:12]}) is current."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded territory list v{version.number}, effective {version.effective_date}, "
                f"{version.territories.count()} territories (checksum {version.checksum[:12]})."
            )
        )
        if version.number == 1:
            self.stdout.write(f"First version: {len(result.diff['added'])} territories added.")
            return
        for line in format_diff(result.diff):
            self.stdout.write(f"  {line}")
        self.stdout.write(
            "Screening outcomes reset; re-screening of applications not yet final enqueued."
        )
