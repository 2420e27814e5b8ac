"""The canonical encoding and hash of an audit event (documented in docs/audit.md).

hash = SHA-256 hex of the UTF-8 bytes of ``json.dumps(payload, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)``, where payload holds the fields in
``HASHED_FIELDS`` plus ``prev_hash``; ``occurred_at`` is written as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, ids as strings or null, and ``changes`` holds only
strings, integers, booleans, null, lists and objects (the recorder turns everything else,
Decimal and dates included, into strings before it is stored).

The JSONL export writes each event as exactly this payload plus ``id`` and ``hash``, so an
export verifies offline with the standard library alone.
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


def canonical_fields(fields: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    """The hashed payload as a dict: the fields of ``HASHED_FIELDS`` in their fixed formats."""
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    occurred_at = fields["occurred_at"]
    payload["occurred_at"] = (
        occurred_at if isinstance(occurred_at, str) else format_time(occurred_at)
    )
    payload["actor_id"] = None if fields.get("actor_id") is None else str(fields["actor_id"])
    payload["prev_hash"] = prev_hash
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_payload(fields: dict[str, Any], prev_hash: str) -> bytes:
    return encode(canonical_fields(fields, prev_hash))


def event_hash(fields: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_payload(fields, prev_hash)).hexdigest()
