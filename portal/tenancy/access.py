"""Who may see what: the roles of a user, read once per request and cached on the user."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from portal.tenancy.roles import PROGRAMME_READERS, Role


@dataclass(frozen=True)
class Access:
    programme_roles: frozenset[str] = frozenset()
    # tenant id -> roles held in that tenant
    tenant_roles: dict[int, frozenset[str]] = field(default_factory=dict)
    tenant_codes: dict[int, str] = field(default_factory=dict)

    @property
    def tenant_ids(self) -> frozenset[int]:
        return frozenset(self.tenant_roles)

    def has_programme_role(self, *roles: str) -> bool:
        return bool(self.programme_roles & set(roles))

    def reads_all_tenants(self) -> bool:
        return bool(self.programme_roles & PROGRAMME_READERS)

    def has_tenant_role(self, tenant_id: int, *roles: str) -> bool:
        return bool(self.tenant_roles.get(tenant_id, frozenset()) & set(roles))

    def is_official_of(self, tenant_id: int) -> bool:
        """An official or country admin of the country: acts for it (files, edits, replies)."""
        return self.has_tenant_role(tenant_id, Role.OFFICIAL, Role.COUNTRY_ADMIN)

    def conflicted(self, tenant_id: int) -> bool:
        """Conflict of interest (DESIGN §1): a person who holds any role in a country never
        reviews, decides, is assigned or counts that country's work. The one home of the rule.
        """
        return tenant_id in self.tenant_roles

    def without_conflicts(self, queryset: QuerySet[Any], tenant_field: str = "tenant_id") -> Any:
        """``queryset`` without the rows of the countries this person is conflicted on."""
        return queryset.exclude(**{f"{tenant_field}__in": self.tenant_ids})

    def editable_tenant_ids(self) -> frozenset[int]:
        return frozenset(
            tid
            for tid, roles in self.tenant_roles.items()
            if roles & {Role.OFFICIAL, Role.COUNTRY_ADMIN}
        )


_ANONYMOUS = Access()


@functools.cache
def _roles_sql(user_model: Any, user_id: str = "%(user_id)s") -> str:
    """The roles query, as SQL written once per process: ``(tenant id or NULL, tenant code or
    '', role)`` rows for the user ``user_id`` (SQL: the parameter ``%(user_id)s``, or a column
    of an outer query), programme roles first.

    Written by hand because every authenticated request runs it and the ORM's compilation of
    the same ``UNION ALL`` (two filtered ``values_list`` querysets) cost more CPU than the rest
    of the request stack's Python (#16, bench/README.md). The table names come from the
    models' metadata through the user model's relations (``programme_roles``,
    ``memberships``), so this module still imports no model (no cycle);
    ``tests/portal/test_access.py`` checks the answer (ended roles, suspended countries).
    """
    meta = user_model._meta
    programme = meta.get_field("programme_roles").related_model._meta
    membership = meta.get_field("memberships").related_model._meta
    tenant = membership.get_field("tenant").related_model._meta
    quote = connection.ops.quote_name
    return _ROLES_SQL.format(
        programme=quote(programme.db_table),
        membership=quote(membership.db_table),
        tenant=quote(tenant.db_table),
        user_id=user_id,
    )


# The tables are filled in from the models' metadata (quoted), the user id is a parameter
# or an outer query's column.
_ROLES_SQL = (
    "SELECT NULL::bigint, '', p.role FROM {programme} p "
    "WHERE p.user_id = {user_id} AND p.ended_at IS NULL "
    "UNION ALL "
    "SELECT m.tenant_id, t.code, m.role FROM {membership} m "
    "JOIN {tenant} t ON t.id = m.tenant_id "
    "WHERE m.user_id = {user_id} AND m.ended_at IS NULL AND t.status = 'active'"
)


@functools.cache
def roles_json_sql(user_model: Any, *, user_id_column: str) -> str:
    """The roles of the user whose id is in ``user_id_column`` (quoted SQL of an outer
    query's column), as a scalar subquery: a JSON array of ``[tenant id or null, tenant
    code or "", role]``, ``[]`` for none. For a query that reads the user anyway (the API
    token's, ``portal.api.authentication``) to bring the roles in the same round trip; give
    its rows to ``remember_roles``. The same rule as ``access_for`` (``_roles_sql``)."""
    return _ROLES_JSON_SQL.format(roles=_roles_sql(user_model, user_id_column))


_ROLES_JSON_SQL = (
    "(SELECT COALESCE(json_agg(json_build_array(r.tenant_id, r.code, r.role)), '[]') "
    "FROM ({roles}) r(tenant_id, code, role))"
)


def access_for(user: Any) -> Access:
    """The user's roles, from one query, cached on the user object for this request.

    One query (programme roles UNION ALL memberships), not two: every authenticated request
    reads it, so the round trip counts (bench/README.md). Its SQL is written once per
    process (``_roles_sql``), not built by the ORM on every request. No query when the roles
    came with the user (``remember_roles``: API token requests).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _ANONYMOUS
    cached = getattr(user, "_portal_access", None)
    if cached is not None:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(_roles_sql(user._meta.model), {"user_id": user.pk})
        return remember_roles(user, cursor.fetchall())


def remember_roles(user: Any, rows: Iterable[Sequence[Any]]) -> Access:
    """Cache on ``user`` (for this request) the roles read with it: ``rows`` of ``(tenant id
    or None, tenant code, role)``, as ``_roles_sql`` or ``roles_json_sql`` give them.
    Returns the user's ``Access``."""
    programme: set[str] = set()
    tenant_roles: dict[int, set[str]] = {}
    codes: dict[int, str] = {}
    for tenant_id, code, role in rows:
        if tenant_id is None:
            programme.add(role)
        else:
            tenant_roles.setdefault(tenant_id, set()).add(role)
            codes[tenant_id] = code
    access = Access(
        programme_roles=frozenset(programme),
        tenant_roles={tid: frozenset(roles) for tid, roles in tenant_roles.items()},
        tenant_codes=codes,
    )
    user._portal_access = access
    return access


def without_conflicted_users(users: QuerySet[Any], tenant_id: int) -> QuerySet[Any]:
    """``users`` without those ``Access.conflicted`` on the tenant: the same rule (an active
    membership in an active country) as a query, for lists of people (the assignee picker)."""
    members = users.model.objects.filter(
        memberships__tenant_id=tenant_id,
        memberships__tenant__status="active",
        memberships__ended_at__isnull=True,
    ).values("pk")
    return users.exclude(pk__in=members)


def forget(user: Any) -> None:
    """Drop the cached roles (after a grant or revoke)."""
    if hasattr(user, "_portal_access"):
        del user._portal_access


def acts_as_country(user: Any, tenant_id: int) -> bool:
    """Whether ``user`` sees the tenant's applications as its country does (DESIGN §5c).

    The one rule every serializer, filter, message and decision list asks: a person with any
    role in the country (official, country admin) gets the country's view of its
    applications whatever programme roles they also hold, so a JP official who is also a
    reviewer never reads JP's internal states, screening outcome or deliberation. Programme
    staff with no role in the country get the internal view; anyone else the country's.
    """
    access = access_for(user)
    return tenant_id in access.tenant_ids or not access.reads_all_tenants()


# --- Checks the services share (each passes its own words for the refusal) ------------------


def require_tenant_role(actor: Any, tenant_id: int, message: str) -> None:
    """PermissionDenied unless ``actor`` is an official or country admin of the tenant."""
    if not access_for(actor).is_official_of(tenant_id):
        raise PermissionDenied(message)


def require_any_tenant(actor: Any, message: str) -> None:
    """PermissionDenied unless ``actor`` is an official or country admin somewhere."""
    if not access_for(actor).editable_tenant_ids():
        raise PermissionDenied(message)


def require_programme_role(actor: Any, tenant_id: int, roles: Any, message: str) -> None:
    """PermissionDenied unless ``actor`` holds one of ``roles`` and no role in the tenant
    (conflict of interest)."""
    access = access_for(actor)
    if not access.has_programme_role(*roles):
        raise PermissionDenied(message)
    if access.conflicted(tenant_id):
        raise PermissionDenied(_("Conflict of interest: you hold a role in this country."))
