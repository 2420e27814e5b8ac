"""portal.api.sql_json: the JSON text PostgreSQL writes for a DRF field equals what DRF's
field and JSONRenderer write, value for value; anything it cannot write exactly is refused
when the SQL is built."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, models
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from partnerships.validators import plain_decimal
from portal.api import sql_json
from portal.api.fields import TextField
from portal.api.sql_json import Member, Unsupported

pytestmark = pytest.mark.django_db


def _sql_text(expression: str, params: list[Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", params)
        (text,) = cursor.fetchone()
    return str(text)


def _drf(field: serializers.Field, value: Any) -> str:
    """What DRF writes for ``value`` through ``field`` (None as DRF's serializers pass it)."""
    represented = None if value is None else field.to_representation(value)
    # JSONRenderer escapes U+2028/2029 afterwards; PostgreSQL's text is compared before that.
    return json.dumps(represented, ensure_ascii=False, separators=(",", ":"))


def _check(field: serializers.Field, sql_type: str, value: Any, **kwargs: Any) -> None:
    expression = sql_json.value_sql(field, f"(%s::{sql_type})", **kwargs)
    assert _sql_text(expression, [value]) == _drf(field, value), value


# PostgreSQL text holds any character but NUL; Python's surrogates cannot be sent.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_text_is_escaped_as_json_dumps_escapes_it(text):  # type: ignore[no-untyped-def]
    _check(TextField(), "text", text)


def test_text_edge_cases():  # type: ignore[no-untyped-def]
    for text in ['"', "\\", "\n\t\r\b\f", "\x01\x1f\x7f", "é 関西 \u2028 \u2029 /", "", None]:
        _check(serializers.CharField(), "text", text)
    # The renderer escapes the line separators in the whole body, fragments included.
    assert JSONRenderer().render({"a": "\u2028"}) == b'{"a":"\\u2028"}'


def test_choices_integers_booleans():  # type: ignore[no-untyped-def]
    choice = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    for value in ["a", "b", None]:
        _check(choice, "text", value)
    for value in [0, -7, 2**62, None]:
        _check(serializers.IntegerField(), "bigint", value)
    _check(serializers.BigIntegerField(coerce_to_string=False), "bigint", 2**62)
    for value in [True, False, None]:
        _check(serializers.BooleanField(allow_null=True), "boolean", value)


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC),  # no fraction: isoformat() writes none
        dt.datetime(2026, 3, 4, 5, 6, 7, 100, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        None,
    ],
)
def test_date_times_in_utc_as_drf_writes_them(value):  # type: ignore[no-untyped-def]
    _check(serializers.DateTimeField(), "timestamptz", value)


def test_dates_decimals_and_plain_decimals():  # type: ignore[no-untyped-def]
    for day in [dt.date(2029, 1, 2), dt.date(999, 12, 31), None]:
        _check(serializers.DateField(), "date", day)
    scale = models.DecimalField(max_digits=10, decimal_places=3)
    field = serializers.DecimalField(max_digits=10, decimal_places=3)
    for amount in [Decimal("1234567.125"), Decimal("7.5"), Decimal(0), Decimal("-0.001"), None]:
        _check(field, "numeric(10,3)", amount, model_field=scale)
    for amount in [Decimal("12.5000"), Decimal("50000000000.0000"), Decimal("0.0000"), None]:
        expected = "null" if amount is None else json.dumps(plain_decimal(amount))
        assert _sql_text(sql_json.plain_decimal_sql("(%s::numeric(24,4))"), [amount]) == expected


@pytest.mark.parametrize("value", [["ja", "en"], [], ['a"b', "é"], ["x", None], None])
def test_lists_of_text(value):  # type: ignore[no-untyped-def]
    _check(serializers.ListField(child=TextField()), "text[]", value)


@pytest.mark.parametrize(
    "value",
    [
        {"hydro": 62, "solar": 38, "wind": -1, "big": 10**30},
        {"solar": "x", "hydro": True, "nuclear": None},
        {},
        {'a"b': None},
        None,
    ],
)
def test_objects_of_json_values_in_the_order_python_loads_them(value):  # type: ignore[no-untyped-def]
    field = serializers.DictField(child=serializers.JSONField())
    with connection.cursor() as cursor:  # as JSONField loads the column: jsonb's stored order
        cursor.execute("SELECT %s::jsonb", [None if value is None else json.dumps(value)])
        (text,) = cursor.fetchone()
    loaded = None if text is None else json.loads(text)
    expression = sql_json.value_sql(field, "(%s::jsonb)")
    stored = None if value is None else json.dumps(value)
    assert _sql_text(expression, [stored]) == _drf(field, loaded)


