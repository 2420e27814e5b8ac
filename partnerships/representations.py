"""Hot reads of applications (the reviewer queue, the application detail) as JSON written by
PostgreSQL: each row comes back as the JSON text ``ApplicationSerializer`` + DRF's
``JSONRenderer`` would write for it, and Python only embeds it (``orjson.Fragment``).

Why: at 50 rows a page, loading every column into Python and converting it field by field
cost most of the queue's time, far more than the database's (bench/README.md, #16).
``ApplicationSerializer`` stays the definition: the SQL is compiled from its fields (and
``SiteSerializer``'s) by ``portal.api.sql_json`` once per process, the serializer still
parses every write and names the OpenAPI schema, and tests/partnerships/test_representations.py
checks that both give the same bytes for every state, audience and shape of value, so a field
added to one and not the other fails.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import orjson
from django.db import connection
from django.db.models import F, Field, Model, QuerySet
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from partnerships.models import CountryApplication, Site, State
from partnerships.serializers import (
    ApplicationSerializer,
    SecurityCommitmentsSerializer,
    SiteSerializer,
    StartupFundSerializer,
)
from partnerships.workflow import public_state, public_state_code
from portal.api import sql_json
from portal.api.sql_json import Member
from portal.tenancy.access import access_for

# The serializer's order, where security_commitments comes last: it is no attribute of the
# model, so DRF skips it and ApplicationSerializer.to_representation appends it.
FIELDS = (
    *(f for f in ApplicationSerializer.Meta.fields if f != "security_commitments"),
    "security_commitments",
)
# Only the country's released view: internal names and the screening outcome are withheld.
_INTERNAL_ONLY = ("state", "screening_outcome")
# Written by ApplicationSerializer's own methods, not by a field of its own (below).
_COMPUTED = ("tenant", "public_state", "public_state_label", "sites", "security_commitments",
             "startup_fund")  # fmt: skip


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # a concrete field, not a reverse relation
    return field


def _column(model: type[Model], name: str, *, alias: str | None = None) -> str:
    """A concrete field's column, quoted, qualified by ``alias`` or the model's table."""
    quote = connection.ops.quote_name
    return f"{quote(alias or model._meta.db_table)}.{quote(str(_field(model, name).column))}"


def _plain(
    serializer: Any, model: type[Model], names: Any, *, alias: str | None = None
) -> dict[str, Member]:
    """name -> Member for fields read from the model's column of the same name."""
    fields = serializer.fields
    return {
        name: Member(
            name,
            sql_json.value_sql(
                fields[name],
                _column(model, name, alias=alias),
                model_field=_field(model, name),
            ),
        )
        for name in names
    }


def _site_sql() -> str:
    """The application's sites, in the model's order, as one JSON array."""
    site = _plain(SiteSerializer(), Site, SiteSerializer.Meta.fields, alias="site_")
    order = ", ".join(
        _column(Site, term.lstrip("-"), alias="site_") + (" DESC" if term[0] == "-" else "")
        for term in map(str, Site._meta.ordering or ("id",))
    )
    return sql_json.array_sql(
        sql_json.object_sql([site[name] for name in SiteSerializer.Meta.fields]),
        from_where=(
            f"FROM {connection.ops.quote_name(Site._meta.db_table)} site_ "
            f"WHERE {_column(Site, 'application', alias='site_')} = "
            f"{_column(CountryApplication, 'id')}"
        ),
        order=order,
    )


