"""E-mail through an outbox: rows written in the transaction of the change, sent by a task.

A Redis outage at commit time therefore loses nothing: the beat schedule retries unsent rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone, translation

from partnerships.models import CountryApplication, Decision, OutboxEmail
from partnerships.workflow import STATE_ROLE, public_state
from portal.tenancy.roles import Role

# Sent after commit when rows were queued; ``partnerships.tasks`` enqueues their delivery
# (a signal: the tasks import this module, so it must not import them).
outbox_filled = Signal()


def _active_officials(**tenant: Any) -> Any:
    """Active users who are officials or country admins of the tenant(s) in ``tenant``."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__role__in=[Role.OFFICIAL, Role.COUNTRY_ADMIN],
            memberships__ended_at__isnull=True,
            **{f"memberships__{key}": value for key, value in tenant.items()},
        )
        .exclude(email="")
    )


def officials_of(tenant_id: int) -> list[str]:
    """E-mail addresses of a country's active officials and country admins (one query)."""
    return list(_active_officials(tenant_id=tenant_id).values_list("email", flat=True).distinct())


def officials_by_tenant(tenant_ids: list[int]) -> dict[int, list[str]]:
    """``officials_of`` for many countries in one query: tenant id → addresses (sorted)."""
    found: dict[int, list[str]] = {tenant_id: [] for tenant_id in tenant_ids}
    for tenant_id, email in (
        _active_officials(tenant_id__in=list(found))
        .values_list("memberships__tenant_id", "email")
        .distinct()
        .order_by("memberships__tenant_id", "email")
    ):
        found[tenant_id].append(email)
    return found


def holders_of(role: str) -> list[str]:
    """E-mail addresses of the active holders of a programme role (one query)."""
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
    outbox_filled.send(sender=OutboxEmail)


def _transition_messages(
    application: CountryApplication,
    decision: Decision,
    officials: Callable[[CountryApplication], list[str]],
    role_holders: Callable[[str], list[str]],
) -> list[tuple[list[str], str, str]]:
    """(recipients, subject, body) of the e-mails one transition sends."""
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
        application, decision, lambda a: officials_of(a.tenant_id), holders_of
    ):
        queue(recipients, subject, body)


def queue_for_transitions(moves: list[tuple[CountryApplication, Decision]]) -> None:
    """``queue_for_transition`` for a batch: the officials of every country in it in one
    query, each role's holders once, every e-mail in one insert."""
    by_tenant = officials_by_tenant([a.tenant_id for a, _ in moves])
    holders: dict[str, list[str]] = {}

    def role_holders(role: str) -> list[str]:
        if role not in holders:
            holders[role] = holders_of(role)
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


def on_transitions_recorded(
    sender: Any,
    moves: list[tuple[CountryApplication, Decision]],
    batch: bool = False,
    **kwargs: Any,
) -> None:
    """Receiver of ``partnerships.workflow.transitions_recorded`` (inside the transaction)."""
    if batch:
        queue_for_transitions(moves)
    else:
        for application, decision in moves:
            queue_for_transition(application, decision)


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
