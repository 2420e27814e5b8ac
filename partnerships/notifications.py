"""E-mail through an outbox: rows written in the transaction of the change, sent by a task.

A Redis outage at commit time therefore loses nothing: the beat schedule retries unsent rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from partnerships.models import CountryApplication, Decision, OutboxEmail
from portal.tenancy.roles import Role


def _officials(application: CountryApplication) -> list[str]:
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            memberships__tenant_id=application.tenant_id,
            memberships__role__in=[Role.OFFICIAL, Role.COUNTRY_ADMIN],
            memberships__ended_at__isnull=True,
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def _role_holders(role: str) -> list[str]:
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True, programme_roles__role=role, programme_roles__ended_at__isnull=True
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def queue(recipients: list[str], subject: str, body: str) -> None:
    """Write outbox rows (inside the caller's transaction); delivery is kicked after commit."""
    OutboxEmail.objects.bulk_create(
        [OutboxEmail(to=to, subject=subject[:200], body=body) for to in recipients]
    )
    if recipients:
        transaction.on_commit(_kick_delivery)


def _kick_delivery() -> None:
    from partnerships.tasks import deliver_outbox

    try:
        deliver_outbox.delay()
    except Exception:
        import logging

        logging.getLogger(__name__).warning("outbox delivery not enqueued; beat will retry")


def queue_for_transition(application: CountryApplication, decision: Decision) -> None:
    """Tell the country about released changes and the next stage's people about new work."""
    from partnerships.workflow import STATE_ROLE, public_state

    with translation.override("en"):
        before, after = public_state(decision.from_state), public_state(decision.to_state)
        if before != after or decision.message_to_country or decision.action == "request_info":
            lines = [f"Application {application.reference} ({application.title}): {after}."]
            if decision.action == "request_info":
                lines.append(f"Questions from the programme:\n{decision.rationale}")
            if decision.message_to_country:
                lines.append(decision.message_to_country)
            queue(_officials(application), f"[{application.reference}] {after}", "\n\n".join(lines))
        role = STATE_ROLE.get(decision.to_state)  # type: ignore[call-overload]
        if role and decision.from_state != decision.to_state:
            queue(
                _role_holders(role),
                f"[{application.reference}] waiting for {role.replace('_', ' ')}",
                f"Application {application.reference} ({application.tenant.code}) entered {decision.to_state}.",
            )


def notify_users(users: Any, subject: str, body: str) -> None:
    queue([u.email for u in users if u.email], subject, body)


def deliver_pending(batch: int = 100) -> int:
    """Send unsent outbox rows; each row is locked while sent, so two workers never send it twice."""
    sent = 0
    while True:
        with transaction.atomic():
            rows = list(
                OutboxEmail.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, attempts__lt=10)
                .order_by("id")[:batch]
            )
            if not rows:
                return sent
            for row in rows:
                row.attempts += 1
                try:
                    send_mail(row.subject, row.body, None, [row.to])
                except Exception:
                    row.save(update_fields=["attempts"])
                    continue
                row.sent_at = timezone.now()
                row.save(update_fields=["attempts", "sent_at"])
                sent += 1