@cache
def _application_sql(language: str | None) -> tuple[str, tuple[str, ...]]:
    """The SQL of one application row's JSON text, and its parameters' names in order.

    The ``CountryApplication`` table is named unaliased, as the ORM names it in a query of its
    own; the tenant's code is at ``column_marker("tenant_code")`` (``JSONText``). Parameters:
    ``country_view_all`` (the caller reads no country's internal view) and ``country_ids``
    (the countries the caller acts for, ``acts_as_country``). Written per ``language``: the
    public states' labels are in it, in the language active when it is first asked for."""
    serializer = ApplicationSerializer()
    members = _plain(serializer, CountryApplication, [f for f in FIELDS if f not in _COMPUTED])
    codes = {s.value: public_state_code(s) for s in State}
    labels = {s.value: public_state(s) for s in State}
    state = _column(CountryApplication, "state")
    internal = (
        "NOT (%(country_view_all)s OR "
        f"{_column(CountryApplication, 'tenant')} = ANY(%(country_ids)s::bigint[]))"
    )
    for name in _INTERNAL_ONLY:
        members[name] = Member(name, members[name].value, when=internal)
    # The tenant's code through the ORM's own join (``JSONText``'s column ``tenant_code``).
    tenant = sql_json.value_sql(serializer.fields["tenant"], sql_json.column_marker("tenant_code"))
    commitments = _plain(
        SecurityCommitmentsSerializer(), CountryApplication, CountryApplication.SECURITY_FIELDS
    )
    fund = StartupFundSerializer().fields
    currency = _column(CountryApplication, "startup_fund_currency")
    startup_fund = sql_json.object_sql(
        [
            Member("amount", sql_json.plain_decimal_sql(
                _column(CountryApplication, "startup_fund_amount"))),
            Member("currency", sql_json.value_sql(fund["currency"], currency)),
        ]
    )  # fmt: skip
    members.update(
        tenant=Member("tenant", tenant),
        public_state=Member("public_state", sql_json.case_sql(state, codes)),
        public_state_label=Member("public_state_label", sql_json.case_sql(state, labels)),
        sites=Member("sites", _site_sql()),
        security_commitments=Member(
            "security_commitments",
            sql_json.object_sql([commitments[name] for name in CountryApplication.SECURITY_FIELDS]),
        ),
        startup_fund=Member(
            "startup_fund",
            f"CASE WHEN COALESCE({currency}, '') <> '' THEN {startup_fund} "
            f"ELSE {sql_json.NULL} END",
        ),
    )
    return sql_json.positional(sql_json.object_sql([members[name] for name in FIELDS]))


def values_of(
    queryset: QuerySet[CountryApplication], *, user: Any
) -> QuerySet[CountryApplication, dict[str, Any]]:
    """The same rows as ``values()`` dicts with ``id`` and ``json``: the row's
    representation for ``user`` (``ApplicationSerializer``'s, internal or the country's by
    ``acts_as_country``), as JSON text. Raises ``sql_json.Unsupported`` unless the current
    time zone is UTC."""
    sql_json.require_utc()
    sql, names = _application_sql(get_language())
    access = access_for(user)
    given = {
        "country_view_all": not access.reads_all_tenants(),
        "country_ids": sorted(access.tenant_ids),
    }
    # The SQL comes from the models' and serializers' metadata only; values are parameters.
    expression = sql_json.JSONText(
        sql, tuple(given[n] for n in names), {"tenant_code": F("tenant__code")}
    )
    rows = queryset.select_related(None).prefetch_related(None).annotate(json=expression)
    return rows.values("id", "json")  # type: ignore[return-value]


def fragments(
    rows: list[dict[str, Any]],
    *,
    queryset: QuerySet[CountryApplication],
    internal: Callable[[int], bool],
) -> list[orjson.Fragment]:
    """The rows' JSON texts, for ``FastJSONRenderer`` to embed as they are. A row PostgreSQL
    left unwritten (``sql_json.UNWRITTEN``: a site's energy mix holding a fraction, say) is
    written by ``ApplicationSerializer`` and DRF's renderer instead, read again through
    ``queryset`` (the caller's, scoped): two queries more, only when there is one.
    ``internal``: tenant id -> the internal view, as the serializer's context takes it."""
    unwritten = [row["id"] for row in rows if row["json"] is sql_json.UNWRITTEN]
    written: dict[int, bytes] = {}
    if unwritten:
        context = {"internal": internal}  # the serializer's (serializers.is_internal)
        render = JSONRenderer().render
        for application in (
            queryset.filter(pk__in=unwritten).select_related("tenant").prefetch_related("sites")
        ):
            data = ApplicationSerializer(application, context=context).data
            written[application.pk] = render(data)
    return [
        orjson.Fragment(row["json"] if row["json"] is not None else written[row["id"]])
        for row in rows
    ]
