"""Field rules shared by the API serializers and the web forms (one place per rule)."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

import pycountry
from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerships.emissions import emission_factors

# The civil time zone that reaches a date last (UTC-12, no daylight saving).
EARLIEST_ZONE = zoneinfo.ZoneInfo("Etc/GMT+12")


def country_code(value: str) -> str:
    value = (value or "").strip().upper()
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-2 country code.") % {"value": value}
        )
    return value


def language_code(value: str) -> str:
    value = (value or "").strip().lower()
    if len(value) != 2 or pycountry.languages.get(alpha_2=value) is None:
        raise ValidationError(_("%(value)s is not an ISO 639-1 language code.") % {"value": value})
    return value


def currency_code(value: str) -> str:
    value = (value or "").strip().upper()
    if len(value) != 3 or pycountry.currencies.get(alpha_3=value) is None:
        raise ValidationError(_("%(value)s is not an ISO 4217 currency code.") % {"value": value})
    return value


def money_amount(amount: Decimal, currency: str) -> Decimal:
    """Positive, and no more decimals than the currency has (JPY 0, USD 2, BHD 3)."""
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(_("The amount must be greater than zero."))
    places = get_currency_precision(currency)
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise ValidationError(
            _("%(currency)s amounts have at most %(places)s decimal places.")
            % {"currency": currency, "places": places}
        )
    if amount >= Decimal(10) ** 16:
        raise ValidationError(_("The amount is too large."))
    return amount


def energy_mix(value: Any) -> dict[str, int]:
    """Whole percentages per known source, summing to exactly 100."""
    if not isinstance(value, dict) or not value:
        raise ValidationError(_("Give the energy mix as percentages per source."))
    known = emission_factors()
    mix: dict[str, int] = {}
    for source, share in value.items():
        if source not in known:
            raise ValidationError(
                _("Unknown energy source %(source)s; use one of: %(known)s.")
                % {"source": source, "known": ", ".join(known)}
            )
        if isinstance(share, bool) or not isinstance(share, int | str | Decimal | float):
            raise ValidationError(_("Percentages must be whole numbers."))
        try:
            number = Decimal(str(share))
        except ArithmeticError as exc:
            raise ValidationError(_("Percentages must be whole numbers.")) from exc
        if number != number.to_integral_value() or not 0 < number <= 100:
            raise ValidationError(_("Each percentage must be a whole number from 1 to 100."))
        mix[source] = int(number)
    total = sum(mix.values())
    if total != 100:
        raise ValidationError(
            _("The energy mix must sum to 100 %% (it sums to %(total)s).") % {"total": total}
        )
    return mix


def future_date(value: Any, *, today: Any = None) -> Any:
    """Not before ``today`` (the country's date, portal.tenancy.dates); without it, not before
    the earliest "today" on earth (UTC-12), so no country's today is refused."""
    if value < (today or timezone.now().astimezone(EARLIEST_ZONE).date()):
        raise ValidationError(_("The date cannot be in the past."))
    return value


def plain_decimal(value: Decimal) -> str:
    """``50000000000`` rather than ``5E+10``; trailing zeros dropped."""
    return format(value.normalize(), "f")
