"""Walk the audit chain in id order, streaming, in constant memory."""

from __future__ import annotations

from dataclasses import dataclass

from portal.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash
from portal.audit.models import AuditEvent

_COLUMNS = ("id", "prev_hash", "hash", *HASHED_FIELDS)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None
    # "hash" (the event's content no longer matches its hash) or "link" (its prev_hash does
    # not name the event before it: that one was rewritten and re-hashed, or deleted).
    problem: str | None = None
    last_id: int | None = None  # the head of the chain when ok: note it down to anchor the
    head_hash: str | None = None  # chain outside the database (docs/audit.md)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_id": self.first_bad_id,
            "problem": self.problem,
            "last_id": self.last_id,
            "head_hash": self.head_hash,
        }


def verify_chain(*, chunk_size: int = 5000) -> VerifyResult:
    """Recompute every hash; report the first event whose hash or link does not match.

    Reads through a server-side cursor (``iterator``), so memory stays flat however long the
    chain is; the one query sees one snapshot, so appends made meanwhile are not half-read.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = None
    rows = AuditEvent.objects.order_by("id").values_list(*_COLUMNS).iterator(chunk_size=chunk_size)
    for row in rows:
        event = dict(zip(_COLUMNS, row, strict=True))
        checked += 1
        if event_hash(event, event["prev_hash"]) != event["hash"]:
            return VerifyResult(ok=False, checked=checked, first_bad_id=event["id"], problem="hash")
        if event["prev_hash"] != expected_prev:
            return VerifyResult(ok=False, checked=checked, first_bad_id=event["id"], problem="link")
        expected_prev = event["hash"]
        last_id = event["id"]
    return VerifyResult(
        ok=True,
        checked=checked,
        first_bad_id=None,
        last_id=last_id,
        head_hash=None if last_id is None else expected_prev,
    )
