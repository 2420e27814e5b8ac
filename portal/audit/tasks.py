"""The audit's periodic task: a signed checkpoint of the chain head, hourly (beat)."""

from __future__ import annotations

from celery import shared_task

from portal.audit.services import audit_checkpoint
from portal.context import actor_context


@shared_task(name="audit.write_checkpoint", acks_late=True)
def write_checkpoint() -> dict[str, object]:
    with actor_context(system_label="task:audit.write_checkpoint"):
        result, checkpoint = audit_checkpoint()
    return {**result.as_dict(), "written": checkpoint.name if checkpoint else None}
