"""The one formatter for numbers, money, dates and country names on every page (Babel/CLDR).

Django's own l10n and ``humanize`` disagree with each other per language (Arabic got
``1234567,5`` next to ``2,500,000.50``), so pages format through these functions only, in
the language of the request. Digits stay Latin (CLDR's ``latn`` numbering system) in every
language so amounts read the same on every page and in exports.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from django.utils import timezone, translation

Number = int | float | Decimal


def current_locale() -> Locale:
    """The Babel locale of the active Django language (``en`` when none or unknown)."""
    try:
        return Locale.parse((translation.get_language() or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def number(value: Number | None, *, places: int | None = None) -> str:
    """``1234567.5`` → ``1,234,567.5`` (en), ``1 234 567,5`` (fr); ``—`` for None.

    ``places`` fixes the number of decimals (rounded half-even, as Babel does).
    """
    if value is None or value == "":
        return "—"
    if places is not None:
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return babel_numbers.format_decimal(
            value, format=pattern, locale=current_locale(), decimal_quantization=True
        )
    return babel_numbers.format_decimal(value, locale=current_locale())


def money(value: Number | None, currency: str) -> str:
    """An amount with its ISO 4217 currency, in the currency's own precision (JPY 0, USD 2)."""
    if value is None or value == "":
        return "—"
    return babel_numbers.format_currency(value, currency, locale=current_locale())


def date(value: dt.date | dt.datetime | None) -> str:
    """A calendar date in the reader's language (CLDR medium: ``Apr 1, 2026``, ``2026/04/01``)."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return babel_dates.format_date(value, "medium", locale=current_locale())


def datetime(value: dt.datetime | None) -> str:
    """A moment in the reader's language, in the portal's time zone (UTC), zone shown."""
    if value is None:
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = babel_dates.format_datetime(local, "medium", locale=current_locale())
    return f"{text} {local.strftime('%Z')}".strip()


def country_name(code: str | None) -> str:
    """The CLDR name of an ISO 3166-1 alpha-2 code in the reader's language (code if unknown)."""
    if not code:
        return "—"
    return str(current_locale().territories.get(code.upper(), code))


def language_name(code: str | None) -> str:
    """The CLDR name of an ISO 639-1 code in the reader's language (code if unknown)."""
    if not code:
        return "—"
    return str(current_locale().languages.get(code.lower(), code))


_PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_ALLOWED = re.compile(r"[-0-9.,'\s\u00a0\u202f\u066b\u066c]+")


def parse_decimal(text: str, *, locale: Locale | None = None) -> Decimal:
    """An amount as the reader's language writes it: ``1,000,000`` (en), ``1 000 000,5`` (fr),
    ``1.000.000`` (es), or the plain ``1000000.5`` every language also accepts.

    Raises ``ValueError`` for anything else (letters, non-ASCII digits, misplaced group
    separators, NaN/Infinity). Babel's strict parser checks the grouping; we only map the
    spaces people type onto the locale's narrow no-break space first.
    """
    locale = locale or current_locale()
    value = (text or "").strip()
    if not value or not _ALLOWED.fullmatch(value):
        raise ValueError(value)
    group = babel_numbers.get_group_symbol(locale)
    if group.isspace():
        value = re.sub(r"[\s\u00a0\u202f]", group, value)
    try:
        parsed = babel_numbers.parse_decimal(value, locale=locale, strict=True)
    except babel_numbers.NumberFormatError:
        if not _PLAIN.fullmatch(value):
            raise ValueError(value) from None
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise ValueError(value) from None
    if not parsed.is_finite():
        raise ValueError(value)
    return parsed


def decimal_symbol() -> str:
    """The reader's decimal separator (``.`` in English, ``,`` in French), from the CLDR."""
    return str(babel_numbers.get_decimal_symbol(current_locale()))


def group_symbol() -> str:
    """The reader's group separator (``,`` in English, a narrow no-break space in French)."""
    return str(babel_numbers.get_group_symbol(current_locale()))


def canonical_decimal(text: str) -> str:
    """``parse_decimal``'s reading as plain ``1000000.5`` text for a strict parser or a
    serializer (``portal.parse.decimal``, DRF); text it cannot read is returned unchanged so
    that parser's own message names the problem."""
    try:
        return format(parse_decimal(text), "f")
    except ValueError:
        return text


def month(value: dt.date) -> str:
    """A month in the reader's language: ``Nov 2026``, ``2026年11月``."""
    return babel_dates.format_skeleton("yMMM", value, locale=current_locale())
