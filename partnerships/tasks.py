"""Celery tasks of partnerships: thin, take ids, call a service, idempotent."""

from __future__ import annotations

from celery import shared_task

from portal.context import actor_context


@shared_task(name="partnerships.deliver_outbox", acks_late=True)
def deliver_outbox() -> int:
    from partnerships.notifications import deliver_pending

    with actor_context(system_label="task:partnerships.deliver_outbox"):
        return deliver_pending()


@shared_task(name="partnerships.mark_overdue", acks_late=True)
def mark_overdue() -> dict[str, int]:
    from partnerships.services import mark_overdue_work

    with actor_context(system_label="task:partnerships.mark_overdue"):
        return mark_overdue_work()


@shared_task(name="partnerships.mark_overdue_tranches", acks_late=True)
def mark_overdue_tranches() -> int:
    """Hourly (beat): confirmed commitments' scheduled tranches past due become overdue."""
    from partnerships.commitments import mark_overdue_tranches as mark

    with actor_context(system_label="task:partnerships.mark_overdue_tranches"):
        return mark()
