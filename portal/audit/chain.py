"""The canonical encoding and hash of an audit event (documented in docs/audit.md).

hash = SHA-256 hex of the UTF-8 bytes of ``json.dumps(payload, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``, where payload holds the fields in
``HASHED_FIELDS`` plus ``prev_hash``; ``occurred_at`` is written as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, ids as strings or null, and ``changes`` holds only
strings, integers, booleans, null, lists and objects (the recorder turns everything else,
Decimal and dates included, into strings before it is stored).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_label",
    "role",
    "tenant_code",
    "verb",
    "object_type",
    "object_id",
    "object_label",
    "changes",
    "reason",
    "request_id",
    "client_ip",
)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_payload(fields: dict[str, Any], prev_hash: str) -> bytes:
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    payload["occurred_at"] = format_time(fields["occurred_at"])
    payload["actor_id"] = None if fields.get("actor_id") is None else str(fields["actor_id"])
    payload["prev_hash"] = prev_hash
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(fields: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_payload(fields, prev_hash)).hexdigest()
