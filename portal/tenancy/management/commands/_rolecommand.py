from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.context import actor_context
from portal.tenancy.services import user_create, validate_role


class RoleCommand(BaseCommand):
    """Shared arguments and error handling of grant_role and revoke_role."""

    allow_create = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role")
        parser.add_argument("--tenant", help="ISO 3166-1 alpha-2 code, for country roles")
        if self.allow_create:
            parser.add_argument(
                "--create",
                action="store_true",
                help="create the user; the password is read from $PORTAL_PASSWORD",
            )

    def change(self, *, user: Any, role: str, tenant_code: str | None) -> bool:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        username, role, tenant = options["username"], options["role"], options.get("tenant")
        with actor_context(system_label=f"command:{self.command_name()}"):
            try:
                user = get_user_model().objects.filter(username=username).first()
                if user is None:
                    if not options.get("create"):
                        raise CommandError(
                            f"Unknown user {username!r} (use --create to create it)."
                        )
                    password = os.environ.get("PORTAL_PASSWORD", "")
                    if not password:
                        raise CommandError(
                            "--create reads the password from $PORTAL_PASSWORD, which is empty."
                        )
                    # Validate the role before creating anyone, so bad input changes nothing.
                    validate_role(role, tenant)
                    user = user_create(username=username, password=password)
                changed = self.change(user=user, role=role, tenant_code=tenant)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        where = f" in {tenant.upper()}" if tenant else ""
        state = "done" if changed else "no change"
        self.stdout.write(f"{self.command_name()} {username} {role}{where}: {state}")

    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]
