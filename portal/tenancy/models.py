from __future__ import annotations

import zoneinfo
from typing import Any, Self

import pycountry
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy.access import access_for
from portal.tenancy.querysets import Action, RestrictedQuerySet
from portal.tenancy.roles import PROGRAMME_ROLES, TENANT_ROLES, Role


def validate_country_code(value: str) -> None:
    if pycountry.countries.get(alpha_2=value) is None or value != value.upper():
        raise ValidationError(
            _("%(value)s is not an ISO 3166-1 alpha-2 country code."), params={"value": value}
        )


def validate_language_code(value: str) -> None:
    if len(value) != 2 or pycountry.languages.get(alpha_2=value) is None:
        raise ValidationError(
            _("%(value)s is not an ISO 639-1 language code."), params={"value": value}
        )


def validate_time_zone(value: str) -> None:
    """An IANA time-zone name known to this machine's zoneinfo (e.g. ``Asia/Tokyo``)."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone (e.g. Asia/Tokyo)."), params={"value": value}
        )


class TenantQuerySet(RestrictedQuerySet):
    tenant_path = "id"

    def restrict(self, user: Any, action: Action = "view") -> Self:
        """Programme staff see every country; platform admins also change them; a country's
        people see their own countries."""
        if access_for(user).has_programme_role(Role.PLATFORM_ADMIN):
            return self.all()
        return super().restrict(user, action)


class Tenant(models.Model):
    """A partner country. Its officials see its data and nothing else."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    code = models.CharField(max_length=2, unique=True, validators=[validate_country_code])
    name = models.CharField(max_length=100)
    languages = ArrayField(
        models.CharField(max_length=2, validators=[validate_language_code]), default=list
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The country's civil time zone: "today" for its dates (commitment date, target online
    # date, condition due dates, overdue marking). Blank: see portal.tenancy.dates.
    time_zone = models.CharField(
        max_length=64, blank=True, default="", validators=[validate_time_zone]
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Membership(models.Model):
    """A tenant role (``official`` or ``country_admin``) held by a user in one country."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(
        max_length=20, choices=[(r.value, r.label) for r in Role if r in TENANT_ROLES]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the person is deactivated: the row stays, so who held the role, and when,
    # remains answerable; only rows without it grant anything.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}@{self.tenant.code}"


class ProgrammeRole(models.Model):
    """A programme-wide role (reviewer, auditor …) held by a user."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="programme_roles"
    )
    role = models.CharField(
        max_length=20, choices=[(r.value, r.label) for r in Role if r in PROGRAMME_ROLES]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)  # as Membership.ended_at

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="programme_role_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}"
