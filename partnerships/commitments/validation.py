"""What a commitment is given (``CommitmentData``, ``TrancheInput``) and the check of the whole
commitment as it would be saved, every problem keyed by field (a ``ValidationError``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from partnerships import validators
from partnerships.commitments.money import exact_sum
from partnerships.commitments.rates import Rate, rate_on
from partnerships.models import CoInvestmentCommitment, CountryApplication, Partnership
from portal.tenancy.dates import tenant_today
from portal.tenancy.models import Tenant

Vehicle = CoInvestmentCommitment.Vehicle

#: A schedule longer than this is a data-entry mistake, not a payment plan.
MAX_TRANCHES = 240

#: The commitment's own fields a service reads from ``CommitmentData`` (tranches aside).
FIELDS = ("vehicle", "amount", "currency", "commitment_date", "application", "partnership")

Errors = defaultdict[str, list[str]]


@dataclass(frozen=True)
class TrancheInput:
    """One tranche as given: its due date and its amount in the commitment's currency."""

    due_date: dt.date
    amount: Decimal


class CommitmentData(TypedDict, total=False):
    """A commitment as given to the services (parsed by a serializer or a form)."""

    vehicle: str
    amount: Decimal
    currency: str
    commitment_date: dt.date
    tranches: Sequence[TrancheInput]
    application: int | None
    partnership: int | None


def validate(
    tenant: Tenant, values: dict[str, Any], tranches: Sequence[TrancheInput]
) -> tuple[Rate, CountryApplication | None, Partnership | None]:
    """Check the whole commitment as it would be saved; every problem, keyed by field.

    ``values`` holds the ``FIELDS`` (the currency already stripped and upper-cased). Returns
    the exchange rate and the linked application/partnership (resolved within the
    commitment's own country only, so another country's ids read as unknown). Raises
    ``ValidationError`` with a dict of field → messages.
    """
    errors: Errors = defaultdict(list)
    currency, amount, when = _own_fields(tenant, values, errors)
    _tranche_errors(tranches, currency, amount, when, errors)
    application, partnership = _links(tenant, values, errors)
    if errors:
        raise ValidationError(dict(errors))
    assert isinstance(when, dt.date)
    rate = rate_on(currency=currency, on=when)
    return rate, application, partnership


def _own_fields(tenant: Tenant, values: dict[str, Any], errors: Errors) -> tuple[str, Any, Any]:
    """Vehicle, currency, amount and date: the currency ("" if unknown), amount and date."""
    if values.get("vehicle") not in Vehicle.values:
        errors["vehicle"].append(_("Choose a vehicle."))
    currency = ""
    try:
        currency = validators.currency_code(values.get("currency") or "")
    except ValidationError as exc:
        errors["currency"] += list(exc.messages)
    amount = values.get("amount")
    if not isinstance(amount, Decimal):
        errors["amount"].append(_("Give the amount as a decimal number."))
    elif currency:
        try:
            validators.money_amount(amount, currency)
        except ValidationError as exc:
            errors["amount"] += list(exc.messages)
    when = values.get("commitment_date")
    if not isinstance(when, dt.date):
        errors["commitment_date"].append(_("Give the commitment date."))
    elif when > tenant_today(tenant):  # the country's date, not the server's
        errors["commitment_date"].append(_("The commitment date cannot be in the future."))
    return currency, amount, when


def _tranche_errors(
    tranches: Sequence[TrancheInput], currency: str, amount: Any, when: Any, errors: Errors
) -> None:
    """Each tranche's amount and due date, then (if those are fine) their exact sum."""
    if len(tranches) > MAX_TRANCHES:
        errors["tranches"].append(_("At most %(n)s tranches.") % {"n": MAX_TRANCHES})
    for number, tranche in enumerate(tranches, start=1):
        if currency:
            try:
                validators.money_amount(tranche.amount, currency)
            except ValidationError as exc:
                errors["tranches"] += [
                    _("Tranche %(n)s: %(error)s") % {"n": number, "error": m} for m in exc.messages
                ]
        if isinstance(when, dt.date) and tranche.due_date < when:
            errors["tranches"].append(
                _("Tranche %(n)s: the due date is before the commitment date.") % {"n": number}
            )
    if tranches and isinstance(amount, Decimal) and "tranches" not in errors:
        total = exact_sum(t.amount for t in tranches)
        if total != amount:
            errors["tranches"].append(
                _("The tranches sum to %(total)s but the amount is %(amount)s.")
                % {
                    "total": validators.plain_decimal(total),
                    "amount": validators.plain_decimal(amount),
                }
            )


def _links(
    tenant: Tenant, values: dict[str, Any], errors: Errors
) -> tuple[CountryApplication | None, Partnership | None]:
    """The linked application and partnership, looked up in ``tenant`` only."""
    application = partnership = None
    if values.get("application") is not None:
        application = CountryApplication.objects.filter(
            pk=values["application"], tenant=tenant
        ).first()
        if application is None:
            errors["application"].append(_("Unknown application."))
    if values.get("partnership") is not None:
        partnership = Partnership.objects.filter(pk=values["partnership"], tenant=tenant).first()
        if partnership is None:
            errors["partnership"].append(_("Unknown partnership."))
        elif application is not None and partnership.application_id != application.pk:
            errors["partnership"].append(_("The partnership is not the one of that application."))
    return application, partnership
