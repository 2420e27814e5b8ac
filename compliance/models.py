"""The territory list (versioned) and screening results (DESIGN §3)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy.querysets import RestrictedQuerySet


class TerritoryListVersion(models.Model):
    number = models.PositiveIntegerField(unique=True)
    effective_date = models.DateField()
    source = models.TextField()
    # Not unique: a list may return to an earlier content (a change reverted) as a new version.
    checksum = models.CharField(max_length=64, db_index=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    diff = models.JSONField(default=dict, blank=True)
    rescreen_total = models.PositiveIntegerField(default=0)
    rescreen_done = models.PositiveIntegerField(default=0)
    # Set when the re-screening fan-out starts; the sweep restarts a fan-out that never did.
    rescreen_started_at = models.DateTimeField(null=True, blank=True)
    # The source records of compliance/data/SOURCES.md this version's rows cite, by id:
    # {id: {title, url, date (ISO or null), date_meaning, date_unknown, via, establishes}}.
    sources = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number} ({self.effective_date})"


class ScreeningPolicyVersion(models.Model):
    """One recorded content of ``screening_policy.json``; a new checksum is a new version.

    Recorded like a territory list version: screenings name the version they used, and a new
    version resets and re-screens the applications that are not final.
    """

    number = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    checksum = models.CharField(max_length=64, db_index=True)
    content = models.JSONField()
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"policy v{self.number} {self.name}"


class Territory(models.Model):
    class Basis(models.TextChoices):
        CURRENT_LIST = "current_list", _("On the provider's current list")
        OLDER_LIST_ONLY = "older_list_only", _("Only on the provider's older list")
        NOT_LISTED = "not_listed", _("Not listed")

    version = models.ForeignKey(
        TerritoryListVersion, on_delete=models.PROTECT, related_name="territories"
    )
    code = models.CharField(max_length=6)
    name = models.CharField(max_length=120)
    supported = models.BooleanField()
    basis = models.CharField(max_length=20, choices=Basis.choices)
    groups = ArrayField(models.CharField(max_length=5), default=list, blank=True)
    comprehensive_sanctions = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    # The id of the source record (TerritoryListVersion.sources) behind each fact:
    # {"supported": id, "groups": id, "sanctions": id or ""}.
    sources = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="territory_unique_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ScreeningQuerySet(RestrictedQuerySet):
    tenant_path = "application__tenant"


class ScreeningResult(models.Model):
    class Outcome(models.TextChoices):
        CLEAR = "clear", _("Clear")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        BLOCKED = "blocked", _("Blocked")

    application = models.ForeignKey(
        "partnerships.CountryApplication", on_delete=models.PROTECT, related_name="screenings"
    )
    application_version = models.PositiveIntegerField()
    list_version = models.ForeignKey(
        TerritoryListVersion, on_delete=models.PROTECT, related_name="+"
    )
    # Null only for results recorded before policies were versioned.
    policy_version = models.ForeignKey(
        ScreeningPolicyVersion, on_delete=models.PROTECT, related_name="+", null=True
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    findings = models.JSONField(default=list)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Idempotency: one result per application version, list version and policy version.
            models.UniqueConstraint(
                fields=["application", "application_version", "list_version", "policy_version"],
                name="screening_once_per_policy",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.application_version} {self.outcome}"
