"""Applications, decisions, partnerships, obligations, commitments (DESIGN §3)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.tenancy.querysets import RestrictedQuerySet

USER = settings.AUTH_USER_MODEL


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCREENING = "screening", _("Screening")
    SCREENING_HOLD = "screening_hold", _("Screening hold")
    TECHNICAL_REVIEW = "technical_review", _("Technical review")
    SECURITY_REVIEW = "security_review", _("Security review")
    US_COORDINATION = "us_coordination", _("US coordination")
    FINAL_REVIEW = "final_review", _("Final review")
    INFO_REQUESTED = "info_requested", _("Information requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Sector(models.TextChoices):
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    PUBLIC_SERVICES = "public_services", _("Public services")
    OTHER = "other", _("Other")


class ApplicationQuerySet(RestrictedQuerySet):
    def programme_view(self, access: Any) -> ApplicationQuerySet:
        # Drafts are the country's own work in progress; the programme sees submissions.
        return self.exclude(state=State.DRAFT, submitted_at__isnull=True)


class CountryApplication(models.Model):
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.PROTECT, related_name="applications"
    )
    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    state = models.CharField(
        max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    version = models.PositiveIntegerField(default=1)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Localization
    languages = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    sectors = ArrayField(
        models.CharField(max_length=20, choices=Sector.choices), default=list, blank=True
    )
    other_sector = models.CharField(max_length=200, blank=True)
    customization_notes = models.TextField(blank=True)
    # Data sovereignty
    data_residency_required = models.BooleanField(null=True, blank=True)
    data_categories = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    # Security commitments (yes/no, evidence as attachments)
    hardware_security = models.BooleanField(null=True, blank=True)
    zero_trust = models.BooleanField(null=True, blank=True)
    encryption = models.BooleanField(null=True, blank=True)
    personnel_oversight = models.BooleanField(null=True, blank=True)
    # Start-up fund
    startup_fund_amount = models.DecimalField(
        max_digits=24, decimal_places=4, null=True, blank=True
    )
    startup_fund_currency = models.CharField(max_length=3, blank=True)
    # Derived: sum of the sites' estimates
    estimated_annual_co2_tonnes = models.DecimalField(
        max_digits=16, decimal_places=1, null=True, blank=True
    )

    # Written by compliance (partnerships never imports it): the last screening's outcome,
    # against which territory-list version. Reset when a new list version loads.
    screening_outcome = models.CharField(max_length=20, blank=True)
    screening_list_version = models.PositiveIntegerField(null=True, blank=True)
    screening_summary = models.JSONField(default=list, blank=True)
    screening_hold_cleared = models.BooleanField(default=False)

    # Work management
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    stage_due_at = models.DateTimeField(null=True, blank=True)
    overdue_notified = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    info_requested_from = models.CharField(max_length=20, choices=State.choices, blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "state"], name="application_tenant_state_idx"),
            # The reviewer queue's order (selectors: due first, then id), whole: with the due
            # date alone, every row sharing the first page's due date was read and sorted, a
            # cost that grew with the table (bench/README.md, growth).
            models.Index(fields=["stage_due_at", "id"], name="application_due_idx"),
        ]
        permissions = [("review_application", "Is assigned to review the application")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    SECURITY_FIELDS = ("hardware_security", "zero_trust", "encryption", "personnel_oversight")

    def sector_labels(self) -> list[str]:
        labels = dict(Sector.choices)
        return [str(labels.get(code, code)) for code in self.sectors]


class ReferenceCounter(models.Model):
    """Last reference number handed out per country and year; references are never reused."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "year"], name="reference_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.year}: {self.last}"


class SiteQuerySet(RestrictedQuerySet):
    tenant_path = "application__tenant"


class Site(models.Model):
    application = models.ForeignKey(
        CountryApplication, on_delete=models.CASCADE, related_name="sites"
    )
    position = models.PositiveSmallIntegerField(default=0)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=120)
    capacity_mw = models.DecimalField(max_digits=10, decimal_places=3)
    target_online_date = models.DateField()
    energy_mix = models.JSONField(default=dict)
    pue = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    utilisation = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    estimated_annual_co2_tonnes = models.DecimalField(
        max_digits=16, decimal_places=1, null=True, blank=True
    )

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity_mw__gt=0), name="site_capacity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.region}"