@pytest.mark.parametrize(
    "stored",
    ['{"a": 1.10}', '{"a": 0.00001}', '{"a": 62.5}', '{"a": [1, 2]}', '{"a": {"b": 1}}', "[1]"],
)
def test_objects_holding_what_postgresql_cannot_write_exactly_are_unwritten(stored):  # type: ignore[no-untyped-def]
    """PostgreSQL prints 1.10 and 0.00001 where Python writes 1.1 and 1e-05, and nested values
    with spaces: such a value makes the row UNWRITTEN (NULL), for DRF to write; objects and
    arrays holding it are NULL too."""
    field = serializers.DictField(child=serializers.JSONField())
    expression = sql_json.value_sql(field, "(%s::jsonb)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression}", [stored])
        assert cursor.fetchone() == (sql_json.UNWRITTEN,)
        member = sql_json.object_sql([Member("id", "'1'"), Member("mix", expression)])
        cursor.execute(f"SELECT {member}", [stored])
        assert cursor.fetchone() == (None,)
        cursor.execute(
            "SELECT "
            + sql_json.array_sql(
                expression.replace("%s", "v"),
                from_where="FROM unnest(%s::jsonb[]) v",
                order="v::text",
            ),
            [['{"a": 1}', stored]],
        )
        assert cursor.fetchone() == (None,)


def test_objects_arrays_and_conditional_members():  # type: ignore[no-untyped-def]
    members = [
        Member("id", "'1'"),
        Member("secret", "'\"x\"'", when="%s"),
        Member("tags", sql_json.array_sql("to_json(t)::text", from_where="FROM unnest(%s::text[]) t", order="t")),
    ]  # fmt: skip
    sql, names = sql_json.positional(sql_json.object_sql(members).replace("%s", "%(p)s"))
    assert names == ("p", "p")
    assert _sql_text(sql, [True, ["b", "a"]]) == '{"id":1,"secret":"x","tags":["a","b"]}'
    assert _sql_text(sql, [False, []]) == '{"id":1,"tags":[]}'
    states = sql_json.case_sql("(%s::text)", {"draft": "Brouillon « 100 % »", "x": 'a"b'})
    assert _sql_text(states, ["draft"]) == json.dumps("Brouillon « 100 % »", ensure_ascii=False)
    assert _sql_text(states, ["x"]) == '"a\\"b"' and _sql_text(states, ["other"]) == "null"


def test_what_cannot_be_written_exactly_is_refused():  # type: ignore[no-untyped-def]
    numeric_2 = models.DecimalField(max_digits=6, decimal_places=2)
    refused: list[tuple[serializers.Field, dict[str, Any]]] = [
        (serializers.SerializerMethodField(), {}),
        (serializers.FloatField(), {}),
        (serializers.DecimalField(max_digits=6, decimal_places=3), {"model_field": numeric_2}),
        (serializers.DecimalField(max_digits=6, decimal_places=2), {}),
        (serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False),
         {"model_field": numeric_2}),
        (serializers.DateTimeField(format="%Y"), {}),
        (serializers.DateField(format="%d/%m/%Y"), {}),
        (serializers.BigIntegerField(coerce_to_string=True), {}),
        (serializers.ListField(child=serializers.IntegerField()), {}),
        (serializers.ChoiceField(choices=[(1, "one")]), {}),
    ]  # fmt: skip
    for field, kwargs in refused:
        with pytest.raises(Unsupported):
            sql_json.value_sql(field, "x", **kwargs)
    with pytest.raises(Unsupported):
        Member("not a name", "'1'")
    with pytest.raises(Unsupported):
        sql_json.object_sql([Member("a", "'1'", when="true")])
    with timezone.override("Asia/Tokyo"), pytest.raises(Unsupported):
        sql_json.require_utc()
    sql_json.require_utc()
