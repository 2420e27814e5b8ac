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

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checked": self.checked, "first_bad_id": self.first_bad_id}


def verify_chain(*, chunk_size: int = 5000) -> VerifyResult:
    """Recompute every hash; report the first event whose hash or link does not match.

    Reads through a server-side cursor (``iterator``), so memory stays flat however long the
    chain is.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    rows = AuditEvent.objects.order_by("id").values_list(*_COLUMNS).iterator(chunk_size=chunk_size)
    for row in rows:
        event = dict(zip(_COLUMNS, row, strict=True))
        checked += 1
        if event["prev_hash"] != expected_prev or event_hash(event, expected_prev) != event["hash"]:
            return VerifyResult(ok=False, checked=checked, first_bad_id=event["id"])
        expected_prev = event["hash"]
    return VerifyResult(ok=True, checked=checked, first_bad_id=None)
