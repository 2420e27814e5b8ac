"""Web pages for applications (officials) and review (programme staff).

Thin: each view reads through a selector, validates with the API serializers (one set of
field rules for UI and API) and calls the same services as the API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework.exceptions import ErrorDetail

from partnerships import emissions, selectors, services, workflow
from partnerships.api import serve_attachment
from partnerships.models import Attachment, CountryApplication, Obligation, Sector, State
from partnerships.serializers import ApplicationSerializer
from portal import parse
from portal.errors import ConflictError
from portal.tenancy.access import access_for, acts_as_country, without_conflicted_users
from portal.tenancy.dates import tenant_today
from portal.tenancy.roles import Role
from portal.ui import errors as ui_errors
from portal.ui import formats
from portal.ui.service_errors import ALL, service_errors

# Lazy: the labels are read per request, in the reader's language.
STEPS = [
    ("general", gettext_lazy("General")),
    ("sites", gettext_lazy("Data-centre sites")),
    ("localization", gettext_lazy("Localization")),
    ("sovereignty", gettext_lazy("Data sovereignty")),
    ("security", gettext_lazy("Security commitments")),
    ("fund", gettext_lazy("Start-up fund")),
]
STEP_NAMES = [name for name, _label in STEPS]

#: The label of every field a step form can report an error on (errors name no raw keys).
FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "tenant": gettext_lazy("Country"),
    "sites": gettext_lazy("Data-centre sites"),
    "country": gettext_lazy("Country"),
    "region": gettext_lazy("Region"),
    "capacity_mw": gettext_lazy("Capacity (MW)"),
    "target_online_date": gettext_lazy("Target online date"),
    "energy_mix": gettext_lazy("Energy mix (%)"),
    "pue": gettext_lazy("Power usage effectiveness (PUE)"),
    "utilisation": gettext_lazy("Utilisation"),
    "languages": gettext_lazy("Languages"),
    "sectors": gettext_lazy("Sectors"),
    "other_sector": gettext_lazy("Other sector"),
    "customization_notes": gettext_lazy("Customization notes"),
    "data_residency_required": gettext_lazy("Data residency"),
    "data_categories": gettext_lazy("Data categories"),
    "security_commitments": gettext_lazy("Security commitments"),
    "startup_fund": gettext_lazy("Start-up fund"),
    "amount": gettext_lazy("Proposed fund size"),
    "currency": gettext_lazy("Currency"),
    **{name: label for name, label in Attachment.Evidence.choices[1:]},
}
#: Step field -> the id of its input (the error summary links there).
FIELD_IDS = {
    "data_residency_required": "res-yes",
    "sectors": "sector-healthcare",
    "sites": "site-0-region",
    **{name: f"{name}-yes" for name in CountryApplication.SECURITY_FIELDS},
}


def _step_field_ref(key: str) -> tuple[str, str]:
    """``sites.1.capacity_mw`` -> (``site-1-capacity_mw``, ``Site 2: Capacity (MW)``)."""
    parts = key.split(".")
    position = parse.lenient_integer(parts[1]) if len(parts) >= 3 else None
    if parts[0] == "sites" and position is not None:
        index, field = position, parts[2]
        suffix = (
            f"mix-{next(iter(emissions.emission_factors()))}" if field == "energy_mix" else field
        )
        label = _("Site %(n)s: %(field)s") % {
            "n": index + 1,
            "field": FIELD_LABELS.get(field, field),
        }
        return f"site-{index}-{suffix}", label
    field = parts[-1] if parts[0] in ("startup_fund", "security_commitments") else parts[0]
    return FIELD_IDS.get(field, f"id_{field}"), str(FIELD_LABELS.get(field, field))


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"sites.0.capacity_mw": [...]}`` for templates."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str | ErrorDetail):
        for index, value in enumerate(errors):
            flat.update(_flatten(value, f"{prefix}.{index}"))
    elif isinstance(errors, dict | list) and not errors:
        pass
    elif isinstance(errors, list):
        flat[prefix or "detail"] = [str(e) for e in errors]
    else:
        flat[prefix or "detail"] = [str(errors)]
    return flat


def _posted_version(request: HttpRequest) -> int | None:
    """The version the form was rendered at; None when missing or not a number."""
    return parse.lenient_integer(request.POST.get("version"), minimum=1)


def _changed_since_loaded() -> str:
    # An unreadable version is a page we cannot match to the application: say what a stale
    # one would, so the person reloads and tries again.
    return _("This application changed since you loaded it; reload it and try again.")


def _is_official(user: Any, application: CountryApplication) -> bool:
    return access_for(user).is_official_of(application.tenant_id)


# --- Officials -----------------------------------------------------------------------------


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


def _form_data(step: str, post: Any, *, tenant_code: str = "") -> dict[str, Any]:
    """The API-shaped payload of one form step."""
    if step == "general":
        return {"title": post.get("title", "")}
    if step == "sites":
        sites = []
        count = parse.lenient_integer(post.get("site_count"), maximum=100) or 0
        for i in range(count):
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
                continue  # an untouched blank block
            site: dict[str, Any] = {**fields, "energy_mix": mix}
            # An empty country means the applying country (the hint under the field says so).
            site["country"] = site["country"] or tenant_code
            for decimal_field in ("capacity_mw", "pue", "utilisation"):
                if site[decimal_field]:
                    site[decimal_field] = formats.canonical_decimal(site[decimal_field])
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
            "startup_fund": {
                "amount": formats.canonical_decimal(amount) if amount else amount,
                "currency": currency,
            }
            if amount or currency
            else None
        }
    raise Http404


def _page_errors(flat: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors of one list item (``languages.2``) belong to the list's single input."""
    merged: dict[str, list[str]] = {}
    for key, values in flat.items():
        head, _dot, rest = key.partition(".")
        if head in ("languages", "sectors", "data_categories") and rest.isdigit():
            key = head
        merged.setdefault(key, []).extend(values)
    return merged


