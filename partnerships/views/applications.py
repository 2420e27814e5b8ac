"""The officials' application pages: the list, a new draft and the detail page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from partnerships import selectors, services, workflow
from partnerships.models import CountryApplication, Obligation, State
from partnerships.views.common import is_country_official
from portal import parse
from portal.tenancy.access import access_for, acts_as_country
from portal.tenancy.roles import Role
from portal.ui import errors as ui_errors
from portal.ui.service_errors import service_errors


@login_required
@require_safe
def application_list(request: HttpRequest) -> HttpResponse:
    applications = list(
        CountryApplication.objects.restrict(request.user)
        .select_related("tenant")
        .annotate(
            open_obligations=Count(
                "obligations",
                filter=Q(
                    obligations__status__in=[Obligation.Status.OPEN, Obligation.Status.OVERDUE]
                ),
            )
        )
        .order_by("-updated_at")[:200]
    )
    for application in applications:  # per row: one person may be staff and an official
        application.internal_view = not acts_as_country(request.user, application.tenant_id)  # type: ignore[attr-defined]
    access = access_for(request.user)
    return render(
        request,
        "partnerships/application_list.html",
        {
            "applications": applications,
            "can_create": bool(access.editable_tenant_ids()),
            "internal": access.reads_all_tenants(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def application_new(request: HttpRequest) -> HttpResponseBase:
    access = access_for(request.user)
    tenants = sorted(access.tenant_codes[t] for t in access.editable_tenant_ids())
    if not tenants:
        raise PermissionDenied(_("Only country officials create applications."))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        title = parse.lenient_text(request.POST.get("title"), max_length=200)
        code = parse.lenient_text(request.POST.get("tenant"), max_length=2) or (
            tenants[0] if len(tenants) == 1 else ""
        )
        if not title:
            errors["title"] = [_("Give the application a title.")]
        else:
            with service_errors(request) as outcome:
                tenant = services.resolve_tenant_for_create(actor=request.user, tenant_code=code)
                application = services.application_create(
                    actor=request.user, tenant=tenant, data={"title": title}
                )
            errors = outcome.errors
            if outcome.ok:
                messages.success(
                    request,
                    _("Draft %(reference)s created.") % {"reference": application.reference},
                )
                return redirect("application-edit", pk=application.pk, step="sites")
    return render(
        request, "partnerships/application_new.html", {"tenants": tenants, "errors": errors}
    )


def render_detail(
    request: HttpRequest,
    application: CountryApplication,
    *,
    reply_text: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    access = access_for(request.user)
    internal = not acts_as_country(request.user, application.tenant_id)
    is_official = is_country_official(request.user, application)
    errors = errors or {}
    return render(
        request,
        "partnerships/application_detail.html",
        {
            "application": application,
            "public_state": workflow.public_state(application.state),
            "internal": internal,
            "is_official": is_official,
            "editable": application.state in workflow.EDITABLE_STATES,
            "can_withdraw": application.state not in workflow.FINAL_STATES,
            "decisions": workflow.decisions_for(
                request.user, application, application.decisions.select_related("actor")
            ),
            "replies": application.info_replies.prefetch_related("attachments"),
            "attachments": application.attachments.all(),
            "obligations": application.obligations.prefetch_related("evidence"),
            "sites": application.sites.all(),
            "completeness": services.completeness(application),
            "can_mark_met": access.has_programme_role(
                Role.COMPLIANCE_OFFICER, Role.US_COORDINATOR, Role.APPROVER
            ),
            "can_reply": is_official and application.state == State.INFO_REQUESTED,
            "reply_text": reply_text,
            "errors": errors,
            "error_summary": ui_errors.summary(
                errors,
                lambda key: (
                    ("reply-text", _("Your answer"))
                    if key == "text"
                    else ("reply-files", _("Files"))
                ),
            ),
        },
        status=status,
    )


@login_required
@require_safe
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_for(request.user, pk)
    return render_detail(request, application)
