import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.audit.verify import verify_chain, verify_since_checkpoint


class Command(BaseCommand):
    help = (
        "Verify the audit chain (keyed hashes, links, and every signed checkpoint); exits 1 "
        "and names the first bad event when broken. --since-checkpoint: only what follows the "
        "newest matching checkpoint. --processes N: walk the whole chain in N parts side by "
        "side (default 2)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--since-checkpoint", action="store_true")
        parser.add_argument("--processes", type=int, default=2, choices=range(1, 17), metavar="N")

    def handle(self, *args: Any, **options: Any) -> None:
        result = (
            verify_since_checkpoint()
            if options["since_checkpoint"]
            else verify_chain(processes=options["processes"])
        )
        self.stdout.write(json.dumps(result.as_dict()))
        if not result.ok:
            raise CommandError(
                f"audit chain broken at event {result.first_bad_id} ({result.problem})"
            )
