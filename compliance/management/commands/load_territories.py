"""``manage.py load_territories [FILE]``: load the territory list and the screening policy.

Each becomes a new version only when it changed (checksum). A new version of either resets
and re-screens the applications that are not final.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from compliance.screening import POLICY_FILE, PolicyError
from compliance.territories import format_diff, screening_policy_load, territory_list_load
from compliance.territory_file import DEFAULT_FILE, SOURCES_FILE, TerritoryFileError
from portal.context import actor_context


class Command(BaseCommand):
    help = (
        "Validate and load the territory list (default compliance/data/territories.csv, its "
        "source records in compliance/data/SOURCES.md) and the screening policy (default "
        "compliance/data/screening_policy.json). A new version of either is created only when "
        "it changed; the list's diff is printed and audited, and applications not yet final "
        "are re-screened."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", nargs="?", default=str(DEFAULT_FILE), help="the CSV file to load"
        )
        parser.add_argument(
            "--sources", default=str(SOURCES_FILE), help="the Markdown file of source records"
        )
        parser.add_argument(
            "--policy", default=str(POLICY_FILE), help="the screening policy (JSON) to record"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with actor_context(system_label="command:load_territories"):
            try:
                result = territory_list_load(path=options["file"], sources_path=options["sources"])
            except TerritoryFileError as exc:
                problems = "\n  ".join(exc.errors[:50])
                more = f"\n  … and {len(exc.errors) - 50} more" if len(exc.errors) > 50 else ""
                raise CommandError(
                    f"{options['file']} is not a valid territory list; nothing was loaded:\n  {problems}{more}"
                ) from exc
            self._report_list(result)
            try:
                policy = screening_policy_load(path=options["policy"])
            except PolicyError as exc:
                raise CommandError(
                    f"{options['policy']} is not a valid screening policy; nothing was recorded: {exc}"
                ) from exc
        version = policy.version
        if not policy.created:
            self.stdout.write(
                f"Screening policy v{version.number} “{version.name}” "
                f"(checksum {version.checksum[:12]}) is current; unchanged."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Recorded screening policy v{version.number} “{version.name}” "
                f"(checksum {version.checksum[:12]})."
            )
        )
        if version.number > 1:
            self.stdout.write(
                f"Screening outcomes reset ({policy.reset}); re-screening of applications not "
                "yet final enqueued."
            )

    def _report_list(self, result: Any) -> None:
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
