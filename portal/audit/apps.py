from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


def audit_key_configured(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy``: the audit key must come from the deployment, not .data/."""
    if settings.PORTAL_AUDIT_KEY_CONFIGURED:
        return []
    return [
        checks.Warning(
            "PORTAL_AUDIT_KEY (or PORTAL_AUDIT_KEY_FILE) is not set: the audit chain is keyed "
            "with a key generated into .data/ (development only).",
            hint="Set it from the deployment's secret store; see docs/security.md.",
            id="portal.W001",
        )
    ]


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed

        from portal.audit import security

        checks.register(audit_key_configured, checks.Tags.security, deploy=True)
        user_locked_out.connect(security.on_axes_locked_out, dispatch_uid="audit_locked_out")
        user_login_failed.connect(security.on_login_failed, dispatch_uid="audit_account_wait")
