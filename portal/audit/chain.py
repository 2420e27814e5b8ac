"""The canonical encoding and the keyed hash of an audit event (documented in docs/audit.md).

hash = HMAC-SHA-256 hex, keyed with the audit key (``PORTAL_AUDIT_KEY``, kept outside the
database), of the UTF-8 bytes of ``json.dumps(payload, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, where payload holds the fields in ``HASHED_FIELDS`` plus ``prev_hash``;
``occurred_at`` is written as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, ids as strings or null,
and ``changes`` holds only strings, integers, booleans, null, lists and objects (the recorder
turns everything else, Decimal and dates included, into strings before it is stored).

Each event names the key that signed it (``key_id``, a fingerprint of the key, never the key).
Events written before keys existed carry ``key_id = ""`` and a plain SHA-256; they may only
form the start of the chain (verification refuses one after a keyed event).

orjson produces exactly the bytes of that ``json.dumps`` call (tests/portal/test_audit_keys.py
compares them), ten times faster, which is what lets a million events verify in seconds; the
standard library stays the reference an auditor uses offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from django.conf import settings

GENESIS_HASH = "0" * 64
LEGACY_KEY_ID = ""  # events hashed with plain SHA-256 before the chain was keyed

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


def key_fingerprint(secret: bytes) -> str:
    """A public name for a key: 16 hex digits of SHA-256 over a fixed prefix and the key."""
    return hashlib.sha256(b"portal-audit-key\x00" + secret).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    """The current audit key and the retired ones, oldest first (``order`` ranks them)."""

    current_id: str
    secrets: dict[str, bytes]  # key_id -> secret
    order: dict[str, int]  # key_id -> rank: a chain never goes back to an older key

    @property
    def current(self) -> bytes:
        return self.secrets[self.current_id]


@lru_cache(maxsize=4)
def _keyring(current: bytes, old: tuple[bytes, ...]) -> Keyring:
    keys = [*old, current]
    ids = [key_fingerprint(k) for k in keys]
    return Keyring(
        current_id=ids[-1],
        secrets=dict(zip(ids, keys, strict=True)),
        order={LEGACY_KEY_ID: -1, **{kid: rank for rank, kid in enumerate(ids)}},
    )


def keyring() -> Keyring:
    """The keys from settings (``PORTAL_AUDIT_KEY``, ``PORTAL_AUDIT_OLD_KEYS``)."""
    return _keyring(settings.PORTAL_AUDIT_KEY, tuple(settings.PORTAL_AUDIT_OLD_KEYS))


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
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # integers beyond 64 bits: the reference encoder
        return json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()


def canonical_payload(fields: dict[str, Any], prev_hash: str) -> bytes:
    return encode(canonical_fields(fields, prev_hash))


def digest(data: bytes, secret: bytes | None) -> str:
    """HMAC-SHA-256 hex of ``data`` under ``secret``; plain SHA-256 for legacy events."""
    if secret is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.digest(secret, data, "sha256").hex()


def event_hash(fields: dict[str, Any], prev_hash: str) -> tuple[str, str]:
    """``(key_id, hash)`` of a new event under the current audit key."""
    keys = keyring()
    return keys.current_id, digest(canonical_payload(fields, prev_hash), keys.current)
