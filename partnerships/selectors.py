"""Reads that take the user (STYLE 4): everything through restrict()."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partnerships.models import CountryApplication, State
from partnerships.workflow import STATE_ROLE
from portal import parse
from portal.tenancy.access import access_for


def application_for(user: Any, pk: int) -> CountryApplication:
    """The application if ``user`` may see it; otherwise 404, exactly as if it did not exist."""
    application = (
        CountryApplication.objects.restrict(user)
        .select_related("tenant", "assigned_to")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404("No such application.")
    return application


def review_queue(
    user: Any,
    *,
    state: str = "",
    tenant: str = "",
    overdue: bool = False,
    mine: bool = False,
) -> QuerySet[CountryApplication]:
    """Applications waiting in the stages the user's programme roles work."""
    access = access_for(user)
    states = [s for s, role in STATE_ROLE.items() if access.has_programme_role(role)]
    if access.has_programme_role("auditor"):
        states = list(STATE_ROLE)
    if state:
        states = [s for s in states if s == state]
    queryset = (
        access.without_conflicts(CountryApplication.objects.restrict(user))
        .filter(state__in=states)
        .select_related("tenant", "assigned_to")
        .order_by(F("stage_due_at").asc(nulls_last=True), "id")
    )
    if tenant:
        queryset = queryset.filter(tenant__code=tenant.upper())
    if overdue:
        queryset = queryset.filter(stage_due_at__lt=timezone.now())
    if mine:
        queryset = queryset.filter(assigned_to=user)
    return queryset


QUEUE_PAGE = 50


@dataclass(frozen=True)
class QueueCursor:
    """The position after which a queue page starts: the last row's due time and id.

    Written into links as ``<due ISO time or "none">|<id>``; ``parse`` validates a client's
    copy before it reaches the query (a malformed one starts from the first page).
    """

    due: dt.datetime | None
    last_id: int

    def __str__(self) -> str:
        return f"{self.due.isoformat() if self.due else 'none'}|{self.last_id}"

    @classmethod
    def parse(cls, value: Any) -> QueueCursor | None:
        text = parse.lenient_text(value, max_length=80)
        due_text, _bar, id_text = text.partition("|")
        last_id = parse.lenient_integer(id_text)
        if last_id is None:
            return None
        if due_text == "none":
            return cls(None, last_id)
        try:
            due = dt.datetime.fromisoformat(due_text) if due_text.isascii() else None
        except ValueError:
            return None
        if due is None or timezone.is_naive(due):
            return None
        return cls(due, last_id)


def queue_page(
    queryset: QuerySet[CountryApplication], after: QueueCursor | None = None
) -> tuple[list[CountryApplication], str]:
    """One keyset page of a queue ordered by (due date, id); returns it and the next cursor.

    Constant cost however deep the page.
    """
    if after is not None:
        if after.due is None:
            queryset = queryset.filter(stage_due_at__isnull=True, id__gt=after.last_id)
        else:
            queryset = queryset.filter(
                Q(stage_due_at__gt=after.due)
                | Q(stage_due_at=after.due, id__gt=after.last_id)
                | Q(stage_due_at__isnull=True)
            )
    rows = list(queryset[: QUEUE_PAGE + 1])
    if len(rows) <= QUEUE_PAGE:
        return rows, ""
    last = rows[QUEUE_PAGE - 1]
    return rows[:QUEUE_PAGE], str(QueueCursor(last.stage_due_at, last.pk))


def waiting_on_country(user: Any) -> QuerySet[CountryApplication]:
    access = access_for(user)
    return CountryApplication.objects.filter(
        tenant_id__in=access.editable_tenant_ids(), state__in=[State.DRAFT, State.INFO_REQUESTED]
    )
