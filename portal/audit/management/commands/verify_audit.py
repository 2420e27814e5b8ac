import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chain; exits 1 and names the first bad event when broken."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verify_chain()
        self.stdout.write(json.dumps(result.as_dict()))
        if not result.ok:
            raise CommandError(f"audit chain broken at event {result.first_bad_id}")
