"""Who may see what: the roles of a user, read once per request and cached on the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, CharField, QuerySet, Value
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


def access_for(user: Any) -> Access:
    """The user's roles, from one query, cached on the user object for this request.

    One query (programme roles UNION ALL memberships), not two: every authenticated request
    reads it, so the round trip counts (bench/README.md). The rows are read through the
    user's own relations (``programme_roles``, ``memberships``), so this module needs no
    import of the models, which build their restricted querysets on it (no cycle).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _ANONYMOUS
    cached = getattr(user, "_portal_access", None)
    if cached is not None:
        return cached
    programme_rows = user.programme_roles.filter(ended_at__isnull=True).values_list(
        Value(None, output_field=BigIntegerField()),
        Value("", output_field=CharField()),
        "role",
    )
    membership_rows = user.memberships.filter(
        tenant__status="active", ended_at__isnull=True
    ).values_list("tenant_id", "tenant__code", "role")
    programme: set[str] = set()
    tenant_roles: dict[int, set[str]] = {}
    codes: dict[int, str] = {}
    for tenant_id, code, role in programme_rows.union(membership_rows, all=True):
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
