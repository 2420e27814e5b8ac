"""Reads that take the user (STYLE 4): everything through restrict()."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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
        .order_by("stage_due_at", "id")
    )
    if tenant:
        queryset = queryset.filter(tenant__code=tenant.upper())
    if overdue:
        queryset = queryset.filter(stage_due_at__lt=timezone.now())
    if mine:
        queryset = queryset.filter(assigned_to=user)
    return queryset


def waiting_on_country(user: Any) -> QuerySet[CountryApplication]:
    access = access_for(user)
    return CountryApplication.objects.filter(
        tenant_id__in=access.editable_tenant_ids(), state__in=[State.DRAFT, State.INFO_REQUESTED]
    )
