from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.accounts.models import User
from portal.audit.admin import AuditedModelAdmin


@admin.register(User)
class PortalUserAdmin(AuditedModelAdmin, UserAdmin):
    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # users are deactivated, never deleted
