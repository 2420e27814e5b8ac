"""Commitments pages (issue 7). Thin: parse the form, call a service or selector, render.

Officials see and edit their country's commitments; programme staff get a dashboard with USD
totals by country, vehicle and status, a chart of committed vs paid, and the actions their
role allows (confirm, record a payment). Amounts are formatted for the active language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from partnerships.commitments.chart import chart
from partnerships.commitments.export import csv_rows
from partnerships.commitments.forms import form_context, form_errors, parse_form
from partnerships.commitments.money import format_money, money_text
from partnerships.commitments.payments import tranche_mark_paid
from partnerships.commitments.permissions import PAYMENT_ROLES, require_payer, resolve_tenant
from partnerships.commitments.selectors import commitments_for
from partnerships.commitments.services import (
    commitment_confirm,
    commitment_create,
    commitment_update,
    commitment_withdraw,
    commitments_export,
)
from partnerships.commitments.totals import commitment_timeline, commitment_totals
from partnerships.models import CoInvestmentCommitment, Partnership
from portal import parse
from portal.tenancy.access import access_for
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role
from portal.ui.service_errors import ALL, service_errors

PAGE_SIZE = 50
Status = CoInvestmentCommitment.Status
Vehicle = CoInvestmentCommitment.Vehicle


# --- Helpers -------------------------------------------------------------------------------------


def _filters(request: HttpRequest, data: Any = None) -> dict[str, str]:
    """The list filters from the query string (or ``data``); unknown values are ignored."""
    data = request.GET if data is None else data
    country = parse.lenient_text(data.get("country"), max_length=2).upper()
    return {
        "country": country if country.isascii() and country.isalpha() else "",
        "vehicle": parse.choice(data.get("vehicle"), Vehicle.values),
        "status": parse.choice(data.get("status"), Status.values),
    }


def _decorate(commitment: CoInvestmentCommitment) -> CoInvestmentCommitment:
    """Attach the locale-formatted amounts the templates show."""
    commitment.amount_display = format_money(commitment.amount, commitment.currency)  # type: ignore[attr-defined]
    commitment.usd_display = format_money(commitment.usd_amount, "USD")  # type: ignore[attr-defined]
    return commitment


def _roles(user: Any) -> dict[str, bool]:
    access = access_for(user)
    return {
        "official": bool(access.editable_tenant_ids()),
        "programme": access.reads_all_tenants(),
        "approver": access.has_programme_role(Role.APPROVER),
        "payer": access.has_programme_role(*PAYMENT_ROLES),
    }


def _visible(request: HttpRequest, pk: int) -> CoInvestmentCommitment:
    """The commitment if the user may see it; otherwise 404, as for a missing one."""
    return get_object_or_404(
        CoInvestmentCommitment.objects.restrict(request.user, "view")
        .select_related("tenant", "application", "partnership")
        .prefetch_related("tranches"),
        pk=pk,
    )


def _format_totals(totals: dict[str, Any]) -> dict[str, Any]:
    def fmt(row: dict[str, Any]) -> dict[str, Any]:
        return {
            **row,
            **{
                f"{k}_display": format_money(row[k], "USD")
                for k in ("usd_amount", "usd_confirmed", "usd_paid")
                if k in row
            },
        }

    return {
        "total": fmt(totals["total"]),
        "by_country": [fmt(r) for r in totals["by_country"]],
        "by_vehicle": [fmt(r) for r in totals["by_vehicle"]],
        "by_status": [fmt(r) for r in totals["by_status"]],
    }


# --- List, dashboard, export ---------------------------------------------------------------------


@login_required
@require_safe
def commitment_list(request: HttpRequest) -> HttpResponse:
    """Officials: their country's commitments. Programme staff: the dashboard and every country."""
    roles = _roles(request.user)
    if not (roles["official"] or roles["programme"]):
        raise PermissionDenied
    filters = _filters(request)
    queryset = commitments_for(request.user, **filters)
    before = parse.lenient_integer(request.GET.get("before"))
    page_qs = queryset.prefetch_related("tranches")
    if before is not None:
        page_qs = page_qs.filter(pk__lt=before)
    rows = [_decorate(c) for c in page_qs[: PAGE_SIZE + 1]]
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    context: dict[str, Any] = {
        "rows": rows,
        "filters": filters,
        "roles": roles,
        "next_before": rows[-1].pk if more and rows else None,
        "query": "&".join(f"{k}={v}" for k, v in filters.items() if v),
        "vehicles": Vehicle.choices,
        "statuses": Status.choices,
    }
    if roles["programme"]:
        context["totals"] = _format_totals(commitment_totals(queryset))
        context["chart"] = chart(commitment_timeline(queryset))
        context["countries"] = (
            Tenant.objects.filter(commitments__isnull=False).distinct().order_by("code")
        )
    return render(request, "commitments/list.html", context)


