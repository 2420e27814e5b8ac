from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person. Never deleted, only deactivated: the audit history keeps pointing at them.

    To honour an erasure request, ``pseudonymize`` blanks the personal fields; audit events
    keep the username as it was when they were written (docs/audit.md).
    """

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise models.ProtectedError("Users are deactivated, never deleted.", {self})

    def pseudonymize(self) -> None:
        self.first_name = ""
        self.last_name = ""
        self.email = ""
        self.is_active = False
        self.set_unusable_password()
        self.save(update_fields=["first_name", "last_name", "email", "is_active", "password"])
