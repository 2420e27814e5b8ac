"""Celery tasks of partnerships: thin, take ids, call a service, idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from partnerships.commitments.payments import mark_overdue_tranches as mark_tranches
from partnerships.notifications import deliver_pending
from partnerships.services import mark_overdue_work
from portal.context import actor_context
from portal.queue import enqueue_or_log


@shared_task(name="partnerships.deliver_outbox", acks_late=True)
def deliver_outbox() -> int:
    with actor_context(system_label="task:partnerships.deliver_outbox"):
        return deliver_pending()


@shared_task(name="partnerships.mark_overdue", acks_late=True)
def mark_overdue() -> dict[str, int]:
    with actor_context(system_label="task:partnerships.mark_overdue"):
        return mark_overdue_work()


@shared_task(name="partnerships.mark_overdue_tranches", acks_late=True)
def mark_overdue_tranches() -> int:
    """Hourly (beat): confirmed commitments' scheduled tranches past due become overdue."""
    with actor_context(system_label="task:partnerships.mark_overdue_tranches"):
        return mark_tranches()


def on_outbox_filled(sender: Any, **kwargs: Any) -> None:
    """Receiver of ``partnerships.notifications.outbox_filled`` (after commit)."""
    enqueue_or_log(deliver_outbox, what="outbox delivery", recovered_by="the beat's retry")
