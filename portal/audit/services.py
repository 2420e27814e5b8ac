"""Auditors' actions on the history: each is itself recorded (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction

from portal.audit.export import FORMATS, stream_export
from portal.audit.record import record_event
from portal.audit.selectors import audit_events
from portal.audit.verbs import Verb
from portal.audit.verify import VerifyResult, verify_chain
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


def audit_verify(*, actor: Any) -> VerifyResult:
    """Verify the whole chain on an auditor's request and record that it was checked."""
    audit_events(user=actor)  # refuses non-auditors before the (long) walk
    result = verify_chain()
    with transaction.atomic():
        record_event(
            verb=Verb.AUDIT_VERIFIED, actor=actor, role=Role.AUDITOR, changes=result.as_dict()
        )
    return result
