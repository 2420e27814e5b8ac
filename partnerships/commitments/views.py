"""Commitments pages (issue 7). Thin: parse the form, call a service or selector, render.

Officials see and edit their country's commitments; programme staff get a dashboard with USD
totals by country, vehicle and status, a chart of committed vs paid, and the actions their
role allows (confirm, record a payment). Amounts are formatted for the active language.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import pycountry
from babel.numbers import format_compact_currency
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from partnerships import commitments
from partnerships.commitments import PAYMENT_ROLES, CommitmentData, TrancheInput, format_money
from partnerships.models import CoInvestmentCommitment, CountryApplication, FxRate, Partnership
from portal import parse
from portal.errors import ConflictError
from portal.tenancy.access import access_for
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role
from portal.ui import errors as ui_errors
from portal.ui import formats

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


def _month_series(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every month from the first to the last point, carrying the cumulative totals forward."""
    if not points:
        return []
    by_month = {p["month"]: p for p in points}
    month, last = points[0]["month"], points[-1]["month"]
    series, carry = [], {"committed": Decimal(0), "paid": Decimal(0)}
    while month <= last:
        carry = by_month.get(month, carry)
        series.append({"month": month, "committed": carry["committed"], "paid": carry["paid"]})
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return series


def chart(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Geometry of the committed-vs-paid line chart, for an inline SVG (no script, no CDN)."""
    series = _month_series(points)
    if not series:
        return None
    width, height, left, right, top, bottom = 640, 260, 96, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(max(p["committed"] for p in series), max(p["paid"] for p in series)) or Decimal(
        1
    )
    step = plot_w / max(len(series) - 1, 1)
    locale = translation.to_locale(translation.get_language() or "en")

    def y(value: Decimal) -> str:
        # Pixel positions only; the amounts themselves stay Decimal and are shown as text.
        return f"{top + plot_h - plot_h * (value / top_value):.1f}"

    def line(key: str) -> str:
        return " ".join(f"{left + i * step:.1f},{y(p[key])}" for i, p in enumerate(series))

    ticks = [
        {
            "y": y(top_value * Decimal(n) / 4),
            "label": format_compact_currency(
                top_value * Decimal(n) / 4, "USD", locale=locale, fraction_digits=1
            ),
        }
        for n in range(5)
    ]
    every = max(1, len(series) // 8)
    months = [
        {"x": f"{left + i * step:.1f}", "label": formats.month(p["month"])}
        for i, p in enumerate(series)
        if i % every == 0 or i == len(series) - 1
    ]
    rows = [
        {
            "month": formats.month(p["month"]),
            "committed": format_money(p["committed"], "USD"),
            "paid": format_money(p["paid"], "USD"),
        }
        for p in series
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": top + plot_h,
        "committed": line("committed"),
        "paid": line("paid"),
        # A dot per month, so a single month (or a flat line) is still visible.
        "markers": [
            {
                "x": f"{left + i * step:.1f}",
                "committed": y(p["committed"]),
                "paid_x": f"{left + i * step - 4:.1f}",
                "paid_y": f"{float(y(p['paid'])) - 4:.1f}",
            }
            for i, p in enumerate(series)
        ],
        "ticks": ticks,
        "months": months,
        "rows": rows,
        "last": rows[-1],
    }


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
    queryset = commitments.commitments_for(request.user, **filters)
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
        context["totals"] = _format_totals(commitments.commitment_totals(queryset))
        context["chart"] = chart(commitments.commitment_timeline(queryset))
        context["countries"] = (
            Tenant.objects.filter(commitments__isnull=False).distinct().order_by("code")
        )
    return render(request, "commitments/list.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "id",
    "country",
    "vehicle",
    "status",
    "currency",
    "amount",
    "commitment_date",
    "fx_rate",
    "fx_rate_date",
    "usd_amount",
    "tranches",
    "paid_amount",
    "application",
    "partnership",
    "version",
]


@login_required
@require_POST
def commitment_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed row by row (constant memory however long).

    A POST with the CSRF token (an export is recorded: a write), the filter in the body.
    """
    roles = _roles(request.user)
    if not (roles["official"] or roles["programme"]):
        raise PermissionDenied
    queryset = commitments.commitments_export(actor=request.user, **_filters(request, request.POST))
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for c in queryset.prefetch_related("tranches").iterator(chunk_size=500):
            tranches = list(c.tranches.all())
            paid = sum((t.amount for t in tranches if t.status == "paid"), Decimal(0))
            yield writer.writerow(
                [
                    c.pk,
                    c.tenant.code,
                    c.vehicle,
                    c.status,
                    c.currency,
                    commitments.money_text(c.amount, c.currency),
                    c.commitment_date.isoformat(),
                    format(c.fx_rate.normalize(), "f"),
                    c.fx_rate_date.isoformat(),
                    str(c.usd_amount),
                    len(tranches),
                    commitments.money_text(paid, c.currency),
                    c.application_id or "",
                    c.partnership_id or "",
                    c.version,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="commitments.csv"'
    return response


# --- Create and edit ---------------------------------------------------------------------------


def _parse(
    post: Any, *, need_tenant: bool
) -> tuple[CommitmentData, dict[str, list[str]], dict[str, Any]]:
    """Form fields → service data, field errors, and what was typed (to show it again)."""
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {
        k: parse.lenient_text(post.get(k))
        for k in (
            "tenant",
            "vehicle",
            "amount",
            "currency",
            "commitment_date",
            "application",
            "version",
        )
    }
    data: dict[str, Any] = {"vehicle": posted["vehicle"], "currency": posted["currency"].upper()}
    try:
        # As the reader's language writes it ("1,000,000"; "1 000 000" in French), then
        # the strict parser's bounds.
        data["amount"] = parse.decimal(
            formats.canonical_decimal(posted["amount"]), max_digits=20, decimal_places=3
        )
    except parse.ParseError:
        errors["amount"] = [
            _("Give the amount in digits with a point for decimals, e.g. 1000000.50.")
        ]
    try:
        data["commitment_date"] = parse.iso_date(posted["commitment_date"])
    except parse.ParseError:
        errors["commitment_date"] = [_("Give the date as YYYY-MM-DD.")]
    data["application"] = parse.lenient_integer(posted["application"], minimum=1)
    tranches, rows = [], []
    for number, (due, amount) in enumerate(
        zip(post.getlist("tranche_due_date"), post.getlist("tranche_amount"), strict=False), start=1
    ):
        due, amount = parse.lenient_text(due), parse.lenient_text(amount)
        rows.append({"due_date": due, "amount": amount})
        if not due and not amount:
            continue  # an empty row of the editor
        try:
            tranches.append(
                TrancheInput(
                    parse.iso_date(due),
                    # As the reader's language writes it, like the commitment's amount.
                    parse.decimal(
                        formats.canonical_decimal(amount), max_digits=20, decimal_places=3
                    ),
                )
            )
        except parse.ParseError:
            errors.setdefault("tranches", []).append(
                _("Tranche %(n)s: give a date (YYYY-MM-DD) and an amount in digits.")
                % {"n": number}
            )
    data["tranches"] = tranches
    posted["tranches"] = rows
    if need_tenant and not posted["tenant"]:
        errors["tenant"] = [_("Choose the country.")]
    return cast(CommitmentData, data), errors, posted


def _form_context(request: HttpRequest, tenant_ids: list[int], **extra: Any) -> dict[str, Any]:
    tenants = Tenant.objects.filter(id__in=tenant_ids).order_by("code")
    applications = (
        CountryApplication.objects.restrict(request.user, "change")
        .filter(tenant_id__in=tenant_ids)
        .select_related("tenant")
        .order_by("-id")[:200]
    )
    table = sorted(set(FxRate.objects.values_list("currency", flat=True)) | {"USD"})
    precision = {c.alpha_3: commitments.minor_unit(c.alpha_3) for c in pycountry.currencies}
    errors = extra.get("errors") or {}
    labels = {
        "tenant": _("Country"),
        "vehicle": _("Vehicle"),
        "amount": _("Amount"),
        "currency": _("Currency"),
        "commitment_date": _("Commitment date"),
        "application": _("Application (optional)"),
        "tranches": _("Tranches"),
        "general": "",
    }
    summary = ui_errors.summary(
        errors,
        lambda key: (
            "tranche-editor"
            if key == "tranches"
            else ("commitment-form" if key == "general" else f"id_{key}"),
            str(labels.get(key, key)),
        ),
    )
    return {
        "error_summary": summary,
        "tenants": tenants,
        "applications": applications,
        "vehicles": Vehicle.choices,
        "table_currencies": table,
        "precision_json": json.dumps(precision),
        # The editor's running total reads amounts as the reader's language writes them.
        "decimal_symbol": formats.decimal_symbol(),
        "group_symbol": formats.group_symbol(),
        "amount_example": formats.number(1000000),
        **extra,
    }


FORM_FIELDS = (
    "tenant",
    "vehicle",
    "amount",
    "currency",
    "commitment_date",
    "application",
    "tranches",
)


def _service_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Field errors keyed as the form's fields; anything else goes to ``general``."""
    errors: dict[str, list[str]] = {}
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("general", exc.messages)]
    for key, messages_ in items:
        errors.setdefault(key if key in FORM_FIELDS else "general", []).extend(messages_)
    return errors


@login_required
def commitment_new(request: HttpRequest) -> HttpResponse:
    editable = sorted(access_for(request.user).editable_tenant_ids())
    if not editable:
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {"tranches": [{"due_date": "", "amount": ""}] * 3}
    if request.method == "POST":
        data, errors, posted = _parse(request.POST, need_tenant=len(editable) > 1)
        if not errors:
            try:
                tenant = commitments.resolve_tenant(
                    actor=request.user, tenant_code=posted["tenant"] or None
                )
                commitment = commitments.commitment_create(
                    actor=request.user, tenant=tenant, data=data
                )
            except ValidationError as exc:
                errors = _service_errors(exc)
            else:
                messages.success(request, _("Commitment recorded."))
                return redirect("commitment-detail", pk=commitment.pk)
    context = _form_context(request, editable, errors=errors, posted=posted, commitment=None)
    return render(request, "commitments/form.html", context, status=400 if errors else 200)


@login_required
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
        "amount": commitments.money_text(commitment.amount, commitment.currency),
        "currency": commitment.currency,
        "commitment_date": commitment.commitment_date.isoformat(),
        "application": str(commitment.application_id or ""),
        "version": commitment.version,
        "tranches": [
            {
                "due_date": t.due_date.isoformat(),
                "amount": commitments.money_text(t.amount, commitment.currency),
            }
            for t in commitment.tranches.all()
        ]
        + [{"due_date": "", "amount": ""}],
    }
    if request.method == "POST":
        data, errors, posted = _parse(request.POST, need_tenant=False)
        version = parse.lenient_integer(posted["version"], minimum=1)
        if not errors:
            try:
                commitments.commitment_update(
                    commitment=commitment, actor=request.user, version=version, data=data
                )
            except ValidationError as exc:
                errors = _service_errors(exc)
            except ConflictError as exc:
                messages.error(request, str(exc))
                return redirect("commitment-detail", pk=pk)
            else:
                messages.success(request, _("Commitment updated."))
                return redirect("commitment-detail", pk=pk)
    context = _form_context(
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
        "confirm": commitments.commitment_confirm,
        "withdraw": commitments.commitment_withdraw,
    }.get(action)
    if service is None:
        raise Http404
    try:
        service(
            commitment=commitment,
            actor=request.user,
            version=parse.lenient_integer(request.POST.get("version"), minimum=1),
        )
    except (ConflictError, ValidationError) as exc:
        messages.error(
            request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        )
    else:
        messages.success(
            request,
            _("Commitment confirmed.") if action == "confirm" else _("Commitment withdrawn."),
        )
    return redirect("commitment-detail", pk=pk)


@login_required
@require_POST
def tranche_pay(request: HttpRequest, pk: int, tranche_id: int) -> HttpResponse:
    commitment = _visible(request, pk)
    commitments.require_payer(request.user, commitment.tenant_id)
    tranche = get_object_or_404(commitment.tranches.all(), pk=tranche_id)
    try:
        commitments.tranche_mark_paid(
            commitment=commitment,
            tranche_id=tranche.pk,
            actor=request.user,
            payment_reference=parse.text(request.POST.get("payment_reference"), max_length=100),
        )
    except parse.ParseError as exc:
        messages.error(request, str(exc))
    except (ConflictError, ValidationError) as exc:
        messages.error(
            request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        )
    else:
        messages.success(request, _("Payment recorded."))
    return redirect(reverse("commitment-detail", kwargs={"pk": pk}) + f"#tranche-{tranche.pk}")
