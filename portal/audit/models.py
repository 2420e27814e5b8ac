from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """One append-only, hash-chained event (DESIGN §6).

    The database refuses UPDATE, DELETE and TRUNCATE on this table (migration 0002) and the
    application role holds only SELECT and INSERT on it. Foreign keys never cascade: users and
    tenants are protected from deletion while history names them.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150)  # as it was; "system" for tasks/commands
    actor_label = models.CharField(max_length=200, blank=True)  # e.g. "task:screen_application"
    role = models.CharField(max_length=30, blank=True)
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tenant_code = models.CharField(max_length=2, blank=True)
    # No `choices`: the recorder validates against `Verb` (record._event_fields), so a new verb
    # needs no migration.
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)  # HMAC-SHA-256 (portal.audit.chain)
    # Fingerprint of the audit key that signed it; "" for events from before keying.
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx"),
            models.Index(fields=["tenant", "id"], name="audit_tenant_idx"),
            models.Index(fields=["verb", "id"], name="audit_verb_idx"),
            models.Index(fields=["actor", "id"], name="audit_actor_idx"),
            # The explorer filters by the name as it was (it survives pseudonymization).
            models.Index(fields=["actor_username", "id"], name="audit_actor_name_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.verb} {self.object_type}:{self.object_id}"
