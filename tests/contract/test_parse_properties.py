"""Property tests (hypothesis) for the strict parsers (portal.parse) and the API's JSON limits
(portal.api.parsers): whatever a client sends, the answer is a typed value or ParseError /
ValueError, never another exception, and what is accepted is exactly what was meant."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from portal import parse
from portal.api import parsers

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- Integers ---------------------------------------------------------------------------------
@FAST
@given(st.text())
@example("²")
@example("٣")
@example("1e3")
@example(" 1")
@example("99999999999999999999")
def test_integer_accepts_exactly_plain_ascii_digits_in_range(text):
    try:
        value = parse.integer(text)
    except parse.ParseError:
        assert not (text.isascii() and text.isdigit() and 0 <= int(text) <= parse.MAX_BIGINT)
    else:
        assert text.isascii() and text.isdigit() and value == int(text)
        assert 0 <= value <= parse.MAX_BIGINT


@FAST
@given(st.integers(min_value=0, max_value=parse.MAX_BIGINT))
def test_integer_round_trips(number):
    assert parse.integer(str(number)) == number


@FAST
@given(st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.binary()))
def test_lenient_integer_never_raises(value):
    result = parse.lenient_integer(value)
    assert result is None or isinstance(result, int)


# --- Decimals ---------------------------------------------------------------------------------
@FAST
@given(st.text())
@example("NaN")
@example("sNaN")
@example("Infinity")
@example("1e999999")
@example("1_000")
@example("٣.٥")
def test_decimal_is_finite_plain_and_exact(text):
    try:
        value = parse.decimal(text, max_digits=20, decimal_places=3)
    except parse.ParseError:
        return
    assert value.is_finite()
    assert value == Decimal(text.strip())
    assert set(text.strip()) <= set("-0123456789.")


@FAST
@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-(10**16), max_value=10**16
    )
)
def test_decimal_round_trips(number):
    assert parse.decimal(format(number, "f"), max_digits=20, decimal_places=3) == number


# --- Dates --------------------------------------------------------------------------------------
@FAST
@given(st.text(max_size=12))
@example("20260101")
@example("2026-W01-1")
@example("٢٠٢٦-٠١-٠١")
@example("0000-01-01")
@example("2026-02-30")
def test_iso_date_accepts_only_the_dashed_ascii_form(text):
    try:
        day = parse.iso_date(text)
    except parse.ParseError:
        return
    assert day.isoformat() == text.strip()


@FAST
@given(st.dates(), st.integers(min_value=-(10**6), max_value=10**6))
def test_add_days_never_overflows(day, days):
    result = parse.add_days(day, days)
    if result is None:
        assert not dt.date.min.toordinal() <= day.toordinal() + days <= dt.date.max.toordinal()
    else:
        assert result.toordinal() == day.toordinal() + days


# --- Text ---------------------------------------------------------------------------------------
INVISIBLE = st.sampled_from(
    [
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufeff",
        "\u202e",
        "\u2066",
        "\u00ad",
        " ",
        "\t",
        "\u3000",
        "\u3164",
    ]
)


@FAST
@given(st.lists(INVISIBLE, min_size=1))
def test_invisible_only_text_is_blank(chars):
    text = "".join(chars)
    assert parse.is_blank(text)
    assert parse.text(text) == ""


@FAST
@given(st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1), st.lists(INVISIBLE))
def test_a_visible_character_is_never_blank(visible, padding):
    text = "".join(padding) + visible + "".join(padding)
    assert not parse.is_blank(text)


@FAST
@given(st.text())
def test_text_refuses_nul_and_otherwise_returns_a_string(value):
    try:
        result = parse.text(value)
    except parse.ParseError:
        assert "\x00" in value
    else:
        assert "\x00" not in result and isinstance(result, str)


# --- JSON limits --------------------------------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=20,
)


def _depth(value) -> int:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(c) for c in children), default=0)
    return 0


def _clean(value) -> bool:
    text = json.dumps(value)
    return "\\u0000" not in text and not any(f"\\ud{c}" in text for c in "89abcdef")


@FAST
@given(JSON)
def test_json_within_limits_parses_as_the_stdlib_would(value):
    if _clean(value):
        assert parsers.loads(json.dumps(value)) == value


@FAST
@given(st.integers(min_value=0, max_value=200), st.sampled_from(["[", '{"a":']))
def test_json_depth_limit_is_exactly_32(levels, opener):
    closer = "]" if opener == "[" else "}"
    text = opener * levels + "0" + closer * levels
    if levels <= parsers.MAX_DEPTH:
        assert _depth(parsers.loads(text)) == levels
    else:
        with pytest.raises(ValueError, match="32"):
            parsers.loads(text)


@FAST
@given(st.dictionaries(st.text(max_size=4), st.integers(), min_size=1, max_size=5), st.data())
def test_any_repeated_key_is_refused_and_named(obj, data):
    key = data.draw(st.sampled_from(sorted(obj)))
    body = json.dumps(obj)[:-1] + f", {json.dumps(key)}: 1}}"
    with pytest.raises(parsers.DuplicateKey) as caught:
        parsers.loads(body)
    assert caught.value.key == key


def test_fifty_thousand_levels_is_a_value_error_not_a_recursion_error():
    with pytest.raises(ValueError, match="32"):
        parsers.loads("[" * 50_000 + "]" * 50_000)


@FAST
@given(st.text(max_size=50))
def test_arbitrary_text_is_json_or_a_value_error(text):
    with contextlib.suppress(ValueError):
        parsers.loads(text)