def _saved_sites(application: CountryApplication) -> list[dict[str, Any]]:
    return [
        {
            "country": s.country,
            "region": s.region,
            "capacity_mw": s.capacity_mw.normalize(),
            "target_online_date": s.target_online_date.isoformat(),
            "energy_mix": s.energy_mix,
            "pue": s.pue,
            "utilisation": s.utilisation,
            "estimate": s.estimated_annual_co2_tonnes,
        }
        for s in application.sites.all()
    ]


def _blank_site() -> dict[str, Any]:
    return {"country": "", "energy_mix": {}, "blank": True}


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
        posted = _form_data(step, request.POST, tenant_code=application.tenant.code)
        body = ApplicationSerializer(
            data=posted, partial=True, context={"today": tenant_today(application.tenant)}
        )
        if "add_site" in request.POST:
            pass  # "Add another site": show what was typed plus one blank block, save nothing
        elif body.is_valid():
            data = dict(body.validated_data)
            version = _posted_version(request)
            with service_errors(request) as outcome:
                if version is None:
                    raise ConflictError(_changed_since_loaded())
                application = services.application_update(
                    application=application, actor=request.user, version=version, data=data
                )
            if outcome.kind == "conflict":
                return redirect("application-edit", pk=pk, step=step)
            if outcome.ok:
                messages.success(request, _("Saved."))
                index = STEP_NAMES.index(step)
                if "next" in request.POST and index + 1 < len(STEP_NAMES):
                    return redirect("application-edit", pk=pk, step=STEP_NAMES[index + 1])
                if "next" in request.POST:
                    return redirect("application-submit", pk=pk)
                return redirect("application-edit", pk=pk, step=step)
            errors = _page_errors(outcome.errors)
        else:
            errors = _page_errors(_flatten(body.errors))
    sites = posted["sites"] if posted and "sites" in posted else _saved_sites(application)
    if step == "sites":
        for index, site in enumerate(sites):
            prefix = f"sites.{index}."
            site["prefix"] = prefix
            site["errors"] = {
                key.removeprefix(prefix): values
                for key, values in errors.items()
                if key.startswith(prefix)
            }
        if not sites or "add_site" in request.POST:
            sites = [*sites, {**_blank_site(), "prefix": f"sites.{len(sites)}.", "errors": {}}]
    step_label = dict(STEPS)[step]
    return render(
        request,
        f"partnerships/steps/{step}.html",
        {
            "application": application,
            "step": step,
            "step_label": step_label,
            "steps": STEPS,
            "errors": errors,
            "error_summary": ui_errors.summary(errors, _step_field_ref),
            "sites": sites,
            "sources": [
                (source, emissions.source_label(source)) for source in emissions.emission_factors()
            ],
            "sectors": Sector.choices,
            "security": [
                (name, label, getattr(application, name))
                for name, label in Attachment.Evidence.choices[1:]
            ],
            "posted": request.POST if request.method == "POST" else None,
            "completeness": services.completeness(application),
            "amount_example": formats.number(1000000),
            "checked_sectors": request.POST.getlist("sectors")
            if request.method == "POST"
            else application.sectors,
        },
    )