@login_required
@require_POST
def commitment_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed row by row (constant memory however long).

    A POST with the CSRF token (an export is recorded: a write), the filter in the body.
    """
    roles = _roles(request.user)
    if not (roles["official"] or roles["programme"]):
        raise PermissionDenied
    queryset = commitments_export(actor=request.user, **_filters(request, request.POST))
    response = StreamingHttpResponse(csv_rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="commitments.csv"'
    return response


# --- Create and edit ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def commitment_new(request: HttpRequest) -> HttpResponse:
    editable = sorted(access_for(request.user).editable_tenant_ids())
    if not editable:
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {"tranches": [{"due_date": "", "amount": ""}] * 3}
    if request.method == "POST":
        data, errors, posted = parse_form(request.POST, need_tenant=len(editable) > 1)
        if not errors:
            with service_errors(request) as outcome:
                tenant = resolve_tenant(actor=request.user, tenant_code=posted["tenant"] or None)
                commitment = commitment_create(actor=request.user, tenant=tenant, data=data)
            if outcome.ok:
                messages.success(request, _("Commitment recorded."))
                return redirect("commitment-detail", pk=commitment.pk)
            errors = form_errors(outcome.errors)
    context = form_context(request, editable, errors=errors, posted=posted, commitment=None)
    return render(request, "commitments/form.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def commitment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _visible(request, pk)
    if not access_for(request.user).is_official_of(commitment.tenant_id):
        raise PermissionDenied
    if commitment.status != Status.PROPOSED:
        messages.error(request, _("Only a proposed commitment can be edited."))
        return redirect("commitment-detail", pk=pk)
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {
        "vehicle": commitment.vehicle,
        "amount": money_text(commitment.amount, commitment.currency),
        "currency": commitment.currency,
        "commitment_date": commitment.commitment_date.isoformat(),
        "application": str(commitment.application_id or ""),
        "version": commitment.version,
        "tranches": [
            {
                "due_date": t.due_date.isoformat(),
                "amount": money_text(t.amount, commitment.currency),
            }
            for t in commitment.tranches.all()
        ]
        + [{"due_date": "", "amount": ""}],
    }
    if request.method == "POST":
        data, errors, posted = parse_form(request.POST, need_tenant=False)
        version = parse.lenient_integer(posted["version"], minimum=1)
        if not errors:
            with service_errors(request) as outcome:
                commitment_update(
                    commitment=commitment, actor=request.user, version=version, data=data
                )
            if outcome.ok:
                messages.success(request, _("Commitment updated."))
                return redirect("commitment-detail", pk=pk)
            if outcome.kind == "conflict":  # already a message: back to the commitment
                return redirect("commitment-detail", pk=pk)
            errors = form_errors(outcome.errors)
    context = form_context(
        request, [commitment.tenant_id], errors=errors, posted=posted, commitment=commitment
    )
    return render(request, "commitments/form.html", context, status=400 if errors else 200)


# --- Detail and actions --------------------------------------------------------------------------


@login_required
@require_safe
def commitment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    commitment = _decorate(_visible(request, pk))
    roles = _roles(request.user)
    access = access_for(request.user)
    mine = access.is_official_of(commitment.tenant_id)
    tranches = list(commitment.tranches.all())
    for tranche in tranches:
        tranche.amount_display = format_money(tranche.amount, commitment.currency)  # type: ignore[attr-defined]
    outsider = not access.conflicted(commitment.tenant_id)  # conflict of interest
    proposed, confirmed = (
        commitment.status == Status.PROPOSED,
        commitment.status == Status.CONFIRMED,
    )
    partnership: Partnership | None = commitment.partnership
    return render(
        request,
        "commitments/detail.html",
        {
            "commitment": commitment,
            "tranches": tranches,
            "paid_display": format_money(
                sum((t.amount for t in tranches if t.status == "paid"), Decimal(0)),
                commitment.currency,
            ),
            "can_edit": mine and proposed,
            "can_confirm": roles["approver"] and outsider and proposed,
            "can_pay": roles["payer"] and outsider and confirmed,
            "partnership": partnership,
        },
    )


@login_required
@require_POST
def commitment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm (approver) or withdraw (officials), at the version the page showed."""
    commitment = _visible(request, pk)
    service = {
        "confirm": commitment_confirm,
        "withdraw": commitment_withdraw,
    }.get(action)
    if service is None:
        raise Http404
    with service_errors(request, to_messages=ALL) as outcome:
        service(
            commitment=commitment,
            actor=request.user,
            version=parse.lenient_integer(request.POST.get("version"), minimum=1),
        )
    if outcome.ok:
        messages.success(
            request,
            _("Commitment confirmed.") if action == "confirm" else _("Commitment withdrawn."),
        )
    return redirect("commitment-detail", pk=pk)


@login_required
@require_POST
def tranche_pay(request: HttpRequest, pk: int, tranche_id: int) -> HttpResponse:
    commitment = _visible(request, pk)
    require_payer(request.user, commitment.tenant_id)
    tranche = get_object_or_404(commitment.tranches.all(), pk=tranche_id)
    with service_errors(request, to_messages=ALL) as outcome:
        tranche_mark_paid(
            commitment=commitment,
            tranche_id=tranche.pk,
            actor=request.user,
            payment_reference=parse.text(request.POST.get("payment_reference"), max_length=100),
        )
    if outcome.ok:
        messages.success(request, _("Payment recorded."))
    return redirect(reverse("commitment-detail", kwargs={"pk": pk}) + f"#tranche-{tranche.pk}")
