"""Who may do what with a commitment: the role checks every page, API view and service uses.

Each ``require_*`` raises ``PermissionDenied`` (403) when the actor lacks the role; the
programme checks also refuse anyone with a role in the commitment's country (conflict of
interest, ``portal.tenancy.access``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from portal.tenancy.access import require_any_tenant, require_programme_role, require_tenant_role
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role
from portal.tenancy.services import tenant_for_official

#: Roles that may mark a tranche paid.
PAYMENT_ROLES = (Role.APPROVER, Role.COMPLIANCE_OFFICER)


def resolve_tenant(*, actor: Any, tenant_code: str | None) -> Tenant:
    """The country an official records a commitment for: named, or their only one."""
    return tenant_for_official(
        actor=actor,
        tenant_code=tenant_code,
        refused=_("Only country officials record commitments."),
        not_yours=_("You cannot record commitments for %(code)s."),
    )


def require_official(actor: Any, tenant_id: int) -> None:
    """Only the country's officials (and country admins) change its commitments."""
    require_tenant_role(actor, tenant_id, _("Only the country's officials change its commitments."))


def require_programme(actor: Any, tenant_id: int, roles: Sequence[str], message: str) -> None:
    """One of the programme ``roles``, with no role in the country; else 403 with ``message``."""
    require_programme_role(actor, tenant_id, roles, message)


def require_confirmer(actor: Any, tenant_id: int) -> None:
    """Who may confirm: an approver with no role in the country."""
    require_programme(
        actor, tenant_id, (Role.APPROVER,), _("Only an approver confirms commitments.")
    )


def require_payer(actor: Any, tenant_id: int) -> None:
    """Who may record a payment: an approver or compliance officer with no role in the country."""
    require_programme(
        actor,
        tenant_id,
        PAYMENT_ROLES,
        _("Only an approver or a compliance officer records payments."),
    )


def require_creator(actor: Any) -> None:
    """Only a country's officials record commitments (checked before the body is read)."""
    require_any_tenant(actor, _("Only the country's officials change its commitments."))
