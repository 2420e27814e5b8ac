"""Reads that take the user (STYLE 4): everything through restrict()."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partnerships.models import CountryApplication, State
from partnerships.workflow import STATE_ROLE
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
        CountryApplication.objects.restrict(user)
        .filter(state__in=states)
        .exclude(tenant_id__in=access.tenant_ids)  # conflict of interest: not theirs to review
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


def queue_page(
    queryset: QuerySet[CountryApplication], after: str = ""
) -> tuple[list[CountryApplication], str]:
    """One keyset page of a queue ordered by (due date, id); returns it and the next cursor.

    The cursor is ``<due ISO time or "none">|<id>``: constant cost however deep the page.
    """
    if after:
        due_text, _, id_text = after.partition("|")
        try:
            last_id = int(id_text)
            due = None if due_text == "none" else dt.datetime.fromisoformat(due_text)
        except ValueError:
            due, last_id = None, 0
        if due is None:
            queryset = queryset.filter(stage_due_at__isnull=True, id__gt=last_id)
        else:
            queryset = queryset.filter(
                Q(stage_due_at__gt=due)
                | Q(stage_due_at=due, id__gt=last_id)
                | Q(stage_due_at__isnull=True)
            )
    rows = list(queryset[: QUEUE_PAGE + 1])
    if len(rows) <= QUEUE_PAGE:
        return rows, ""
    last = rows[QUEUE_PAGE - 1]
    cursor = f"{last.stage_due_at.isoformat() if last.stage_due_at else 'none'}|{last.pk}"
    return rows[:QUEUE_PAGE], cursor


def waiting_on_country(user: Any) -> QuerySet[CountryApplication]:
    access = access_for(user)
    return CountryApplication.objects.filter(
        tenant_id__in=access.editable_tenant_ids(), state__in=[State.DRAFT, State.INFO_REQUESTED]
    )
