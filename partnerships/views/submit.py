"""Submit and withdraw: the country's two moves of its application."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from partnerships import selectors, services, workflow
from partnerships.views.common import (
    STEPS,
    changed_since_loaded,
    is_country_official,
    posted_version,
)
from portal import parse
from portal.errors import ConflictError
from portal.ui.service_errors import ALL, service_errors


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def application_submit(request: HttpRequest, pk: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    if not is_country_official(request.user, application):
        raise PermissionDenied
    missing = workflow.missing_for_submit(application)
    if request.method == "POST":
        if not request.POST.get("confirm"):
            messages.error(
                request, _("Confirm that the information is accurate before submitting.")
            )
        elif (version := posted_version(request)) is None:
            messages.error(request, changed_since_loaded())
        else:
            with service_errors(request, to_messages=ALL) as outcome:
                workflow.application_transition(
                    application=application,
                    actor=request.user,
                    action="submit",
                    version=version,
                )
            if outcome.ok:
                messages.success(request, _("Submitted. Screening has started."))
                return redirect("application-detail", pk=pk)
        application.refresh_from_db()
    return render(
        request,
        "partnerships/submit.html",
        {
            "application": application,
            "missing": missing,
            "steps": STEPS,
            "step": "submit",
            "completeness": services.completeness(application),
        },
    )


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Withdraw, after a confirmation step (it cannot be undone)."""
    application = selectors.application_for(request.user, pk)
    workflow.require_may_act(application, request.user)
    rationale = request.POST.get("rationale", "")
    if request.POST.get("confirmed") != "1":
        return render(
            request,
            "partnerships/confirm_decision.html",
            {
                "application": application,
                "action": workflow.ACTIONS["withdraw"],
                "form": {"rationale": rationale, "conditions": []},
                "post_url": reverse("application-withdraw", args=[pk]),
                "back_url": reverse("application-detail", args=[pk]),
                "version": request.POST.get("version", ""),
            },
        )
    with service_errors(request, to_messages=ALL) as outcome:
        version = posted_version(request)
        if version is None:
            raise ConflictError(changed_since_loaded())
        workflow.application_transition(
            application=application,
            actor=request.user,
            action="withdraw",
            version=version,
            rationale=parse.text(rationale, max_length=20000),
        )
    if outcome.ok:
        messages.success(request, _("The application was withdrawn."))
    return redirect("application-detail", pk=pk)