@login_required
def application_submit(request: HttpRequest, pk: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    if not _is_official(request.user, application):
        raise PermissionDenied
    missing = workflow.missing_for_submit(application)
    if request.method == "POST":
        if not request.POST.get("confirm"):
            messages.error(
                request, _("Confirm that the information is accurate before submitting.")
            )
        elif (version := _posted_version(request)) is None:
            messages.error(request, _changed_since_loaded())
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
        version = _posted_version(request)
        if version is None:
            raise ConflictError(_changed_since_loaded())
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


def _render_detail(
    request: HttpRequest,
    application: CountryApplication,
    *,
    reply_text: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    access = access_for(request.user)
    internal = not acts_as_country(request.user, application.tenant_id)
    is_official = _is_official(request.user, application)
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
    return _render_detail(request, application)


@login_required
@require_POST
def application_reply(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The country's answer to an information request (text and files)."""
    application = selectors.application_for(request.user, pk)
    services.require_official(request.user, application.tenant_id)
    text = request.POST.get("text", "")
    with service_errors(request, parse_key="text") as outcome:
        answer = parse.text(text, max_length=20000)
        services.info_reply_add(
            application=application,
            actor=request.user,
            text=answer,
            uploads=request.FILES.getlist("files")[:10],
        )
    if outcome.kind == "invalid":
        errors = {("text" if k == "text" else "files"): v for k, v in outcome.errors.items()}
        return _render_detail(request, application, reply_text=text, errors=errors, status=400)
    if outcome.kind == "conflict":
        return redirect("application-detail", pk=pk)
    messages.success(
        request,
        _("Your answer was sent to the programme. Submit the application again when it is ready."),
    )
    return redirect("application-detail", pk=pk)


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
            with service_errors(to_messages=()) as outcome:
                services.attachment_add(
                    application=application,
                    actor=request.user,
                    upload=upload,
                    evidence_for=request.POST.get("evidence_for", ""),  # the service checks it
                )
            errors.extend(outcome.messages)
            if outcome.ok:
                messages.success(request, _("File added."))
                return redirect("application-attachments", pk=pk)
    return render(
        request,
        "partnerships/attachments.html",
        {
            "application": application,
            "attachments": application.attachments.all(),
            "errors": errors,
            "error_summary": ui_errors.summary(
                {"file": errors} if errors else {}, lambda key: ("id_file", _("File"))
            ),
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
    with service_errors(request, to_messages=ALL) as outcome:
        if upload is None:
            raise ValidationError(_("Choose a file."))
        services.attachment_add(
            application=application, actor=request.user, upload=upload, obligation=obligation
        )
    if outcome.ok:
        messages.success(request, _("Evidence added."))
    return redirect("application-detail", pk=pk)


@login_required
@require_POST
def obligation_met(request: HttpRequest, pk: int, obligation_id: int) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    obligation = get_object_or_404(application.obligations, pk=obligation_id)
    with service_errors(request, to_messages=ALL) as outcome:
        services.obligation_mark_met(
            obligation=obligation,
            actor=request.user,
            note=parse.text(request.POST.get("note"), max_length=2000),
        )
    if outcome.ok:
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
    prefix = parse.lenient_text(request.GET.get("prefix"), max_length=20)
    field = request.GET.get
    try:
        capacity = parse.decimal(field(f"{prefix}-capacity_mw") or "0", max_digits=13)
        mix = {
            s: parse.integer(v, maximum=100)
            for s in emissions.emission_factors()
            if (v := (field(f"{prefix}-mix-{s}") or "").strip()) not in ("", "0")
        }
        pue_text, utilisation_text = field(f"{prefix}-pue"), field(f"{prefix}-utilisation")
        pue = parse.decimal(pue_text, max_digits=4, minimum=Decimal(1)) if pue_text else None
        utilisation = (
            parse.decimal(utilisation_text, max_digits=4, minimum=Decimal(0))
            if utilisation_text
            else None
        )
        if (pue is not None and pue > 3) or (utilisation is not None and utilisation > 1):
            raise parse.ParseError(_("Enter numbers to see the estimate."))
    except parse.ParseError:
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
    tenant = parse.lenient_text(request.GET.get("tenant"), max_length=2).upper()
    filters: dict[str, Any] = {
        "state": parse.choice(request.GET.get("state"), workflow.STATE_ROLE),
        "tenant": tenant if tenant.isascii() and tenant.isalpha() else "",
        "overdue": request.GET.get("overdue") == "1",
        "mine": request.GET.get("mine") == "1",
    }
    queue, next_cursor = selectors.queue_page(
        selectors.review_queue(request.user, **filters),
        selectors.QueueCursor.parse(request.GET.get("after")),
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
    """Final review as cards: due date, the security risk and the US concurrence of each."""
    _require_programme(request.user)
    items = list(
        selectors.review_queue(request.user, state=State.FINAL_REVIEW).prefetch_related(
            "obligations", "decisions"
        )[:200]
    )
    cards = []
    for item in items:
        decisions = list(item.decisions.all())
        security = next((d for d in reversed(decisions) if d.action == "approve_security"), None)
        concurrence = next((d for d in reversed(decisions) if d.action == "concur"), None)
        cards.append({"application": item, "security": security, "concurrence": concurrence})
    return render(request, "partnerships/approver_board.html", {"cards": cards})


#: Decision-form field -> (id of its input, label); for the error summary's links.
DECISION_FIELDS = {
    "action": ("decide-h", gettext_lazy("Action")),
    "rationale": ("rationale", gettext_lazy("Rationale")),
    "message_to_country": ("message", gettext_lazy("Message to the country")),
    "risk_level": ("risk", gettext_lazy("Risk level")),
    "conditions": ("cond-1", gettext_lazy("Conditions of concurrence")),
}


def _decision_field_ref(key: str) -> tuple[str, str]:
    field_id, label = DECISION_FIELDS.get(key, ("decide-h", ""))
    return field_id, str(label)


def _decision_form(post: Any) -> dict[str, Any]:
    """What the reviewer typed, as the form shows it again (nothing is dropped on error)."""
    texts = post.getlist("condition_text")
    dues = post.getlist("condition_due")
    rows = [(t, d) for t, d in zip(texts, dues, strict=False)]
    rows += [("", "")] * max(0, 2 - len(rows))
    return {
        "action": post.get("action", ""),
        "rationale": post.get("rationale", ""),
        "message_to_country": post.get("message_to_country", ""),
        "risk_level": post.get("risk_level", ""),
        "conditions": [{"n": i + 1, "text": t, "due": d} for i, (t, d) in enumerate(rows)],
    }


# The decision form's text fields and their limits (as the API's TransitionSerializer).
DECISION_TEXTS = {"action": 30, "rationale": 20000, "message_to_country": 20000, "risk_level": 10}


def _decision_texts(form: dict[str, Any]) -> dict[str, str]:
    """The typed texts through the strict parser; ValidationError keyed by field (NUL …)."""
    cleaned, errors = {}, {}
    for name, limit in DECISION_TEXTS.items():
        try:
            cleaned[name] = parse.text(form[name], max_length=limit)
        except parse.ParseError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _conditions(form: dict[str, Any]) -> list[workflow.ConditionInput]:
    """Raises ValidationError (``conditions``) when a filled row has no valid due date."""
    conditions = []
    for row in form["conditions"]:
        if parse.is_blank(row["text"]) and parse.is_blank(row["due"]):
            continue
        try:
            conditions.append(
                workflow.ConditionInput(
                    parse.text(row["text"], max_length=2000), parse.iso_date(row["due"])
                )
            )
        except parse.ParseError:
            raise ValidationError(
                {"conditions": [_("Give each condition a text and a due date (YYYY-MM-DD).")]}
            ) from None
    return conditions


def _render_review(
    request: HttpRequest,
    application: CountryApplication,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    access = access_for(request.user)
    role = workflow.STATE_ROLE.get(State(application.state))
    User = get_user_model()
    colleagues = (
        without_conflicted_users(
            User.objects.filter(
                is_active=True, programme_roles__role=role, programme_roles__ended_at__isnull=True
            ),
            application.tenant_id,
        )
        .order_by("username")
        .distinct()
        if role
        else User.objects.none()
    )
    errors = errors or {}
    actions = workflow.available_actions(application, request.user)

    def field_ref(key: str) -> tuple[str, str]:
        if key == "action" and actions:
            return f"action-{actions[0].name}", str(DECISION_FIELDS["action"][1])
        return _decision_field_ref(key)

    return render(
        request,
        "partnerships/review_detail.html",
        {
            "application": application,
            "actions": actions,
            "risk_levels": [(r, workflow.RISK_LABELS[r]) for r in workflow.RISK_LEVELS],
            "decisions": application.decisions.select_related("actor"),
            "replies": application.info_replies.prefetch_related("attachments"),
            "attachments": application.attachments.all(),
            "obligations": application.obligations.prefetch_related("evidence"),
            "sites": application.sites.all(),
            "findings": application.screening_summary or [],
            "can_assign": bool(role and access.has_programme_role(role)),
            "colleagues": colleagues,
            "form": form or _decision_form(request.POST if request.method == "POST" else {}),
            "errors": errors,
            "error_summary": ui_errors.summary(errors, field_ref),
        },
        status=status,
    )


@login_required
@require_safe
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    if acts_as_country(request.user, application.tenant_id):
        # A person of the country reads its applications as the country does.
        return redirect("application-detail", pk=pk)
    return _render_review(request, application, form=_decision_form(QueryDict()))


@login_required
@require_POST
def review_act(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Record a decision. Errors re-render the form with everything typed; an action that
    cannot be undone (approve, reject, non-concur) first shows a confirmation step."""
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    workflow.require_may_act(application, request.user)
    form = _decision_form(request.POST)
    with service_errors(to_messages=()) as outcome:
        conditions = _conditions(form)
        texts = _decision_texts(form)
        spec = workflow.validate_transition_input(
            action=texts["action"],
            rationale=texts["rationale"],
            risk_level=texts["risk_level"],
            conditions=conditions,
            tenant=application.tenant,
        )
    if not outcome.ok:
        return _render_review(
            request, application, form=form, errors=outcome.errors, status=outcome.status
        )
    if "edit" in request.POST:
        return _render_review(request, application, form=form)
    if spec.name in workflow.IRREVERSIBLE_ACTIONS and request.POST.get("confirmed") != "1":
        return render(
            request,
            "partnerships/confirm_decision.html",
            {
                "application": application,
                "action": spec,
                "form": form,
                "conditions": conditions,
                "risk_label": workflow.RISK_LABELS.get(form["risk_level"], ""),
                "post_url": reverse("review-act", args=[pk]),
                "version": request.POST.get("version", ""),
            },
        )
    version = _posted_version(request)
    with service_errors(to_messages=()) as outcome:
        if version is None:
            raise ConflictError(_changed_since_loaded())
        workflow.application_transition(
            application=application,
            actor=request.user,
            action=spec.name,
            version=version,
            rationale=texts["rationale"],
            risk_level=texts["risk_level"],
            message_to_country=texts["message_to_country"],
            conditions=conditions,
        )
    if not outcome.ok:
        if outcome.kind == "conflict":
            application.refresh_from_db()
        return _render_review(
            request, application, form=form, errors=outcome.errors, status=outcome.status
        )
    messages.success(request, _("Decision recorded."))
    return redirect("review")


@login_required
@require_POST
def review_assign(request: HttpRequest, pk: int) -> HttpResponseBase:
    _require_programme(request.user)
    application = selectors.application_for(request.user, pk)
    User = get_user_model()
    chosen = parse.lenient_integer(request.POST.get("assignee"), minimum=1)
    if request.POST.get("assignee") and chosen is None:
        raise Http404
    assignee_id = chosen if chosen is not None else request.user.pk
    if assignee_id is None:
        raise Http404
    assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None:
        raise Http404
    with service_errors(request) as outcome:
        services.application_assign(application=application, actor=request.user, assignee=assignee)
    if outcome.ok:
        messages.success(request, _("Assigned to %(user)s.") % {"user": assignee.get_username()})
    return redirect("review-detail", pk=pk)
