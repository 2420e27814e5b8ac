from django.contrib import admin

from portal.audit.admin import AuditedModelAdmin
from portal.tenancy.models import Membership, ProgrammeRole, Tenant


@admin.register(Tenant)
class TenantAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "status", "time_zone")
    search_fields = ("code", "name")


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ("user", "tenant", "role")
    list_filter = ("role", "tenant")


@admin.register(ProgrammeRole)
class ProgrammeRoleAdmin(AuditedModelAdmin):
    list_display = ("user", "role")
