"""What follows a workflow action, by the names ``Action.stamps`` and ``Action.effects`` use.

A *stamp* changes the application row beside its state before it is saved (and names the
column it wrote); an *effect* runs after the decision and its audit event are written, in
the same transaction (``after_commit`` defers work until the transaction commits). Mail and
screening belong to modules above the workflow: effects reach them through the signals of
``signals.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from partnerships.models import CountryApplication, Decision, Obligation, Partnership
from partnerships.workflow.signals import application_submitted, transitions_recorded
from partnerships.workflow.states import ACTIONS, Action
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.dates import tenant_today


@dataclass
class Move:
    """One action being applied to a locked application (what stamps and effects read)."""

    application: CountryApplication
    action: Action
    actor: Any
    from_state: str
    role: str
    now: dt.datetime
    fields: list[str] = field(default_factory=list)  # columns to save beside the state's
    decision: Decision | None = None  # set once written


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` when the current transaction commits (errors are not swallowed)."""
    transaction.on_commit(callback, robust=False)


# --- Stamps: the row, before it is saved ----------------------------------------------------


def stamp_submitted(move: Move) -> None:
    """Who submitted, and when."""
    move.application.submitted_at, move.application.submitted_by = move.now, move.actor
    move.fields += ["submitted_at", "submitted_by"]


def mark_hold_cleared(move: Move) -> None:
    """A compliance officer weighed the screening's concerns (``guards.screening_is_clear``)."""
    move.application.screening_hold_cleared = True
    move.fields.append("screening_hold_cleared")


def remember_stage(move: Move) -> None:
    """The stage that asked for information: the answer goes back there after screening."""
    move.application.info_requested_from = move.from_state
    move.fields.append("info_requested_from")


# --- Effects: after the decision and its audit event ----------------------------------------


def notify(move: Move) -> None:
    """Mail (notifications writes its outbox rows in this transaction)."""
    transitions_recorded.send(sender=CountryApplication, moves=[(move.application, move.decision)])


def announce_submitted(move: Move) -> None:
    """After commit: compliance enqueues the screening of this version."""
    app_id, app_version = move.application.pk, move.application.version

    def announce() -> None:
        application_submitted.send(
            sender=CountryApplication, application_id=app_id, version=app_version
        )

    after_commit(announce)


def create_partnership(move: Move) -> None:
    """Final approval: the Partnership, effective today in the country; the application's
    obligations become the partnership's."""
    application = move.application
    partnership = Partnership.objects.create(
        tenant=application.tenant,
        application=application,
        effective_date=tenant_today(application.tenant),
    )
    Obligation.objects.filter(application=application).update(partnership=partnership)
    record_event(
        actor=move.actor,
        verb=Verb.PARTNERSHIP_CREATED,
        obj=partnership,
        tenant=application.tenant,
        role=move.role,
    )


STAMPS: dict[str, Callable[[Move], None]] = {
    "stamp_submitted": stamp_submitted,
    "mark_hold_cleared": mark_hold_cleared,
    "remember_stage": remember_stage,
}
EFFECTS: dict[str, Callable[[Move], None]] = {
    "notify": notify,
    "announce_submitted": announce_submitted,
    "create_partnership": create_partnership,
}

# Every name the table uses is registered (checked at import, so a typo cannot start).
_unknown = [n for a in ACTIONS.values() for n in a.stamps if n not in STAMPS] + [
    n for a in ACTIONS.values() for n in a.effects if n not in EFFECTS
]
if _unknown:
    raise ImproperlyConfigured(f"Unregistered workflow stamps or effects: {_unknown}")
