"""The step editor: one page per step of the application form, and the site rows' live
CO2 estimate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from partnerships import emissions, selectors, services, workflow
from partnerships.models import Attachment, CountryApplication, Sector
from partnerships.serializers import ApplicationSerializer
from partnerships.views.common import (
    STEP_NAMES,
    STEPS,
    changed_since_loaded,
    flatten,
    is_country_official,
    posted_version,
)
from partnerships.views.step_forms import form_data
from portal import parse
from portal.errors import ConflictError
from portal.tenancy.dates import tenant_today
from portal.ui import errors as ui_errors
from portal.ui import formats
from portal.ui.service_errors import service_errors

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
@require_http_methods(["GET", "HEAD", "POST"])
def application_edit(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    application = selectors.application_for(request.user, pk)
    if step not in STEP_NAMES:
        raise Http404
    if not is_country_official(request.user, application):
        raise PermissionDenied
    if application.state not in workflow.EDITABLE_STATES:
        messages.info(request, _("The application is under review and cannot be edited now."))
        return redirect("application-detail", pk=pk)
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        posted = form_data(step, request.POST, tenant_code=application.tenant.code)
        saved, errors = _save_step(request, application, step, posted)
        if saved is not None:
            return saved
    sites = posted["sites"] if posted and "sites" in posted else _saved_sites(application)
    if step == "sites":
        sites = _site_blocks(sites, errors, add_site="add_site" in request.POST)
    return _render_step(request, application, step, errors=errors, sites=sites)


def _save_step(
    request: HttpRequest, application: CountryApplication, step: str, posted: dict[str, Any]
) -> tuple[HttpResponseBase | None, dict[str, list[str]]]:
    """Validate and save one step's payload: (the redirect, {}) once saved or stale, else
    (None, the page's errors). "Add another site" saves nothing and has no errors."""
    body = ApplicationSerializer(
        data=posted, partial=True, context={"today": tenant_today(application.tenant)}
    )
    if "add_site" in request.POST:
        return None, {}  # show what was typed plus one blank block, save nothing
    if not body.is_valid():
        return None, _page_errors(flatten(body.errors))
    data = dict(body.validated_data)
    version = posted_version(request)
    with service_errors(request) as outcome:
        if version is None:
            raise ConflictError(changed_since_loaded())
        services.application_update(
            application=application, actor=request.user, version=version, data=data
        )
    if outcome.kind == "conflict":
        return redirect("application-edit", pk=application.pk, step=step), {}
    if outcome.ok:
        messages.success(request, _("Saved."))
        return _after_save(request, application.pk, step), {}
    return None, _page_errors(outcome.errors)


def _after_save(request: HttpRequest, pk: int, step: str) -> HttpResponseBase:
    """ "Save" stays on the step; "Next" goes to the next step, after the last to submit."""
    index = STEP_NAMES.index(step)
    if "next" in request.POST and index + 1 < len(STEP_NAMES):
        return redirect("application-edit", pk=pk, step=STEP_NAMES[index + 1])
    if "next" in request.POST:
        return redirect("application-submit", pk=pk)
    return redirect("application-edit", pk=pk, step=step)


def _site_blocks(
    sites: list[dict[str, Any]], errors: dict[str, list[str]], *, add_site: bool
) -> list[dict[str, Any]]:
    """The sites step's blocks, each with its prefix and its own errors; a blank block at the
    end when there is none or one was asked for."""
    for index, site in enumerate(sites):
        prefix = f"sites.{index}."
        site["prefix"] = prefix
        site["errors"] = {
            key.removeprefix(prefix): values
            for key, values in errors.items()
            if key.startswith(prefix)
        }
    if not sites or add_site:
        sites = [*sites, {**_blank_site(), "prefix": f"sites.{len(sites)}.", "errors": {}}]
    return sites


def _render_step(
    request: HttpRequest,
    application: CountryApplication,
    step: str,
    *,
    errors: dict[str, list[str]],
    sites: list[dict[str, Any]],
) -> HttpResponse:
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
