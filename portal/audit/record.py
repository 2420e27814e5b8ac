"""The one recording service every state-changing service calls (STYLE 5).

Call it inside the caller's ``transaction.atomic()`` so the event commits or rolls back with
the change it describes. It never swallows an error: a change that cannot be audited fails.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from portal import context
from portal.audit.chain import GENESIS_HASH, event_hash
from portal.audit.models import AuditEvent
from portal.audit.verbs import Verb

# Arbitrary constant naming the audit chain's advisory lock.
AUDIT_CHAIN_LOCK = 0x41554454  # "AUDT"


class _Encoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        return super().default(o)


def normalize_changes(changes: dict[str, Any] | None) -> dict[str, Any]:
    """Plain JSON only (floats and Decimals become strings) so the hash survives jsonb."""

    def fix(value: Any) -> Any:
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, dict):
            return {str(k): fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(json.loads(json.dumps(changes or {}, cls=_Encoder)))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{"field": {"before": …, "after": …}}`` for the fields that differ."""
    keys = sorted(set(before) | set(after))
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    }


def record_event(
    *,
    verb: Verb,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    object_label: str = "",
    tenant: Any = None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    role: str = "",
    actor: Any = None,
) -> AuditEvent:
    """Append one event to the chain, attributed to ``actor`` or the current actor context.

    Appends are serialized by a transaction-level advisory lock, so ``prev_hash`` always
    names the event before it and the chain has exactly one order.
    """
    ctx = context.current()
    actor = actor if actor is not None else ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)[:200]
        if tenant is None:
            tenant = getattr(obj, "tenant", None)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        fields: dict[str, Any] = {
            "occurred_at": timezone.now(),
            "actor_id": actor.pk if actor is not None else None,
            "actor_username": actor.get_username() if actor is not None else "system",
            "actor_label": ctx.system_label,
            "role": role,
            "tenant_code": getattr(tenant, "code", "") or "",
            "verb": str(verb),
            "object_type": object_type,
            "object_id": str(object_id or ""),
            "object_label": object_label,
            "changes": normalize_changes(changes),
            "reason": reason,
            "request_id": ctx.request_id,
            "client_ip": ctx.client_ip,
        }
        prev_hash = last or GENESIS_HASH
        return AuditEvent.objects.create(
            **fields,
            tenant=tenant,
            prev_hash=prev_hash,
            hash=event_hash(fields, prev_hash),
        )
