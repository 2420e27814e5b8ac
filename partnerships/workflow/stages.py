"""Entering a state: the stage's clock (DESIGN §4 "Each review state has a due date")."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from partnerships.models import CountryApplication

#: Columns every move writes (beside the action's own).
MOVE_FIELDS = [
    "state",
    "stage_entered_at",
    "stage_due_at",
    "overdue_notified",
    "assigned_to",
    "version",
    "updated_at",
]


def stage_due(state: str, now: dt.datetime) -> dt.datetime | None:
    """When work in ``state`` entered at ``now`` falls due (``PORTAL_SLA_DAYS``), or None."""
    days = settings.PORTAL_SLA_DAYS.get(state)
    return now + dt.timedelta(days=days) if days else None


def enter_state(application: CountryApplication, state: str, now: dt.datetime) -> None:
    """Put ``application`` (unsaved) in ``state`` at ``now``: a new stage, nobody assigned."""
    application.state = state
    application.stage_entered_at = now
    application.stage_due_at = stage_due(state, now)
    application.overdue_notified = False
    application.assigned_to = None
