from django.contrib import admin

from portal.tenancy.models import Membership, ProgrammeRole, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "status")
    search_fields = ("code", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role")
    list_filter = ("role", "tenant")


@admin.register(ProgrammeRole)
class ProgrammeRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role")
