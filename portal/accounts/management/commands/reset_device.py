from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.services import enrolment_link, otp_reset_by_operator
from portal.context import actor_context


class Command(BaseCommand):
    help = (
        "Reset USERNAME's authenticator and print a one-time enrolment link (also mailed); "
        "for the first platform admin of a deployment. Audited as otp.reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"Unknown user {options['username']!r}.")
        with actor_context(system_label="command:reset_device"):
            try:
                token = otp_reset_by_operator(user=user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"Enrolment link for {user.get_username()}: {enrolment_link(token)}")
