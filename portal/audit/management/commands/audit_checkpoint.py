import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.audit.services import audit_checkpoint
from portal.context import actor_context


class Command(BaseCommand):
    help = (
        "Verify the audit chain from the last checkpoint and sign its head into a new "
        "checkpoint outside the database (beat does this hourly); exits 1 when broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with actor_context(system_label="command:audit_checkpoint"):
            result, checkpoint = audit_checkpoint()
        self.stdout.write(
            json.dumps({**result.as_dict(), "written": checkpoint.name if checkpoint else None})
        )
        if not result.ok:
            raise CommandError(
                f"audit chain broken at event {result.first_bad_id} ({result.problem})"
            )
