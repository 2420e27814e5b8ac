"""Auditors' actions on the history: each is itself recorded (DESIGN §6)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from portal.audit.checkpoints import Checkpoint, write_checkpoint
from portal.audit.export import FORMATS, stream_export
from portal.audit.record import record_event
from portal.audit.selectors import audit_events
from portal.audit.verbs import Verb
from portal.audit.verify import VerifyResult, verify_chain, verify_since_checkpoint
from portal.tenancy.roles import Role


def audit_export(
    *, actor: Any, lookups: dict[str, Any], query: dict[str, str], fmt: str
) -> Iterator[bytes]:
    """Record the export (with its filter), commit, then return the stream of it.

    The event is committed before a byte is sent, so no export goes unrecorded. The export
    covers the chain up to and including that event: what was there when it was asked for.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    queryset = audit_events(user=actor, lookups=lookups)  # refuses non-auditors first
    with transaction.atomic():
        event = record_event(
            verb=Verb.AUDIT_EXPORTED, actor=actor, role=Role.AUDITOR,
            changes={"filter": query, "format": fmt},
        )  # fmt: skip
    return stream_export(queryset.filter(id__lte=event.id), fmt)


logger = logging.getLogger(__name__)


def audit_verify(*, actor: Any, full: bool = True) -> VerifyResult:
    """Verify the chain on an auditor's request and record that it was checked.

    ``full``: every event from the first and every signed checkpoint; otherwise from the
    newest checkpoint that still matches (``verify_since_checkpoint``: seconds at most).
    Raises PermissionDenied for anyone but an auditor.
    """
    audit_events(user=actor)  # refuses non-auditors before the (long) walk
    result = verify_chain() if full else verify_since_checkpoint()
    with transaction.atomic():
        record_event(
            verb=Verb.AUDIT_VERIFIED, actor=actor, role=Role.AUDITOR,
            changes={**result.as_dict(), "full": full},
        )  # fmt: skip
    return result


def audit_status(*, actor: Any) -> VerifyResult:
    """The explorer badge: incremental verification, not recorded (it reads, costs little).

    Raises PermissionDenied for anyone but an auditor.
    """
    audit_events(user=actor)
    return verify_since_checkpoint()


def audit_checkpoint() -> tuple[VerifyResult, Checkpoint | None]:
    """Verify from the last checkpoint; when the chain holds, sign its head into a new one.

    Run hourly by beat (``audit.write_checkpoint``) and by ``manage.py audit_checkpoint``.
    A broken chain gets no checkpoint (that would bless the break): it is logged as an error
    and the result returned. The checkpoint is itself recorded (``audit.checkpointed``).
    """
    result = verify_since_checkpoint()
    if not result.ok:
        logger.error("audit chain broken, no checkpoint written: %s", result.as_dict())
        return result, None
    if result.last_id is None:
        return result, None  # an empty chain has no head to anchor
    checkpoint = write_checkpoint(last_id=result.last_id, head_hash=result.head_hash or "")
    with transaction.atomic():
        record_event(
            verb=Verb.AUDIT_CHECKPOINTED, object_type="audit.checkpoint",
            object_id=str(checkpoint.last_id), object_label=checkpoint.name[-60:],
            changes={"last_id": checkpoint.last_id, "head_hash": checkpoint.head_hash,
                     "name": checkpoint.name, "checked": result.checked},
        )  # fmt: skip
    return result, checkpoint
