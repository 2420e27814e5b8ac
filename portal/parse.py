"""Strict parsers: the one place where a client's text becomes a typed value (DESIGN §5c).

Views (web and API) turn request values into ints, decimals, dates and text here, or through a
form or serializer that does the same; never with a bare ``int()``, ``Decimal()`` or date
arithmetic. Python's own constructors are too lenient for client input: ``int("٣")`` is 3,
``"²".isdigit()`` is True yet ``int("²")`` raises, ``Decimal("NaN")`` and ``Decimal("1e999999")``
are values, ``date.fromisoformat("20260101")`` is a date, and ``date.max + timedelta(1)``
overflows. Each parser here accepts one plain ASCII spelling, bounds the result, and raises
``ParseError`` (a ``ValueError``) with a message fit for a person for anything else.

Hand-written rather than a library because each rule is one regular expression and the
point is the exact set of spellings accepted (the property tests in
tests/portal/test_parse_properties.py pin it down).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

#: PostgreSQL ``bigint``: the widest integer column the portal has.
MAX_BIGINT = 2**63 - 1

_INTEGER = re.compile(r"[0-9]{1,19}", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

# Characters that render as nothing (or as blank space) although they are not whitespace to
# str.strip(): zero-width spaces and joiners, bidi controls, the BOM, soft hyphen (all
# category Cf), fillers that are letters by category but draw nothing, and the combining
# grapheme joiner.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")


class ParseError(ValueError):
    """A client value that is not in the accepted spelling; ``str(exc)`` is for people."""


def integer(value: Any, *, minimum: int = 0, maximum: int = MAX_BIGINT) -> int:
    """``value`` as an int in ``[minimum, maximum]``: ASCII digits only, no sign or spaces."""
    text = value if isinstance(value, str) else ""
    if not _INTEGER.fullmatch(text):
        raise ParseError(_("Enter a whole number."))
    number = int(text)
    if not minimum <= number <= maximum:
        raise ParseError(
            _("Enter a whole number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}
        )
    return number


def optional_integer(value: Any, **bounds: int) -> int | None:
    """Like ``integer``, but an absent or empty value is None."""
    if value is None or value == "":
        return None
    return integer(value, **bounds)


def lenient_integer(value: Any, **bounds: int) -> int | None:
    """For optional query filters and page cursors: anything unparsable is simply ignored."""
    try:
        return optional_integer(value, **bounds)
    except ParseError:
        return None


def decimal(
    value: Any, *, max_digits: int = 30, decimal_places: int = 30, minimum: Decimal | None = None
) -> Decimal:
    """A plain decimal (``-12.50``): ASCII digits and one point, finite, within the digits."""
    text = value.strip() if isinstance(value, str) else ""
    if not _DECIMAL.fullmatch(text):
        raise ParseError(_("Enter a number in digits with a point for decimals, e.g. 1000.50."))
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid text
        raise ParseError(_("Enter a number.")) from exc
    whole, _point, fraction = text.lstrip("-").partition(".")
    if len(fraction) > decimal_places or len(whole.lstrip("0")) + len(fraction) > max_digits:
        raise ParseError(_("Enter a number with at most %(n)s digits.") % {"n": max_digits})
    if minimum is not None and number < minimum:
        raise ParseError(_("Enter a number of at least %(min)s.") % {"min": minimum})
    return number


def iso_date(value: Any) -> dt.date:
    """``YYYY-MM-DD`` in ASCII digits, a real calendar day (years 1–9999)."""
    text = value.strip() if isinstance(value, str) else ""
    if not _DATE.fullmatch(text):
        raise ParseError(_("Enter the date as YYYY-MM-DD."))
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ParseError(_("Enter a real date as YYYY-MM-DD.")) from exc


def add_days(day: dt.date, days: int) -> dt.date | None:
    """``day + days``, or None past the calendar's edge (year 1 or 9999): callers treat None
    as "open-ended" rather than letting ``OverflowError`` escape."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def shift(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime | None:
    """``moment + delta``, or None past the calendar's edge (see ``add_days``)."""
    try:
        return moment + delta
    except OverflowError:
        return None


# --- Text ---------------------------------------------------------------------------------


def is_invisible(char: str) -> bool:
    """A character that shows nothing: whitespace, controls, format characters (Cf) …"""
    return (
        char.isspace()
        or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp", "Cs")
        or char in _BLANK_LOOKALIKES
    )


def is_blank(value: str) -> bool:
    """True when ``value`` is empty once invisible characters are removed."""
    return all(is_invisible(char) for char in value)


def text(value: Any, *, max_length: int | None = None) -> str:
    """A text value from a form or query: NUL bytes refused (PostgreSQL cannot store them),
    surrounding whitespace removed, and a value of only invisible characters read as ""."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(_("Enter text."))
    if "\x00" in value:
        raise ParseError(_("Null characters are not allowed."))
    value = value.strip()
    if is_blank(value):
        return ""
    if max_length is not None and len(value) > max_length:
        raise ParseError(_("Ensure this value has at most %(n)s characters.") % {"n": max_length})
    return value


def lenient_text(value: Any, *, max_length: int = 200) -> str:
    """For optional query filters: unusable text (NUL bytes, too long) is ignored."""
    try:
        return text(value, max_length=max_length)
    except ParseError:
        return ""


def choice(value: Any, choices: Mapping[str, Any] | Any) -> str:
    """``value`` if it is one of ``choices`` (a mapping or a collection of codes), else ""."""
    return value if isinstance(value, str) and value in choices else ""
