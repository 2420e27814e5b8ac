"""One choke point for tenant scoping (STYLE 1; after NetBox's RestrictedQuerySet).

Every tenant-owned model's manager is built from ``RestrictedQuerySet``; every view and
viewset reads through ``restrict(user, action)``.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from django.db import models

from portal.tenancy.access import access_for

Action = Literal["view", "change"]


class RestrictedQuerySet(models.QuerySet):
    #: Path from the model to its Tenant, e.g. "tenant" or "application__tenant".
    tenant_path = "tenant"

    def restrict(self, user: Any, action: Action = "view") -> Self:
        """Rows ``user`` may ``view`` or ``change``; nothing for an anonymous or inactive user."""
        access = access_for(user)
        if action == "view" and access.reads_all_tenants():
            return self.programme_view(access)
        tenant_ids = access.tenant_ids if action == "view" else access.editable_tenant_ids()
        if not tenant_ids:
            return self.none()
        return self.filter(**{f"{self.tenant_path}__in": tenant_ids})

    def programme_view(self, access: Any) -> Self:
        """What programme staff see; a model may narrow it (e.g. no drafts)."""
        return self.all()
