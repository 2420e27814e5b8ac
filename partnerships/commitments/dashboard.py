"""The commitments' dashboard panels: what waits on this user (registered in ``apps.py``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerships.commitments.permissions import PAYMENT_ROLES
from partnerships.models import CoInvestmentCommitment, Tranche
from portal.dashboard import Panel
from portal.tenancy.access import access_for
from portal.tenancy.roles import Role

Status = CoInvestmentCommitment.Status
TrancheStatus = Tranche.Status


def commitment_panels(user: Any) -> list[Panel]:
    """Dashboard panels (the lead registers this with portal.dashboard.register)."""
    access = access_for(user)
    url = reverse("commitments")
    panels: list[Panel] = []
    mine = CoInvestmentCommitment.objects.restrict(user, "change")
    if access.editable_tenant_ids():
        counts = mine.aggregate(proposed=Count("id", filter=Q(status=Status.PROPOSED)))
        overdue = Tranche.objects.filter(
            commitment__in=mine.values("pk"), status=TrancheStatus.OVERDUE
        ).count()
        panels.append(
            Panel(
                _("Proposed commitments"),
                counts["proposed"],
                url,
                _("Awaiting confirmation by the programme."),
            )
        )
        if overdue:
            panels.append(
                Panel(_("Overdue tranches"), overdue, url, _("Payments past their due date."))
            )
    if access.has_programme_role(Role.APPROVER):
        waiting = access.without_conflicts(
            CoInvestmentCommitment.objects.filter(status=Status.PROPOSED)
        ).count()
        panels.append(
            Panel(
                _("Commitments to confirm"),
                waiting,
                f"{url}?status=proposed",
                _("Proposed commitments; confirm those of approved partnerships."),
            )
        )
    if access.has_programme_role(*PAYMENT_ROLES):
        overdue = Tranche.objects.filter(status=TrancheStatus.OVERDUE).count()
        panels.append(
            Panel(_("Overdue tranches"), overdue, url, _("Confirmed payments past their due date."))
        )
    return panels
