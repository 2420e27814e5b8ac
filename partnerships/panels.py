"""Dashboard panels: what waits on this user."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerships.models import CountryApplication, Obligation, State
from partnerships.selectors import waiting_on_country
from partnerships.workflow import STATE_ROLE
from portal.dashboard import Panel
from portal.tenancy.access import access_for


def application_panels(user: Any) -> list[Panel]:
    access = access_for(user)
    panels: list[Panel] = []
    if access.editable_tenant_ids():
        counts = dict(waiting_on_country(user).values_list("state").annotate(n=Count("id")))
        panels.append(
            Panel(_("Drafts to complete"), counts.get(State.DRAFT, 0), reverse("applications"))
        )
        panels.append(
            Panel(
                _("Information requests to answer"),
                counts.get(State.INFO_REQUESTED, 0),
                reverse("applications"),
            )
        )
        # Conditions of an approval: the country provides evidence before each due date.
        due = Obligation.objects.filter(
            tenant_id__in=access.editable_tenant_ids(),
            status__in=[Obligation.Status.OPEN, Obligation.Status.OVERDUE],
        ).count()
        panels.append(
            Panel(
                _("Obligations due"),
                due,
                f"{reverse('applications')}#obligations",
                _("Conditions of approved partnerships that need your evidence."),
            )
        )
    stages = [s for s, role in STATE_ROLE.items() if access.has_programme_role(role)]
    if stages:
        counts = dict(
            access.without_conflicts(CountryApplication.objects.filter(state__in=stages))
            .values_list("state")
            .annotate(n=Count("id"))
        )
        panels.extend(
            Panel(str(State(s).label), counts.get(s, 0), f"{reverse('review')}?state={s}")
            for s in stages
        )
    return panels
