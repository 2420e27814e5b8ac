"""Reads of the audit history. Every read takes the user and refuses anyone but an auditor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from portal.audit.models import AuditEvent
from portal.tenancy.access import access_for
from portal.tenancy.roles import Role

PAGE_SIZE = 50


def is_auditor(user: Any) -> bool:
    return access_for(user).has_programme_role(Role.AUDITOR)


def audit_events(*, user: Any, lookups: dict[str, Any] | None = None) -> QuerySet[AuditEvent]:
    """The events matching ``lookups`` (from ``AuditFilterForm.lookups``); auditors only.

    An auditor who also holds a role in a country does not read that country's events
    (``Access.without_conflicts``: conflict of interest, DESIGN §1; and a country's people
    never read the programme's deliberation about it, DESIGN §5c). Programme-wide events
    (no country) stay visible. Raises PermissionDenied for anyone but an auditor.
    """
    access = access_for(user)
    if not access.has_programme_role(Role.AUDITOR):
        raise PermissionDenied("Only auditors read the audit history.")
    return access.without_conflicts(AuditEvent.objects.filter(**(lookups or {})))


def withheld_countries(*, user: Any) -> list[str]:
    """ISO 3166 codes of the countries whose events ``audit_events`` withholds from ``user``."""
    return sorted(access_for(user).tenant_codes.values())


@dataclass(frozen=True)
class KeysetPage:
    events: list[AuditEvent]
    previous_before: int | None  # ?before=<it> shows the page before this one (None: first)
    next_after: int | None  # ?after=<it> shows the page after this one (None: last)


def keyset_page(
    *, queryset: QuerySet[AuditEvent], after: int | None = None, before: int | None = None,
    size: int = PAGE_SIZE, newest_first: bool = True,
) -> KeysetPage:  # fmt: skip
    """One page by id, without OFFSET or COUNT: at most two indexed queries at any depth.

    ``after``/``before`` name an id and mean after/before it in the order shown (newest
    first by default, so ``after=N`` shows the events older than N; timelines pass
    ``newest_first=False`` for chronological order).
    """
    forward, backward = ("-id", "id") if newest_first else ("id", "-id")
    past, ahead = ("id__lt", "id__gt") if newest_first else ("id__gt", "id__lt")
    if before is not None:
        rows = list(queryset.filter(**{ahead: before}).order_by(backward)[: size + 1])
        if rows:
            more_ahead = len(rows) > size
            rows = rows[:size][::-1]
            more_past = queryset.filter(**{past: rows[-1].id}).exists()
            return KeysetPage(
                rows,
                previous_before=rows[0].id if more_ahead else None,
                next_after=rows[-1].id if more_past else None,
            )
        after = None  # nothing before it: show the first page
    page = queryset.order_by(forward)
    if after is not None:
        page = page.filter(**{past: after})
    rows = list(page[: size + 1])
    more_past = len(rows) > size
    rows = rows[:size]
    more_ahead = (
        after is not None and bool(rows) and queryset.filter(**{ahead: rows[0].id}).exists()
    )
    return KeysetPage(
        rows,
        previous_before=rows[0].id if more_ahead else None,
        next_after=rows[-1].id if more_past else None,
    )


def object_events(*, user: Any, object_type: str, object_id: str) -> QuerySet[AuditEvent]:
    """Every event about one object (served by the (object_type, object_id, id) index)."""
    return audit_events(user=user, lookups={"object_type": object_type, "object_id": object_id})


# --- Diffs and replay -----------------------------------------------------------------------


def is_change(value: Any) -> bool:
    """``{"before": …, "after": …}`` (either side may be missing) is a change of one field."""
    return isinstance(value, dict) and bool(value) and set(value) <= {"before", "after"}


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class ChangeRow:
    field: str
    before: str
    after: str
    is_change: bool  # False: a recorded value (e.g. {"role": "reviewer"}), not a before/after


def change_rows(changes: dict[str, Any]) -> list[ChangeRow]:
    """The rows of a before/after diff view of one event's ``changes``."""
    rows = []
    for field, value in sorted(changes.items()):
        if is_change(value):
            rows.append(
                ChangeRow(field, display(value.get("before")), display(value.get("after")), True)
            )
        else:
            rows.append(ChangeRow(field, "", display(value), False))
    return rows


@dataclass(frozen=True)
class ReplayedState:
    fields: dict[str, Any]
    events: int  # how many events were replayed
    last_event: AuditEvent | None


def replay(changes_in_order: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold ``changes`` dicts, oldest first: a change sets the field to its "after" value,
    a plain value is taken as the field's value."""
    state: dict[str, Any] = {}
    for changes in changes_in_order:
        for field, value in changes.items():
            state[field] = value.get("after") if is_change(value) else value
    return state


def object_state_as_of(
    *, user: Any, object_type: str, object_id: str, moment: datetime | None
) -> ReplayedState:
    """The object's fields as its events describe them at ``moment`` (exclusive bound; None:
    no bound, every event).

    Generic on purpose: it knows no model, only the ``changes`` its services recorded, so it
    works for any object and for objects since deleted or changed beyond recognition.
    """
    queryset = object_events(user=user, object_type=object_type, object_id=object_id)
    if moment is not None:
        queryset = queryset.filter(occurred_at__lt=moment)
    events = list(
        queryset.order_by("id").only("id", "occurred_at", "verb", "actor_username", "changes")
    )
    return ReplayedState(
        fields=replay([e.changes for e in events]),
        events=len(events),
        last_event=events[-1] if events else None,
    )
