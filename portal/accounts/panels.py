"""Dashboard panel for the people who invite (country and platform admins)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts import services
from portal.accounts.models import Invitation
from portal.dashboard import Panel


def people_panels(user: Any) -> list[Panel]:
    if not services.may_invite_anyone(user):
        return []
    pending = (
        Invitation.objects.restrict(user)
        .filter(accepted_at=None, revoked_at=None, expires_at__gt=timezone.now())
        .count()
    )
    return [
        Panel(
            _("Invitations not yet accepted"),
            pending,
            reverse("people"),
            _("People you invited who have not created their account yet."),
        )
    ]
