"""E-mail through an outbox: rows written in the transaction of the change, sent by a task.

A Redis outage at commit time therefore loses nothing: the beat schedule retries unsent rows.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _transition_messages(
    application: CountryApplication,
    decision: Decision,
    officials: Callable[[CountryApplication], list[str]],
    role_holders: Callable[[str], list[str]],
) -> list[tuple[list[str], str, str]]:
    """(recipients, subject, body) of the e-mails one transition sends."""
    from partnerships.workflow import STATE_ROLE, public_state

    messages = []
    with translation.override("en"):
        before, after = public_state(decision.from_state), public_state(decision.to_state)
        if before != after or decision.message_to_country or decision.action == "request_info":
            lines = [f"Application {application.reference} ({application.title}): {after}."]
            if decision.action == "request_info":
                lines.append(f"Questions from the programme:\n{decision.rationale}")
            if decision.message_to_country:
                lines.append(decision.message_to_country)
            messages.append(
                (officials(application), f"[{application.reference}] {after}", "\n\n".join(lines))
            )
        role = STATE_ROLE.get(decision.to_state)  # type: ignore[call-overload]
        if role and decision.from_state != decision.to_state:
            messages.append(
                (
                    role_holders(role),
                    f"[{application.reference}] waiting for {role.replace('_', ' ')}",
                    f"Application {application.reference} ({application.tenant.code}) entered {decision.to_state}.",
                )
            )
    return messages


def queue_for_transition(application: CountryApplication, decision: Decision) -> None:
    """Tell the country about released changes and the next stage's people about new work."""
    for recipients, subject, body in _transition_messages(
        application, decision, _officials, _role_holders
    ):
        queue(recipients, subject, body)


def queue_for_transitions(moves: list[tuple[CountryApplication, Decision]]) -> None:
    """``queue_for_transition`` for a batch: the officials of every country in it in one
    query, each role's holders once, every e-mail in one insert."""
    User = get_user_model()
    by_tenant: dict[int, list[str]] = {a.tenant_id: [] for a, _ in moves}
    for tenant_id, email in (
        User.objects.filter(
            is_active=True,
            memberships__tenant_id__in=list(by_tenant),
            memberships__role__in=[Role.OFFICIAL, Role.COUNTRY_ADMIN],
        )
        .exclude(email="")
        .values_list("memberships__tenant_id", "email")
        .distinct()
        .order_by("memberships__tenant_id", "email")
    ):
        by_tenant[tenant_id].append(email)
    holders: dict[str, list[str]] = {}

    def role_holders(role: str) -> list[str]:
        if role not in holders:
            holders[role] = _role_holders(role)
        return holders[role]

    rows = [
        OutboxEmail(to=to, subject=subject[:200], body=body)
        for application, decision in moves
        for recipients, subject, body in _transition_messages(
            application, decision, lambda a: by_tenant[a.tenant_id], role_holders
        )
        for to in recipients
    ]
    OutboxEmail.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(_kick_delivery)


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
