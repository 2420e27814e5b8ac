"""Money: exact decimals with the currency's ISO 4217 minor unit, USD conversion, display."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from babel.numbers import get_currency_precision
from django.utils import translation

from portal.ui import formats

CENT = Decimal("0.01")
#: Enough digits that amount (≤ 20 digits) × rate (≤ 24 digits) is exact before rounding.
EXACT_PRECISION = 80


def minor_unit(currency: str) -> int:
    """Decimals of the currency (ISO 4217 minor unit, from babel's CLDR data)."""
    return int(get_currency_precision(currency))


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` shown with exactly the currency's decimals (it already has no more)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)))


def money_text(amount: Decimal, currency: str) -> str:
    """Plain decimal string with the currency's decimals: ``"1000"`` JPY, ``"1.250"`` BHD."""
    return format(quantize_money(amount, currency), "f")


def to_usd(amount: Decimal, usd_per_unit: Decimal) -> Decimal:
    """Exact product, rounded once to cents, half to even (never a float)."""
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        return (amount * usd_per_unit).quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal | None, currency: str, language: str | None = None) -> str:
    """Amount formatted for the active (or given) language, e.g. ``￥1,000`` or ``1 000,00 €``:
    the portal's one formatter (portal.ui.formats), with an empty string for no amount."""
    if amount is None:
        return ""
    with translation.override(language or translation.get_language() or "en"):
        try:
            return formats.money(amount, currency)
        except (ValueError, LookupError):
            with translation.override("en"):
                return formats.money(amount, currency)


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """Sum of ``amounts`` with no rounding at all (80-digit context)."""
    with localcontext() as ctx:
        ctx.prec = EXACT_PRECISION
        return sum(amounts, Decimal(0))


def to_cents(amount: Decimal) -> Decimal:
    """``amount`` rounded once to cents, half to even (how every USD figure is shown)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
