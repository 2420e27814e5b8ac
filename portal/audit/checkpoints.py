"""Signed checkpoints of the chain head, kept outside PostgreSQL (docs/security.md).

A checkpoint is a small JSON file written through Django's storage API (the attachment
storage: a local folder, or an S3-compatible bucket in production) into
``PORTAL_AUDIT_CHECKPOINT_DIR``::

    {"created_at": "...Z", "head_hash": "...", "key_id": "...", "last_id": 1234,
     "signature": "<HMAC-SHA-256 hex of the other fields' canonical JSON>", "version": 1}

Someone who can rewrite the table (the owner role) and even re-hash it with the key would
still have to rewrite these files too: verification compares each anchored event's hash with
its checkpoint. File names sort by ``last_id`` (``<last_id:012d>-<UTC stamp>.json``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from portal.audit.chain import digest, format_time, keyring

VERSION = 1
_SIGNED = ("created_at", "head_hash", "key_id", "last_id", "version")


@dataclass(frozen=True)
class Checkpoint:
    name: str  # the file's name in the storage
    last_id: int
    head_hash: str
    created_at: str
    key_id: str
    valid: bool  # the signature checks out under a known key and the file parses

    @property
    def created(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.created_at)
        except ValueError:
            return None


def _directory() -> str:
    return settings.PORTAL_AUDIT_CHECKPOINT_DIR.strip("/")


def _signature(fields: dict[str, object], secret: bytes) -> str:
    return digest(
        orjson.dumps({k: fields[k] for k in _SIGNED}, option=orjson.OPT_SORT_KEYS), secret
    )


def parse_checkpoint(name: str, data: bytes) -> Checkpoint:
    """A checkpoint from its file; ``valid`` is False when it is damaged or forged."""
    try:
        fields = orjson.loads(data)
        last_id, head_hash = int(fields["last_id"]), str(fields["head_hash"])
        key_id, created_at = str(fields["key_id"]), str(fields["created_at"])
        secret = keyring().secrets.get(key_id)
        valid = secret is not None and hmac.compare_digest(
            _signature(fields, secret), str(fields["signature"])
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return Checkpoint(name=name, last_id=0, head_hash="", created_at="", key_id="", valid=False)
    return Checkpoint(
        name=name, last_id=last_id, head_hash=head_hash, created_at=created_at, key_id=key_id,
        valid=valid,
    )  # fmt: skip


def checkpoint_names() -> list[str]:
    """Every checkpoint file's name, oldest (lowest ``last_id``) first."""
    directory = _directory()
    if not default_storage.exists(directory):
        return []
    _, files = default_storage.listdir(directory)
    return [f"{directory}/{f}" for f in sorted(files) if f.endswith(".json")]


def load_checkpoints(*, names: list[str] | None = None) -> list[Checkpoint]:
    """The checkpoints, oldest first (all of them unless ``names`` is given)."""
    result = []
    for name in checkpoint_names() if names is None else names:
        with default_storage.open(name, "rb") as f:
            result.append(parse_checkpoint(name, f.read()))
    return sorted(result, key=lambda cp: (cp.last_id, cp.name))


def write_checkpoint(*, last_id: int, head_hash: str) -> Checkpoint:
    """Sign ``(last_id, head_hash)`` with the current audit key and store it; returns it.

    Call it only with a head that verification has just accepted (``services``).
    """
    keys = keyring()
    now = timezone.now()
    fields: dict[str, object] = {
        "created_at": format_time(now),
        "head_hash": head_hash,
        "key_id": keys.current_id,
        "last_id": last_id,
        "version": VERSION,
    }
    fields["signature"] = _signature(fields, keys.current)
    name = f"{_directory()}/{last_id:012d}-{now.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    saved = default_storage.save(
        name, ContentFile(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS))
    )
    return parse_checkpoint(saved, orjson.dumps(fields))
