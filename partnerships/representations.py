"""Hot reads of applications (the reviewer queue, the application detail) without DRF's
per-field machinery: rows come as dicts from ``values()`` and are shaped here.

Why by hand: at 50 rows a page, ``ApplicationSerializer`` spent more time walking its fields
(attribute lookups, nested serializers, ordered dicts) than the database took to answer
(bench/README.md). ``ApplicationSerializer`` stays the definition: its fields still parse
input, name the OpenAPI schema, and convert every value here (each leaf field's own
``to_representation``), and tests/partnerships/test_representations.py checks that both give
the same JSON for every state and audience, so a field added to one and not the other fails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import DecimalField, JSONField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from partnerships import validators
from partnerships.models import CountryApplication, Site
from partnerships.serializers import ApplicationSerializer, SiteSerializer
from partnerships.workflow import public_state, public_state_code

# Fields read straight from a column of the same name and converted by their DRF field.
_PLAIN = (
    "id",
    "reference",
    "title",
    "state",
    "version",
    "created_at",
    "updated_at",
    "submitted_at",
    "languages",
    "sectors",
    "other_sector",
    "customization_notes",
    "data_residency_required",
    "data_categories",
    "estimated_annual_co2_tonnes",
    "screening_outcome",
)
#: What ``values()`` reads for one application (FIELDS: the serializer's, in its order).
COLUMNS = (
    *_PLAIN,
    "tenant_id",
    "tenant__code",
    *CountryApplication.SECURITY_FIELDS,
    "startup_fund_amount",
    "startup_fund_currency",
)
_SITE_FIELDS = tuple(SiteSerializer.Meta.fields)
# The serializer's order, where security_commitments comes last: it is no attribute of the
# model, so DRF skips it and ApplicationSerializer.to_representation appends it.
FIELDS = (
    *(f for f in ApplicationSerializer.Meta.fields if f != "security_commitments"),
    "security_commitments",
)
# Only the country's released view: internal names and the screening outcome are withheld.
_INTERNAL_ONLY = ("state", "screening_outcome")


def _same(value: Any) -> Any:
    return value


class _DateTime:
    """Marks a DRF ``DateTimeField`` with the default format: converted per batch, in the
    zone current when the batch is shaped (``_in_zone``)."""


def _in_zone(zone: Any) -> Callable[[Any], str]:
    """DateTimeField.to_representation without its per-call checks: ``zone`` (the current
    zone, looked up once per batch, not once per value), ISO 8601, "Z" for UTC (what DRF
    writes with its default DATETIME_FORMAT)."""

    def convert(value: Any) -> str:
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _fast(field: serializers.Field) -> Any:
    """The field's own to_representation, or a shortcut giving the same result for the
    Python type the database hands back (str for text, int, bool, list of str, date)."""
    plain_text = (serializers.CharField, serializers.ChoiceField)
    if type(field) in (*plain_text, serializers.IntegerField, serializers.BooleanField):
        return _same
    if isinstance(field, serializers.ListField) and type(field.child) in plain_text:
        return list
    if (
        type(field) is serializers.DateTimeField
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and not hasattr(field, "timezone")
    ):
        return _DateTime
    if (
        type(field) is serializers.DateField
        and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601
    ):
        return date.isoformat
    return field.to_representation


@cache
def _converters() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(name, converter) of the application's plain fields and of a site's JSON values, from
    the serializers' own field instances (built once per process)."""
    application = ApplicationSerializer().fields
    site = SiteSerializer().fields
    return (
        [(name, _fast(application[name])) for name in _PLAIN],
        [(name, _site_fast(site[name])) for name in _SITE_FIELDS],
    )


def _site_fast(field: serializers.Field) -> Any:
    """As ``_fast``, for a site's JSON values (``_sites_json_sql``): an ISO date is already
    its text; a decimal's text goes through the field (``DecimalField.to_representation``
    takes text and quantizes it as it would the ``Decimal``)."""
    convert = _fast(field)
    return _same if convert is date.isoformat else convert


