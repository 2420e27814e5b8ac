"""Compliance pages: the hold queue and the territory list browser. Views are thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from compliance.forms import HoldDecisionForm, TerritoryFilterForm
from compliance.models import ScreeningResult, Territory, TerritoryListVersion
from compliance.screening import citation
from compliance.territories import current_policy_version, format_diff
from partnerships import workflow
from partnerships.models import CountryApplication, State
from portal.tenancy.access import access_for
from portal.tenancy.roles import Role
from portal.ui.service_errors import ALL, service_errors


def _require(request: HttpRequest, *roles: str) -> None:
    if not access_for(request.user).has_programme_role(*roles):
        raise PermissionDenied(_("This page is for compliance officers."))


def held_applications(user: Any) -> QuerySet:
    """The hold queue, oldest first, with each application's screenings (newest first)."""
    return (
        CountryApplication.objects.restrict(user)
        .filter(state=State.SCREENING_HOLD)
        .select_related("tenant")
        .prefetch_related(
            "sites",
            Prefetch(
                "screenings",
                queryset=ScreeningResult.objects.select_related(
                    "list_version", "policy_version"
                ).order_by("-id"),
            ),
        )
        .order_by("stage_entered_at", "id")
    )


@login_required
@require_GET
def holds(request: HttpRequest) -> HttpResponse:
    _require(request, Role.COMPLIANCE_OFFICER)
    rows = []
    for application in held_applications(request.user):
        screenings = list(application.screenings.all())
        latest = screenings[0] if screenings else None
        findings = latest.findings if latest else application.screening_summary
        allowed = {a.name for a in workflow.available_actions(application, request.user)}
        rows.append(
            {
                "application": application,
                "screening": latest,
                "concerns": [f for f in findings if f.get("outcome") != "clear"],
                "clear_findings": [f for f in findings if f.get("outcome") == "clear"],
                "allowed": allowed,
                "form": HoldDecisionForm(
                    initial={"version": application.version}, prefix=f"a{application.pk}"
                ),
            }
        )
    return render(request, "compliance/holds.html", {"rows": rows})


@login_required
@require_POST
def hold_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Clear the hold or reject, through the workflow; its errors are shown on the queue."""
    application = get_object_or_404(CountryApplication.objects.restrict(request.user), pk=pk)
    _require(request, Role.COMPLIANCE_OFFICER)
    form = HoldDecisionForm(request.POST, prefix=f"a{pk}")
    if not form.is_valid():
        messages.error(
            request, _("%(ref)s: choose a decision and try again.") % {"ref": application.reference}
        )
        return redirect("compliance-holds")
    with service_errors(
        request, to_messages=ALL, prefix=f"{application.reference}: ", catch_denied=True
    ) as outcome:
        workflow.application_transition(
            application=application,
            actor=request.user,
            action=form.cleaned_data["action"],
            version=form.cleaned_data["version"],
            rationale=form.cleaned_data["rationale"],
        )
    if outcome.ok:
        done = _("hold cleared") if form.cleaned_data["action"] == "clear_hold" else _("rejected")
        messages.success(request, f"{application.reference}: {done}.")
    return redirect("compliance-holds")


@login_required
@require_GET
def territories(request: HttpRequest) -> HttpResponse:
    _require(request, Role.COMPLIANCE_OFFICER, Role.AUDITOR)
    versions = list(TerritoryListVersion.objects.order_by("-number"))
    groups = sorted(
        {g for gs in Territory.objects.values_list("groups", flat=True).distinct() for g in gs}
    )
    form = TerritoryFilterForm(request.GET or None, groups=groups)
    chosen = versions[0] if versions else None
    rows = Territory.objects.none()
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if form.is_bound else {}
        if data.get("version"):
            chosen = next((v for v in versions if v.number == data["version"]), None)
        if chosen is not None:
            rows = filter_territories(Territory.objects.filter(version=chosen), **data)
    history = [
        {"version": v, "diff": format_diff(v.diff) if v.number > 1 else None} for v in versions
    ]
    cited = [
        {
            "territory": territory,
            "cites": {
                fact: citation(chosen, source_id) for fact, source_id in territory.sources.items()
            },
        }
        for territory in rows
        if chosen is not None
    ]
    return render(
        request,
        "compliance/territories.html",
        {
            "form": form,
            "territories": cited,
            "chosen": chosen,
            "records": sorted((chosen.sources if chosen else {}).items()),
            "history": history,
            "current": versions[0] if versions else None,
            "policy": current_policy_version(),
        },
    )


def filter_territories(
    queryset: QuerySet, *, q: str = "", group: str = "", flag: str = "", **_: Any
) -> QuerySet:
    if q:
        queryset = queryset.filter(code__icontains=q) | queryset.filter(name__icontains=q)
    if group:
        queryset = queryset.filter(groups__contains=[group])
    if flag == "supported":
        queryset = queryset.filter(supported=True)
    elif flag == "unsupported":
        queryset = queryset.filter(supported=False)
    elif flag == "sanctioned":
        queryset = queryset.filter(comprehensive_sanctions=True)
    return queryset.order_by("code")


@login_required
@require_GET
def rescreen_progress(request: HttpRequest) -> HttpResponse:
    """The progress fragment htmx polls while a re-screening runs."""
    _require(request, Role.COMPLIANCE_OFFICER, Role.AUDITOR)
    current = TerritoryListVersion.objects.order_by("-number").first()
    return render(request, "compliance/_progress.html", {"current": current})
