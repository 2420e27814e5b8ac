"""The admin, minus every secret and every unaudited change (DESIGN §5b).

- No API token, no authenticator key, no recovery code is shown: their models are not
  registered (tokens are listed and revoked by their owner; devices are reset from /people/).
- Every model a platform admin can change here is audited: users, groups and django-axes'
  records are re-registered through ``AuditedModelAdmin``.
- Roles are granted by invitation only: memberships and programme roles are read-only here,
  and a user's staff/superuser flags, groups and permissions cannot be edited, so nobody
  grants a role (or a privilege) to themselves.
"""

from __future__ import annotations

from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import User
from portal.audit.admin import AuditedModelAdmin

for _model in (TOTPDevice, StaticDevice, Group, AccessAttempt, AccessLog, AccessFailureLog):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class PortalUserAdmin(AuditedModelAdmin, UserAdmin):
    readonly_fields = ("is_staff", "is_superuser", "groups", "user_permissions", "last_login",
                       "date_joined")  # fmt: skip

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # users are deactivated, never deleted


@admin.register(Group)
class PortalGroupAdmin(AuditedModelAdmin, GroupAdmin):
    pass


@admin.register(AccessAttempt)
class PortalAccessAttemptAdmin(AuditedModelAdmin, axes_admin.AccessAttemptAdmin):
    """Deleting an attempt unlocks an address; audited like any other change."""


@admin.register(AccessLog)
class PortalAccessLogAdmin(AuditedModelAdmin, axes_admin.AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class PortalAccessFailureLogAdmin(AuditedModelAdmin, axes_admin.AccessFailureLogAdmin):
    pass
