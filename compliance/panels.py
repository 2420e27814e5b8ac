"""Compliance's dashboard panels (registered in ``ComplianceConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from partnerships.models import CountryApplication, State
from portal.dashboard import Panel
from portal.tenancy.access import access_for
from portal.tenancy.roles import Role


def holds_panel(user: Any) -> list[Any]:
    """Dashboard: the hold queue, for compliance officers."""
    if not access_for(user).has_programme_role(Role.COMPLIANCE_OFFICER):
        return []
    count = CountryApplication.objects.restrict(user).filter(state=State.SCREENING_HOLD).count()
    return [
        Panel(
            title=_("Screening holds"),
            count=count,
            url=reverse("compliance-holds"),
            description=_(
                "Applications held by the compliance screening, waiting for your decision."
            ),
        )
    ]
