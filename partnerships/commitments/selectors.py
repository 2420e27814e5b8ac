"""Reads of commitments that take the user (STYLE 4): everything through ``restrict()``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from partnerships.models import CoInvestmentCommitment


def commitments_for(
    user: Any, *, country: str | None = None, vehicle: str | None = None, status: str | None = None
) -> QuerySet[CoInvestmentCommitment]:
    """The commitments ``user`` may see, filtered; newest first."""
    queryset = CoInvestmentCommitment.objects.restrict(user, "view").select_related("tenant")
    if country:
        queryset = queryset.filter(tenant__code__iexact=country)
    if vehicle:
        queryset = queryset.filter(vehicle=vehicle)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-id")
