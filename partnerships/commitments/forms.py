"""The commitment form of the pages: what was posted parsed into service data (every value
through ``portal.parse``, amounts as the reader's language writes them), the form's context,
and a service's errors keyed as the form's fields."""

from __future__ import annotations

import json
from typing import Any, cast

import pycountry
from django.http import HttpRequest
from django.utils.translation import gettext as _

from partnerships.commitments.money import minor_unit
from partnerships.commitments.validation import CommitmentData, TrancheInput
from partnerships.models import CoInvestmentCommitment, CountryApplication, FxRate
from portal import parse
from portal.tenancy.models import Tenant
from portal.ui import errors as ui_errors
from portal.ui import formats

Vehicle = CoInvestmentCommitment.Vehicle

POSTED_FIELDS = (
    "tenant",
    "vehicle",
    "amount",
    "currency",
    "commitment_date",
    "application",
    "version",
)


def parse_form(
    post: Any, *, need_tenant: bool
) -> tuple[CommitmentData, dict[str, list[str]], dict[str, Any]]:
    """Form fields → service data, field errors, and what was typed (to show it again)."""
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {k: parse.lenient_text(post.get(k)) for k in POSTED_FIELDS}
    data: dict[str, Any] = {"vehicle": posted["vehicle"], "currency": posted["currency"].upper()}
    try:
        # As the reader's language writes it ("1,000,000"; "1 000 000" in French), then
        # the strict parser's bounds.
        data["amount"] = _amount(posted["amount"])
    except parse.ParseError:
        errors["amount"] = [
            _("Give the amount in digits with a point for decimals, e.g. 1000000.50.")
        ]
    try:
        data["commitment_date"] = parse.iso_date(posted["commitment_date"])
    except parse.ParseError:
        errors["commitment_date"] = [_("Give the date as YYYY-MM-DD.")]
    data["application"] = parse.lenient_integer(posted["application"], minimum=1)
    data["tranches"], posted["tranches"] = _parse_tranches(post, errors)
    if need_tenant and not posted["tenant"]:
        errors["tenant"] = [_("Choose the country.")]
    return cast(CommitmentData, data), errors, posted


def _amount(text: str) -> Any:
    """An amount as the reader's language writes it, within the strict parser's bounds."""
    return parse.decimal(formats.canonical_decimal(text), max_digits=20, decimal_places=3)


def _parse_tranches(
    post: Any, errors: dict[str, list[str]]
) -> tuple[list[TrancheInput], list[dict[str, str]]]:
    """The tranche editor's rows: the parsed tranches and the rows as typed (empty rows skipped)."""
    tranches, rows = [], []
    for number, (due, amount) in enumerate(
        zip(post.getlist("tranche_due_date"), post.getlist("tranche_amount"), strict=False), start=1
    ):
        due, amount = parse.lenient_text(due), parse.lenient_text(amount)
        rows.append({"due_date": due, "amount": amount})
        if not due and not amount:
            continue  # an empty row of the editor
        try:
            # As the reader's language writes it, like the commitment's amount.
            tranches.append(TrancheInput(parse.iso_date(due), _amount(amount)))
        except parse.ParseError:
            errors.setdefault("tranches", []).append(
                _("Tranche %(n)s: give a date (YYYY-MM-DD) and an amount in digits.")
                % {"n": number}
            )
    return tranches, rows


def form_context(request: HttpRequest, tenant_ids: list[int], **extra: Any) -> dict[str, Any]:
    """The form page's context for ``tenant_ids`` (countries, applications, currencies, errors)."""
    tenants = Tenant.objects.filter(id__in=tenant_ids).order_by("code")
    applications = (
        CountryApplication.objects.restrict(request.user, "change")
        .filter(tenant_id__in=tenant_ids)
        .select_related("tenant")
        .order_by("-id")[:200]
    )
    table = sorted(set(FxRate.objects.values_list("currency", flat=True)) | {"USD"})
    precision = {c.alpha_3: minor_unit(c.alpha_3) for c in pycountry.currencies}
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


def form_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A service's errors (``ServiceOutcome.errors``) keyed as the form's fields; any other key
    (``"detail"``, ``"version"``, ``"partnership"`` …) goes to ``general``."""
    keyed: dict[str, list[str]] = {}
    for key, messages_ in errors.items():
        keyed.setdefault(key if key in FORM_FIELDS else "general", []).extend(messages_)
    return keyed
