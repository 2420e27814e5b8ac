"""A serializer's JSON written by PostgreSQL, compiled from the serializer's own fields.

Why by hand: no library turns DRF fields into SQL. A hot list (the reviewer queue, 50 rows
a page) spent most of its Python converting values the database had just formatted:
loading every column into Python objects, each field's ``to_representation``, the dicts and
their encoding (bench/README.md, #16). Here each field of a serializer becomes a SQL
expression that writes the JSON text DRF's ``JSONRenderer`` would write for that field's
value, so PostgreSQL hands back one ready JSON text per row and Python only embeds it
(``orjson.Fragment``). The serializer stays the one definition of the representation: the
SQL is derived from its fields when first needed, a field this module cannot write exactly is
refused when the SQL is built (``Unsupported``), and the callers' tests compare the bytes
with the serializer's for every shape of value.

What "exactly" rests on (tests/portal/test_sql_json.py checks each against Python):

- text: PostgreSQL's ``to_json`` escapes what ``json.dumps(ensure_ascii=False)`` escapes
  (``"``, ``\\``, control characters, ``\\u00XX`` in lower case) and nothing else; the line
  separators U+2028/2029 are escaped afterwards by the renderer, as DRF does;
- date-times: ISO 8601 in UTC with ``Z``, microseconds only when not zero (Python's
  ``isoformat``, DRF's default format), so the current time zone must be UTC (checked by
  ``require_utc``);
- decimals: DRF's string form quantized to the field's places, which is PostgreSQL's text of
  a ``numeric`` column of the same scale (any other scale is refused);
- JSON objects (``DictField`` of ``JSONField`` on ``jsonb``): members in ``jsonb``'s stored
  order (the order Python gets when it loads the column); values written only where
  PostgreSQL's text is Python's (strings, booleans, nulls, whole numbers). A row holding any
  other value (a fraction, a nested array or object) comes back NULL (``UNWRITTEN``), and
  its caller has DRF write it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import models
from django.db.models.expressions import Expression
from django.utils import timezone
from psycopg import sql
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


class Unsupported(TypeError):
    """A field whose JSON this module cannot write exactly as DRF does."""


#: What the SQL gives for a row holding a value it cannot write exactly (NULL: it propagates
#: through objects and arrays to the whole row); the caller has DRF write that row.
UNWRITTEN = None


# Names become JSON keys and parts of SQL literals: only plain identifiers are accepted.
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_PARAM = re.compile(r"%\((\w+)\)s")

NULL = "'null'"


def require_utc() -> None:
    """Raise ``Unsupported`` unless the current time zone is UTC (date-times are written in
    UTC; the portal never activates another zone for the API: settings.TIME_ZONE)."""
    if timezone.get_current_timezone_name() != "UTC":
        raise Unsupported("date-times are written in UTC; another time zone is active")


def _text_like(field: serializers.Field) -> bool:
    """A field whose representation of a ``str`` is that string (for a ``SlugRelatedField``,
    ``column`` is its slug's text column)."""
    convert = type(field).to_representation
    if convert in (
        serializers.CharField.to_representation,
        serializers.SlugRelatedField.to_representation,
    ):
        return True
    return convert is serializers.ChoiceField.to_representation and all(
        isinstance(key, str)
        for key in field.choices  # type: ignore[attr-defined]
    )


def value_sql(
    field: serializers.Field, column: str, *, model_field: models.Field | None = None
) -> str:
    """SQL giving the JSON text of ``field.to_representation`` for the value of ``column``
    (an SQL expression, written once into the result, so it may carry a parameter), ``null``
    where it is NULL; NULL itself only where a value cannot be written exactly here
    (UNWRITTEN: a ``DictField``'s fraction or nested value).

    ``model_field``: the column's model field, needed for a decimal (its scale).
    Raises ``Unsupported`` for any other kind of field or format.
    """
    kind = type(field)
    if _text_like(field):
        return f"COALESCE(to_json({column})::text, {NULL})"
    if kind.to_representation is serializers.IntegerField.to_representation or (
        kind.to_representation is serializers.BigIntegerField.to_representation
        and not getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
    ):
        return f"COALESCE(({column})::text, {NULL})"
    if kind.to_representation is serializers.BooleanField.to_representation:
        return f"COALESCE(({column})::text, {NULL})"  # PostgreSQL's text: true, false
    if kind.to_representation is serializers.DateTimeField.to_representation:
        if getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601 or hasattr(
            field, "timezone"
        ):
            raise Unsupported(f"{field!r}: only ISO 8601 in the current zone")
        # isoformat(): the fraction only when there is one (".000000" cannot occur elsewhere).
        text = f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
        return f"""COALESCE('"' || replace({text}, '.000000', '') || 'Z"', {NULL})"""
    if kind.to_representation is serializers.DateField.to_representation:
        if getattr(field, "format", api_settings.DATE_FORMAT) != ISO_8601:
            raise Unsupported(f"{field!r}: only ISO 8601")
        return f"""COALESCE('"' || to_char({column}, 'YYYY-MM-DD') || '"', {NULL})"""
    if kind.to_representation is serializers.DecimalField.to_representation:
        return _decimal_sql(field, column, model_field)
    if isinstance(field, serializers.ListField) and _text_like(field.child):
        if kind.to_representation is not serializers.ListField.to_representation:
            raise Unsupported(f"{field!r}: its own to_representation")
        return f"COALESCE(array_to_json({column})::text, {NULL})"
    if (
        kind.to_representation is serializers.DictField.to_representation
        and type(field.child).to_representation  # type: ignore[attr-defined]
        is serializers.JSONField.to_representation
        and not getattr(field.child, "binary", False)  # type: ignore[attr-defined]
    ):
        # Values as Python writes them only where PostgreSQL's text is the same: strings,
        # booleans, nulls and whole numbers. Anything else (a fraction, which Python may
        # write otherwise, "1.10" as 1.1, 0.00001 as 1e-05; a nested array or object, which
        # jsonb writes with spaces) gives NULL: the row is not written here (UNWRITTEN).
        plain = (
            "(jsonb_typeof(value_) IN ('string', 'boolean', 'null') OR "
            "(jsonb_typeof(value_) = 'number' AND value_::text ~ '^-?[0-9]+$'))"
        )
        members = "to_json(key_)::text || ':' || value_::text"
        return (
            f"(SELECT CASE WHEN object_ IS NULL THEN {NULL} "  # noqa: S608 - a column's SQL
            "WHEN jsonb_typeof(object_) <> 'object' THEN NULL ELSE (SELECT CASE "
            f"WHEN count(*) = 0 THEN '{{}}' WHEN bool_and({plain}) "
            f"THEN '{{' || string_agg({members}, ',') || '}}' END "
            "FROM jsonb_each(object_) AS each_(key_, value_)) END "
            f"FROM (SELECT ({column}) AS object_) AS value_)"
        )
    raise Unsupported(f"{field!r}: no SQL form")


def _decimal_sql(field: serializers.Field, column: str, model_field: models.Field | None) -> str:
    places = getattr(field, "decimal_places", None)
    if (
        not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        or getattr(field, "localize", False)
        or getattr(field, "normalize_output", False)
        or not isinstance(model_field, models.DecimalField)
        or model_field.decimal_places != places
    ):
        raise Unsupported(f"{field!r}: a decimal written as text at its column's scale only")
    return f"""COALESCE('"' || ({column})::text || '"', {NULL})"""


def case_sql(column: str, texts: Mapping[str, str]) -> str:
    """SQL giving the JSON text of ``texts[value]`` for the value of ``column`` (an SQL
    expression), ``null`` for any other value: a choice's label, say. The texts are written
    into the SQL as literals (``%`` doubled for the client-side formatting)."""
    whens = " ".join(
        f"WHEN {_literal(value)} THEN {_literal(orjson.dumps(text).decode())}"
        for value, text in texts.items()
    )
    return f"CASE {column} {whens} ELSE {NULL} END"


def _literal(text: str) -> str:
    return sql.Literal(text).as_string(None).replace("%", "%%")


def plain_decimal_sql(column: str) -> str:
    """JSON text of ``partnerships.validators.plain_decimal``-style text (trailing zeros
    dropped, never an exponent), ``null`` for NULL: PostgreSQL's ``trim_scale``."""
    return f"""COALESCE('"' || trim_scale({column})::text || '"', {NULL})"""


@dataclass(frozen=True)
class Member:
    """One member of a JSON object: its key, the SQL of its JSON value (``value_sql``: NULL
    only for UNWRITTEN) and, optionally, an SQL condition for writing it at all."""

    name: str
    value: str
    when: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise Unsupported(f"{self.name!r}: not a plain name")


def object_sql(members: Sequence[Member]) -> str:
    """SQL giving the JSON text of an object with ``members`` in their order, written as
    DRF's ``JSONRenderer`` writes it (compact, no spaces); NULL (UNWRITTEN) when a member's
    value is. The first member is always written (its comma rule)."""
    if not members or members[0].when is not None:
        raise Unsupported("the first member of an object is unconditional")
    parts = []
    for index, member in enumerate(members):
        key = f"""'{"," if index else ""}"{member.name}":'"""
        if member.when is None:
            parts.append(f"{key} || {member.value}")
        else:
            parts.append(f"CASE WHEN {member.when} THEN {key} || {member.value} ELSE '' END")
    return "'{' || " + " || ".join(parts) + " || '}'"


def array_sql(element: str, *, from_where: str, order: str) -> str:
    """SQL giving the JSON text of an array of ``element`` (the JSON text of one row of
    ``from_where``: ``FROM … WHERE …``) in ``order``; ``[]`` when there are none; NULL
    (UNWRITTEN) when an element is."""
    return (
        "(SELECT CASE WHEN count(*) = 0 THEN '[]' WHEN count(element_) < count(*) THEN NULL "  # noqa: S608 - SQL of the caller's
        "ELSE '[' || string_agg(element_, ',' ORDER BY position_) || ']' END FROM "
        f"(SELECT {element} AS element_, row_number() OVER (ORDER BY {order}) AS position_ "
        f"{from_where}) AS elements_)"
    )


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with its ``%(name)s`` parameters made positional (``%s``, as Django's query
    compiler combines them), and the names in the order their values must be given."""
    names: list[str] = []

    def take(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "%s"

    return _PARAM.sub(take, sql), tuple(names)


def column_marker(name: str) -> str:
    """Where ``JSONText`` puts the SQL of its column ``name`` (a comment: never generated
    by anything else here)."""
    if not _NAME.match(name):
        raise Unsupported(f"{name!r}: not a plain name")
    return f"/*column:{name}*/"


class JSONText(Expression):
    """JSON text written by PostgreSQL, as an ORM expression: ``sql`` with positional ``%s``
    parameters (``params``), and ``column_marker(name)`` where the SQL of the ORM expression
    ``columns[name]`` goes (an ``F("tenant__code")``, say: the ORM resolves it and makes its
    join, so nothing guesses the join's alias). Its value is text."""

    def __init__(self, sql: str, params: Sequence[Any], columns: Mapping[str, Any]) -> None:
        super().__init__(output_field=models.TextField())
        self.sql = sql
        self.params = tuple(params)
        self.names = tuple(columns)
        self.columns = list(columns.values())

    def get_source_expressions(self) -> list[Any]:
        return list(self.columns)

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql = self.sql
        for name, column in zip(self.names, self.columns, strict=True):
            column_sql, column_params = compiler.compile(column)
            if column_params:  # a plain column has none; anything else would shift ours
                raise Unsupported(f"{name}: a column with parameters")
            sql = sql.replace(column_marker(name), column_sql)
        return sql, self.params