def _for_batch(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """``pairs`` with the date-time converter bound to the current zone (once per batch)."""
    convert = _in_zone(timezone.get_current_timezone())
    return [(name, convert if c is _DateTime else c) for name, c in pairs]


def _convert(pairs: list[tuple[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    # DRF skips to_representation for None (Serializer.to_representation does the same).
    return {name: None if row[name] is None else convert(row[name]) for name, convert in pairs}


@cache
def _sites_json_sql() -> str:
    """Every site of the row's application as one JSON array, in the model's order, as a
    scalar subquery written once per process: a site's fields as JSON values, decimals as
    their text (exact, never a float), the date as ISO 8601 text (JSON's date format), the
    rest as they are. The sites come with their application's row instead of from a query
    of their own (one round trip fewer per list page and per detail, #16).

    SQL by hand, from the models' metadata: the ORM's ``JSONBAgg(JSONObject(...))`` over a
    correlated subquery was rebuilt and compiled on every request, a fifth of a detail
    request's Python (bench/README.md). tests/partnerships/test_representations.py holds the
    answer equal to the serializer's for every shape of site."""

    def column_of(model: Any, name: str) -> str:  # a concrete field's column, quoted
        return str(connection.ops.quote_name(model._meta.get_field(name).column))

    quote = connection.ops.quote_name
    pairs = []
    for name in _SITE_FIELDS:
        field = Site._meta.get_field(name)
        column = f"site_.{column_of(Site, name)}"
        if isinstance(field, DecimalField):
            column = f"({column})::text"
        pairs.append(f"'{name}', {column}")
    order = []
    for term in Site._meta.ordering or ():
        descending = str(term).startswith("-")
        order.append(
            f"site_.{column_of(Site, str(term).lstrip('-'))}{' DESC' if descending else ''}"
        )
    application = CountryApplication._meta
    return _SITES_JSON_SQL.format(
        object=", ".join(pairs),
        order=", ".join(order) or "site_.id",
        sites=quote(Site._meta.db_table),
        application_id=column_of(Site, "application"),
        outer=f"{quote(application.db_table)}.{column_of(CountryApplication, 'id')}",
    )


# Identifiers from the models' metadata, quoted; field names as JSON keys (Python names).
_SITES_JSON_SQL = (
    "(SELECT jsonb_agg(jsonb_build_object({object}) ORDER BY {order}) "
    "FROM {sites} site_ WHERE site_.{application_id} = {outer})"
)


def _sites_json() -> RawSQL:
    # Identifiers from the models' metadata only, no input: nothing to inject.
    return RawSQL(_sites_json_sql(), (), output_field=JSONField())  # noqa: S611


def values_of(
    queryset: QuerySet[CountryApplication],
) -> QuerySet[CountryApplication, dict[str, Any]]:
    """The same rows as ``values()`` dicts with ``COLUMNS`` (no joins beyond the tenant), and
    ``site_rows``: the application's sites as a JSON array (``_sites_json``)."""
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .annotate(site_rows=_sites_json())
        .values(*COLUMNS, "site_rows")
    )


def application_dicts(
    rows: list[dict[str, Any]], *, internal: bool | Callable[[int], bool]
) -> list[dict[str, Any]]:
    """``ApplicationSerializer(many=True).data`` for ``values_of`` rows (no query).

    ``internal``: programme staff (internal state and screening outcome) or the country; a
    bool, or a function of the row's tenant id (see ``serializers.is_internal``).
    """
    plain = _for_batch(_converters()[0])
    site_fields = _converters()[1]
    # Labels in the active language, looked up once per state, not once per row.
    labels: dict[str, tuple[str, str]] = {}
    out = []
    for row in rows:
        state = row["state"]
        if state not in labels:
            labels[state] = (public_state_code(state), public_state(state))
        data = _convert(plain, row)
        amount, currency = row["startup_fund_amount"], row["startup_fund_currency"]
        shaped = {
            **data,
            "tenant": row["tenant__code"],
            "public_state": labels[state][0],
            "public_state_label": labels[state][1],
            "sites": [_convert(site_fields, site) for site in row["site_rows"] or ()],
            "security_commitments": {f: row[f] for f in CountryApplication.SECURITY_FIELDS},
            "startup_fund": (
                {
                    "amount": None if amount is None else validators.plain_decimal(amount),
                    "currency": currency,
                }
                if currency
                else None
            ),
        }
        # The serializer's field order, then the representation's own changes.
        ordered = {name: shaped[name] for name in FIELDS}
        if not (internal(row["tenant_id"]) if callable(internal) else internal):
            for name in _INTERNAL_ONLY:
                del ordered[name]
        out.append(ordered)
    return out
