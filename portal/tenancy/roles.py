"""The roles of DESIGN §1. Tenant roles are held per country; programme roles are global."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICIAL = "official", _("Country official")
    COUNTRY_ADMIN = "country_admin", _("Country administrator")
    REVIEWER = "reviewer", _("Technical reviewer")
    SECURITY_REVIEWER = "security_reviewer", _("Security reviewer")
    COMPLIANCE_OFFICER = "compliance_officer", _("Compliance officer")
    US_COORDINATOR = "us_coordinator", _("US coordinator")
    APPROVER = "approver", _("Approver")
    AUDITOR = "auditor", _("Auditor")
    PLATFORM_ADMIN = "platform_admin", _("Platform administrator")


TENANT_ROLES = frozenset({Role.OFFICIAL, Role.COUNTRY_ADMIN})
PROGRAMME_ROLES = frozenset(set(Role) - TENANT_ROLES)
# Programme roles that may read every country's submitted applications.
PROGRAMME_READERS = frozenset(PROGRAMME_ROLES - {Role.PLATFORM_ADMIN})


def role_label(code: str) -> str:
    """A role's name in the reader's language (``"approver"`` → ``Approver``); a code that is
    no role (an old or system one, e.g. ``screening``) is shown as it is."""
    try:
        return str(Role(code).label)
    except ValueError:
        return code
