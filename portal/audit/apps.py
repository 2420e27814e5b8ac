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
        checks.register(audit_key_configured, checks.Tags.security, deploy=True)
