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

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number} ({self.effective_date})"


class Territory(models.Model):
    version = models.ForeignKey(
        TerritoryListVersion, on_delete=models.PROTECT, related_name="territories"
    )
    code = models.CharField(max_length=6)
    name = models.CharField(max_length=120)
    supported = models.BooleanField()
    groups = ArrayField(models.CharField(max_length=5), default=list, blank=True)
    comprehensive_sanctions = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

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
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    findings = models.JSONField(default=list)
    task_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    objects = ScreeningQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Idempotency: one result per application version and list version.
            models.UniqueConstraint(
                fields=["application", "application_version", "list_version"], name="screening_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.application_version} {self.outcome}"
