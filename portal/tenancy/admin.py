from typing import Any

from django.contrib import admin

from portal.audit.admin import AuditedModelAdmin
from portal.tenancy.models import Membership, ProgrammeRole, Tenant


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "status", "time_zone")
    search_fields = ("code", "name")


class _ReadOnly(AuditedModelAdmin):
    """Roles are granted by invitation (/people/), never here: read-only."""

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(_ReadOnly):
    list_display = ("user", "tenant", "role", "created_at", "ended_at")
    list_filter = ("role", "tenant")


@admin.register(ProgrammeRole)
class ProgrammeRoleAdmin(_ReadOnly):
    list_display = ("user", "role", "created_at", "ended_at")
