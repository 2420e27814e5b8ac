"""The one recording service every state-changing service calls (STYLE 5).

Call it inside the caller's ``transaction.atomic()`` so the event commits or rolls back with
the change it describes. It never swallows an error: a change that cannot be audited fails.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

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


def normalize_ip(value: str | None) -> str | None:
    """The address exactly as PostgreSQL's ``inet`` will hand it back (else the hash breaks).

    Django stores IPv6 in its cleaned form (lower case, compressed, IPv4-mapped kept
    dotted); anything that is not an address is recorded as unknown rather than refused.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return str(address) if address.version == 4 else clean_ipv6_address(str(address))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{"field": {"before": …, "after": …}}`` for the fields that differ."""
    keys = sorted(set(before) | set(after))
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    }


def _event_fields(
    *,
    verb: Verb | str,
    obj: Any,
    object_type: str,
    object_id: Any,
    object_label: str,
    tenant: Any,
    changes: dict[str, Any] | None,
    reason: str,
    role: str,
    actor: Any,
    occurred_at: datetime,
) -> tuple[dict[str, Any], Any]:
    """The hashed fields of one event, and the tenant it belongs to."""
    ctx = context.current()
    actor = actor if actor is not None else ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_label = object_label or str(obj)
        if tenant is None:
            tenant = getattr(obj, "tenant", None)
    fields: dict[str, Any] = {
        "occurred_at": occurred_at,
        "actor_id": actor.pk if actor is not None else None,
        "actor_username": actor.get_username() if actor is not None else "system",
        "actor_label": ctx.system_label[:200],
        "role": role,
        "tenant_code": getattr(tenant, "code", "") or "",
        "verb": str(Verb(verb)),
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "object_label": object_label[:200],
        "changes": normalize_changes(changes),
        "reason": reason,
        "request_id": ctx.request_id,
        "client_ip": normalize_ip(ctx.client_ip),
    }
    return fields, tenant


def _lock_chain() -> str:
    """Take the chain's transaction-level lock; return the hash of the last event."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS_HASH


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
    names the event before it and the chain has exactly one order. The lock is held until
    the caller's transaction ends: keep audited transactions short.
    """
    with transaction.atomic():
        prev_hash = _lock_chain()
        # The time is read under the lock, so time order and id order agree.
        fields, tenant = _event_fields(
            verb=verb, obj=obj, object_type=object_type, object_id=object_id,
            object_label=object_label, tenant=tenant, changes=changes, reason=reason,
            role=role, actor=actor, occurred_at=timezone.now(),
        )  # fmt: skip
        key_id, digest = event_hash(fields, prev_hash)
        return AuditEvent.objects.create(
            **fields, tenant=tenant, prev_hash=prev_hash, hash=digest, key_id=key_id
        )


def record_events(*, events: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Append many events in one transaction (imports, benchmark data); returns the count.

    Each item takes ``record_event``'s keyword arguments, plus an optional aware
    ``occurred_at`` that must not go back in time (the explorer's date filters rely on time
    and id order agreeing). Rows are chained in Python and written with ``bulk_create``.
    """
    count = 0
    with transaction.atomic():
        prev_hash = _lock_chain()
        last_time = AuditEvent.objects.order_by("-id").values_list("occurred_at", flat=True).first()
        batch: list[AuditEvent] = []
        for item in events:
            item = dict(item)
            occurred_at = item.pop("occurred_at", None) or timezone.now()
            if last_time is not None and occurred_at < last_time:
                raise ValueError(
                    f"occurred_at {occurred_at} is before the previous event ({last_time})"
                )
            last_time = occurred_at
            base = {"obj": None, "object_type": "", "object_id": "", "object_label": "", "tenant": None,
                    "changes": None, "reason": "", "role": "", "actor": None}  # fmt: skip
            fields, tenant = _event_fields(**{**base, **item}, occurred_at=occurred_at)
            key_id, digest = event_hash(fields, prev_hash)
            batch.append(
                AuditEvent(**fields, tenant=tenant, prev_hash=prev_hash, hash=digest, key_id=key_id)
            )
            prev_hash = digest
            if len(batch) >= batch_size:
                AuditEvent.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        if batch:
            AuditEvent.objects.bulk_create(batch)
            count += len(batch)
    return count