class AttachmentQuerySet(RestrictedQuerySet):
    tenant_path = "application__tenant"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploaded name: it is untrusted and may collide.
    return f"attachments/{instance.application.tenant.code}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    class Evidence(models.TextChoices):
        NONE = "", _("General")
        HARDWARE_SECURITY = "hardware_security", _("Hardware security")
        ZERO_TRUST = "zero_trust", _("Zero-trust architecture")
        ENCRYPTION = "encryption", _("Encryption at rest and in transit")
        PERSONNEL_OVERSIGHT = "personnel_oversight", _("Personnel access oversight")

    application = models.ForeignKey(
        CountryApplication, on_delete=models.PROTECT, related_name="attachments"
    )
    obligation = models.ForeignKey(
        "Obligation", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    reply = models.ForeignKey(
        "InformationReply",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    evidence_for = models.CharField(max_length=30, choices=Evidence.choices, blank=True)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class DecisionQuerySet(RestrictedQuerySet):
    tenant_path = "application__tenant"


class Decision(models.Model):
    """Immutable record of one workflow action."""

    application = models.ForeignKey(
        CountryApplication, on_delete=models.PROTECT, related_name="decisions"
    )
    action = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    role = models.CharField(max_length=30)
    rationale = models.TextField(blank=True)
    message_to_country = models.TextField(blank=True)
    risk_level = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    application_version = models.PositiveIntegerField()

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action} {self.from_state}->{self.to_state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Decisions are immutable.")
        super().save(*args, **kwargs)


class InformationReplyQuerySet(RestrictedQuerySet):
    tenant_path = "application__tenant"


class InformationReply(models.Model):
    """The country's answer to an information request: text and files, shown to reviewers
    beside the question and kept in the decision history. Immutable once written."""

    application = models.ForeignKey(
        CountryApplication, on_delete=models.PROTECT, related_name="info_replies"
    )
    request = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="replies")
    text = models.TextField()
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    author_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InformationReplyQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.application_id} reply to {self.request_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Replies are immutable.")
        super().save(*args, **kwargs)


class PartnershipQuerySet(RestrictedQuerySet):
    pass


class Partnership(models.Model):
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.PROTECT, related_name="partnerships"
    )
    application = models.OneToOneField(
        CountryApplication, on_delete=models.PROTECT, related_name="partnership"
    )
    effective_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    flagged = models.BooleanField(default=False)
    flag_reason = models.TextField(blank=True)

    objects = PartnershipQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Partnership {self.tenant.code} ({self.application.reference})"


class ObligationQuerySet(RestrictedQuerySet):
    pass


class Obligation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MET = "met", _("Met")
        OVERDUE = "overdue", _("Overdue")

    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.PROTECT, related_name="obligations"
    )
    application = models.ForeignKey(
        CountryApplication, on_delete=models.PROTECT, related_name="obligations"
    )
    partnership = models.ForeignKey(
        Partnership, null=True, blank=True, on_delete=models.PROTECT, related_name="obligations"
    )
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="obligations")
    text = models.TextField()
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    met_at = models.DateTimeField(null=True, blank=True)
    met_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    met_note = models.TextField(blank=True)

    objects = ObligationQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class OutboxEmail(models.Model):
    """An e-mail written in the same transaction as the change it reports; a task delivers it."""

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


# --- Co-investment --------------------------------------------------------------------------


class FxRate(models.Model):
    """USD per unit of a currency on a date, from the shipped rate table (with its source)."""

    date = models.DateField()
    currency = models.CharField(max_length=3)
    usd_per_unit = models.DecimalField(max_digits=24, decimal_places=12)
    source = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["currency", "date"], name="fx_rate_unique")]
        ordering = ["currency", "-date"]

    def __str__(self) -> str:
        return f"{self.currency} {self.date} {self.usd_per_unit}"


class CommitmentQuerySet(RestrictedQuerySet):
    pass


class CoInvestmentCommitment(models.Model):
    class Vehicle(models.TextChoices):
        GLOBAL_EXPANSION = "global_expansion", _("Global infrastructure expansion")
        NATIONAL_STARTUP_FUND = "national_startup_fund", _("National start-up fund")
        IN_COUNTRY_INFRASTRUCTURE = "in_country_infrastructure", _("In-country infrastructure")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.PROTECT, related_name="commitments"
    )
    application = models.ForeignKey(
        CountryApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
    )
    partnership = models.ForeignKey(
        Partnership, null=True, blank=True, on_delete=models.PROTECT, related_name="commitments"
    )
    vehicle = models.CharField(max_length=30, choices=Vehicle.choices)
    amount = models.DecimalField(max_digits=20, decimal_places=3)
    currency = models.CharField(max_length=3)
    commitment_date = models.DateField()
    fx_rate = models.DecimalField(max_digits=24, decimal_places=12)
    fx_rate_date = models.DateField()
    usd_amount = models.DecimalField(max_digits=24, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.tenant.code} {self.vehicle} {self.amount} {self.currency}"


class TrancheQuerySet(RestrictedQuerySet):
    tenant_path = "commitment__tenant"


class Tranche(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        CANCELLED = "cancelled", _("Cancelled")

    commitment = models.ForeignKey(
        CoInvestmentCommitment, on_delete=models.CASCADE, related_name="tranches"
    )
    due_date = models.DateField()
    amount = models.DecimalField(max_digits=20, decimal_places=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)

    objects = TrancheQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="tranche_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.due_date} {self.amount}"
