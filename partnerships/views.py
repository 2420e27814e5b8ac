"""Web pages for applications (officials) and review (programme staff).

Thin: each view reads through a selector, validates with the API serializers (one set of
field rules for UI and API) and calls the same services as the API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework.exceptions import ErrorDetail

from partnerships import emissions, selectors, services, workflow
from partnerships.api import serve_attachment
from partnerships.models import Attachment, CountryApplication, Sector, State
from partnerships.serializers import ApplicationSerializer
from portal.errors import ConflictError
from portal.tenancy.access import access_for
from portal.tenancy.roles import Role

STEPS = [
    ("general", _("General")),
    ("sites", _("Data-centre sites")),
    ("localization", _("Localization")),
    ("sovereignty", _("Data sovereignty")),
    ("security", _("Security commitments")),
    ("fund", _("Start-up fund")),
]
STEP_NAMES = [name for name, _label in STEPS]


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"sites.0.capacity_mw": [...]}`` for templates."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str | ErrorDetail):
        for index, value in enumerate(errors):
            flat.update(_flatten(value, f"{prefix}.{index}"))
    elif isinstance(errors, list):
        flat[prefix or "detail"] = [str(e) for e in errors]
    else:
        flat[prefix or "detail"] = [str(errors)]
    return flat


def _is_official(user: Any, application: CountryApplication) -> bool:
    return access_for(user).has_tenant_role(
        application.tenant_id, Role.OFFICIAL, Role.COUNTRY_ADMIN
    )


# --- Officials -----------------------------------------------------------------------------


@login_required
@require_safe
def application_list(request: HttpRequest) -> HttpResponse:
    applications = (
        CountryApplication.objects.restrict(request.user)
        .select_related("tenant")
        .order_by("-updated_at")[:200]
    )
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
def application_new(request: HttpRequest) -> HttpResponseBase:
    access = access_for(request.user)
    tenants = sorted(access.tenant_codes[t] for t in access.editable_tenant_ids())
    if not tenants:
        raise PermissionDenied(_("Only country officials create applications."))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        title = request.POST.get("title", "").strip()
        code = request.POST.get("tenant") or (tenants[0] if len(tenants) == 1 else "")
        if not title:
            errors["title"] = [_("Give the application a title.")]
        else:
            try:
                tenant = services.resolve_tenant_for_create(actor=request.user, tenant_code=code)
                application = services.application_create(
                    actor=request.user, tenant=tenant, data={"title": title}
                )
            except ValidationError as exc:
                errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            else:
                messages.success(
                    request,
                    _("Draft %(reference)s created.") % {"reference": application.reference},
                )
                return redirect("application-edit", pk=application.pk, step="sites")
    return render(
        request, "partnerships/application_new.html", {"tenants": tenants, "errors": errors}
    )


def _form_data(step: str, post: Any) -> dict[str, Any]:
    """The API-shaped payload of one form step."""
    if step == "general":
        return {"title": post.get("title", "")}
    if step == "sites":
        sites = []
        count = int(post.get("site_count", "0") or 0)
        for i in range(min(count, 100)):
            if post.get(f"site-{i}-delete"):
                continue
            fields = {
                k: post.get(f"site-{i}-{k}", "").strip()
                for k in (
                    "country",
                    "region",
                    "capacity_mw",
                    "target_online_date",
                    "pue",
                    "utilisation",
                )
            }
            mix = {
                source: post.get(f"site-{i}-mix-{source}", "").strip()
                for source in emissions.emission_factors()
            }
            mix = {source: value for source, value in mix.items() if value not in ("", "0")}
            if not any(fields.values()) and not mix:
                continue  # an untouched blank row
            site: dict[str, Any] = {**fields, "energy_mix": mix}
            for optional in ("pue", "utilisation"):
                if not site[optional]:
                    site[optional] = None
            sites.append(site)
        return {"sites": sites}
    if step == "localization":
        return {
            "languages": [
                code.strip()
                for code in post.get("languages", "").replace(",", " ").split()
                if code.strip()
            ],
            "sectors": post.getlist("sectors"),
            "other_sector": post.get("other_sector", ""),
            "customization_notes": post.get("customization_notes", ""),
        }
    if step == "sovereignty":
        answer = post.get("data_residency_required", "")
        return {
            "data_residency_required": {"yes": True, "no": False}.get(answer),
            "data_categories": [
                c.strip() for c in post.get("data_categories", "").split(",") if c.strip()
            ],
        }
    if step == "security":
        return {
            "security_commitments": {
                name: {"yes": True, "no": False}.get(post.get(name, ""))
                for name in CountryApplication.SECURITY_FIELDS
            }
        }
    if step == "fund":
        amount, currency = post.get("amount", "").strip(), post.get("currency", "").strip()
        return {
            "startup_fund": {"amount": amount, "currency": currency} if amount or currency else None
        }
    raise Http404


@login_required
def application_edit(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    if step not in STEP_NAMES:
        raise Http404
    if not _is_official(request.user, application):
        raise PermissionDenied
    if application.state not in workflow.EDITABLE_STATES:
        messages.info(request, _("The application is under review and cannot be edited now."))
        return redirect("application-detail", pk=pk)
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        posted = _form_data(step, request.POST)
        body = ApplicationSerializer(data=posted, partial=True)
        if body.is_valid():
            data = dict(body.validated_data)
            try:
                application = services.application_update(
                    application=application,
                    actor=request.user,
                    version=int(request.POST.get("version", "0")),
                    data=data,
                )
            except ConflictError as exc:
                messages.error(request, str(exc))
                return redirect("application-edit", pk=pk, step=step)
            messages.success(request, _("Saved."))
            index = STEP_NAMES.index(step)
            if "next" in request.POST and index + 1 < len(STEP_NAMES):
                return redirect("application-edit", pk=pk, step=STEP_NAMES[index + 1])
            if "next" in request.POST:
                return redirect("application-submit", pk=pk)
            return redirect("application-edit", pk=pk, step=step)
        errors = _flatten(body.errors)
    sites = (
        posted["sites"]
        if posted and "sites" in posted
        else [
            {
                "country": s.country,
                "region": s.region,
                "capacity_mw": s.capacity_mw,
                "target_online_date": s.target_online_date.isoformat(),
                "energy_mix": s.energy_mix,
                "pue": s.pue,
                "utilisation": s.utilisation,
                "estimate": s.estimated_annual_co2_tonnes,
            }
            for s in application.sites.all()
        ]
    )
    if step == "sites":
        for index, site in enumerate(sites):
            site["errors"] = [
                (key.split(".", 2)[-1], message)
                for key, values in errors.items()
                if key.startswith(f"sites.{index}.")
                for message in values
            ]
        sites = [*sites, {"country": application.tenant.code, "energy_mix": {}}]
    return render(
        request,
        f"partnerships/steps/{step}.html",
        {
            "application": application,
            "step": step,
            "steps": STEPS,
            "errors": errors,
            "sites": sites,
            "sources": list(emissions.emission_factors()),
            "sectors": Sector.choices,
            "security": [
                (name, label, getattr(application, name))
                for name, label in Attachment.Evidence.choices[1:]
            ],
            "posted": request.POST if request.method == "POST" else None,
            "completeness": services.completeness(application),
        },
    )


@login_required
def application_submit(request: HttpRequest, pk: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    if not _is_official(request.user, application):
        raise PermissionDenied
    missing = services.missing_for_submit(application)
    if request.method == "POST":
        if not request.POST.get("confirm"):
            messages.error(
                request, _("Confirm that the information is accurate before submitting.")
            )
        else:
            try:
                workflow.application_transition(
                    application=application,
                    actor=request.user,
                    action="submit",
                    version=int(request.POST.get("version", "0")),
                    completeness_check=services.missing_for_submit,
                )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            except ConflictError as exc:
                messages.error(request, str(exc))
            else:
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
    application = selectors.application_for(request.user, pk)
    workflow.require_may_act(application, request.user)
    try:
        workflow.application_transition(
            application=application,
            actor=request.user,
            action="withdraw",
            version=int(request.POST.get("version", "0")),
            rationale=request.POST.get("rationale", ""),
        )
    except (ConflictError, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("application-detail", pk=pk)


@login_required
@require_safe
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.application_for(request.user, pk)
    access = access_for(request.user)
    internal = access.reads_all_tenants()
    return render(
        request,
        "partnerships/application_detail.html",
        {
            "application": application,
            "public_state": workflow.public_state(application.state),
            "internal": internal,
            "is_official": _is_official(request.user, application),
            "editable": application.state in workflow.EDITABLE_STATES,
            "can_withdraw": application.state not in workflow.FINAL_STATES,
            "decisions": application.decisions.select_related("actor"),
            "attachments": application.attachments.all(),
            "obligations": application.obligations.prefetch_related("evidence"),
            "sites": application.sites.all(),
            "completeness": services.completeness(application),
            "can_mark_met": access.has_programme_role(
                Role.COMPLIANCE_OFFICER, Role.US_COORDINATOR, Role.APPROVER
            ),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def application_attachments(request: HttpRequest, pk: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    errors: list[str] = []
    if request.method == "POST":
        services.require_official(request.user, application.tenant_id)
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(_("Choose a file."))
        else:
            try:
                services.attachment_add(
                    application=application,
                    actor=request.user,
                    upload=upload,
                    evidence_for=request.POST.get("evidence_for", ""),
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
            except ConflictError as exc:
                errors.append(str(exc))
            else:
                messages.success(request, _("File added."))
                return redirect("application-attachments", pk=pk)
    return render(
        request,
        "partnerships/attachments.html",
        {
            "application": application,
            "attachments": application.attachments.all(),
            "errors": errors,
            "evidence": Attachment.Evidence.choices,
            "is_official": _is_official(request.user, application),
            "editable": application.state in workflow.EDITABLE_STATES,
            "steps": STEPS,
            "step": "attachments",
            "completeness": services.completeness(application),
        },
        status=400 if errors else 200,
    )


@login_required
@require_safe
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    attachment = get_object_or_404(application.attachments, pk=attachment_id)
    return serve_attachment(request.user, attachment)


@login_required
@require_POST
def obligation_evidence(request: HttpRequest, pk: int, obligation_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    obligation = get_object_or_404(application.obligations, pk=obligation_id)
    services.require_official(request.user, application.tenant_id)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationError(_("Choose a file."))
        services.attachment_add(
            application=application, actor=request.user, upload=upload, obligation=obligation
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Evidence added."))
    return redirect("application-detail", pk=pk)


@login_required
@require_POST
def obligation_met(request: HttpRequest, pk: int, obligation_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    obligation = get_object_or_404(application.obligations, pk=obligation_id)
    try:
        services.obligation_mark_met(
            obligation=obligation, actor=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Condition marked as met."))
    next_url = request.POST.get("next", "")
    return redirect(
        next_url
        if next_url.startswith("/") and not next_url.startswith("//")
        else reverse("application-detail", args=[pk])
    )


@login_required
@require_safe
def emission_estimate(request: HttpRequest) -> HttpResponse:
    """htmx: the live CO2 estimate of one site row of the form."""
    prefix = request.GET.get("prefix", "")
    try:
        capacity = Decimal(request.GET.get(f"{prefix}-capacity_mw", "") or "0")
        mix = {
            s: int(v)
            for s in emissions.emission_factors()
            if (v := request.GET.get(f"{prefix}-mix-{s}", "").strip()) not in ("", "0")
        }
        pue = Decimal(request.GET[f"{prefix}-pue"]) if request.GET.get(f"{prefix}-pue") else None
        utilisation = (
            Decimal(request.GET[f"{prefix}-utilisation"])
            if request.GET.get(f"{prefix}-utilisation")
            else None
        )
    except (InvalidOperation, ValueError):
        return render(
            request,
            "partnerships/_estimate.html",
            {"error": _("Enter numbers to see the estimate.")},
        )
    total = sum(mix.values())
    if capacity <= 0 or total != 100:
        return render(
            request,
            "partnerships/_estimate.html",
            {
                "error": _(
                    "The estimate appears when the capacity is positive and the mix sums to 100 %% (now %(total)s %%)."
                )
                % {"total": total}
            },
        )
    tonnes = emissions.annual_tonnes(
        capacity_mw=capacity, energy_mix=mix, pue=pue, utilisation=utilisation
    )
    return render(request, "partnerships/_estimate.html", {"tonnes": tonnes})


# --- Review ----------------------------------------------------------------------------------


def _require_programme(user: Any) -> None:
    if not access_for(user).reads_all_tenants():
        raise PermissionDenied


@login_required
@require_safe
def review_queues(request: HttpRequest) -> HttpResponse:
    _require_programme(request.user)
    filters: dict[str, Any] = {
        "state": request.GET.get("state", ""),
        "tenant": request.GET.get("tenant", ""),
        "overdue": request.GET.get("overdue") == "1",
        "mine": request.GET.get("mine") == "1",
    }
    queue, next_cursor = selectors.queue_page(
        selectors.review_queue(request.user, **filters), request.GET.get("after", "")
    )
    access = access_for(request.user)
    stages = [
        (s, State(s).label)
        for s, role in workflow.STATE_ROLE.items()
        if access.has_programme_role(role) or access.has_programme_role(Role.AUDITOR)
    ]
    return render(
        request,
        "partnerships/review_queue.html",
        {
            "queue": queue,
            "next_cursor": next_cursor,
            "filters": filters,
            "stages": stages,
            "now": dt.datetime.now(dt.UTC),
        },
    )


@login_required
@require_safe
def approver_board(request: HttpRequest) -> HttpResponse:
    _require_programme(request.user)
    items = selectors.review_queue(request.user, state=State.FINAL_REVIEW).prefetch_related(
        "obligations"
    )
    return render(request, "partnerships/approver_board.html", {"items": items[:200]})


@login_required
@require_safe
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    access = access_for(request.user)
    role = workflow.STATE_ROLE.get(State(application.state))
    User = get_user_model()
    colleagues = (
        User.objects.filter(is_active=True, programme_roles__role=role)
        .exclude(memberships__tenant=application.tenant)
        .order_by("username")
        .distinct()
        if role
        else User.objects.none()
    )
    return render(
        request,
        "partnerships/review_detail.html",
        {
            "application": application,
            "actions": workflow.available_actions(application, request.user),
            "risk_levels": workflow.RISK_LEVELS,
            "decisions": application.decisions.select_related("actor"),
            "attachments": application.attachments.all(),
            "obligations": application.obligations.prefetch_related("evidence"),
            "sites": application.sites.all(),
            "findings": application.screening_summary or [],
            "can_assign": bool(role and access.has_programme_role(role)),
            "colleagues": colleagues,
            "errors": {},
        },
    )


@login_required
@require_POST
def review_act(request: HttpRequest, pk: int) -> HttpResponseBase:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    workflow.require_may_act(application, request.user)
    conditions = []
    for text, due in zip(
        request.POST.getlist("condition_text"), request.POST.getlist("condition_due"), strict=False
    ):
        if not text.strip() and not due.strip():
            continue
        try:
            conditions.append(workflow.ConditionInput(text, dt.date.fromisoformat(due)))
        except ValueError:
            messages.error(request, _("Give each condition a due date (YYYY-MM-DD)."))
            return redirect("review-detail", pk=pk)
    try:
        workflow.application_transition(
            application=application,
            actor=request.user,
            action=request.POST.get("action", ""),
            version=int(request.POST.get("version", "0") or 0),
            rationale=request.POST.get("rationale", ""),
            risk_level=request.POST.get("risk_level", ""),
            message_to_country=request.POST.get("message_to_country", ""),
            conditions=conditions,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Decision recorded."))
        return redirect("review")
    return redirect("review-detail", pk=pk)


@login_required
@require_POST
def review_assign(request: HttpRequest, pk: int) -> HttpResponseBase:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    User = get_user_model()
    assignee = User.objects.filter(
        pk=request.POST.get("assignee") or str(request.user.pk), is_active=True
    ).first()
    if assignee is None:
        raise Http404
    try:
        services.application_assign(application=application, actor=request.user, assignee=assignee)
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Assigned to %(user)s.") % {"user": assignee.get_username()})
    return redirect("review-detail", pk=pk)
