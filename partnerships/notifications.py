"""E-mail through an outbox: rows written in the transaction of the change, sent by a task.

A Redis outage at commit time therefore loses nothing: the beat schedule retries unsent rows.
A message to people is written in each one's language (``User.language``): their recipients
are read as (address, language) pairs, and the message is rendered once per language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partnerships.models import CountryApplication, Decision, OutboxEmail, State
from partnerships.workflow import STATE_ROLE, public_state, public_state_code
from portal.accounts.services import spoken_language
from portal.tenancy.roles import Role, role_label

# A recipient and the language they read: (address, code of settings.LANGUAGES).
Recipient = tuple[str, str]
# Renders (subject, body) in the active language; called once per language of its recipients.
Message = Callable[[], tuple[str, str]]

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


def _addresses(recipients: list[Recipient]) -> list[str]:
    """The addresses of (address, language) pairs, each once, in their order."""
    return list(dict.fromkeys(email for email, _language in recipients))


def officials_of(tenant_id: int) -> list[str]:
    """E-mail addresses of a country's active officials and country admins (one query)."""
    return _addresses(official_recipients(tenant_id))


def official_recipients(tenant_id: int) -> list[Recipient]:
    """``officials_of`` with each person's language: (address, language) pairs (one query)."""
    return list(_active_officials(tenant_id=tenant_id).values_list("email", "language").distinct())


def official_recipients_by_tenant(tenant_ids: list[int]) -> dict[int, list[Recipient]]:
    """``official_recipients`` for many countries in one query: tenant id → (address,
    language) pairs (sorted)."""
    found: dict[int, list[Recipient]] = {tenant_id: [] for tenant_id in tenant_ids}
    for tenant_id, email, language in (
        _active_officials(tenant_id__in=list(found))
        .values_list("memberships__tenant_id", "email", "language")
        .distinct()
        .order_by("memberships__tenant_id", "email", "language")
    ):
        found[tenant_id].append((email, language))
    return found


def officials_by_tenant(tenant_ids: list[int]) -> dict[int, list[str]]:
    """``officials_of`` for many countries in one query: tenant id → addresses (sorted)."""
    return {
        tenant_id: _addresses(recipients)
        for tenant_id, recipients in official_recipients_by_tenant(tenant_ids).items()
    }


def holders_of(role: str) -> list[str]:
    """E-mail addresses of the active holders of a programme role (one query)."""
    return _addresses(role_recipients(role))


def role_recipients(role: str) -> list[Recipient]:
    """``holders_of`` with each person's language: (address, language) pairs (one query)."""
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True, programme_roles__role=role, programme_roles__ended_at__isnull=True
        )
        .exclude(email="")
        .values_list("email", "language")
        .distinct()
    )


def queue(recipients: list[str], subject: str, body: str) -> None:
    """Write outbox rows (inside the caller's transaction); delivery is kicked after commit."""
    _insert([OutboxEmail(to=to, subject=subject[:200], body=body) for to in recipients])


def queue_in_languages(recipients: list[Recipient], message: Message) -> None:
    """``queue`` to people who each read their own language: ``message`` is rendered once per
    language among ``recipients`` (inside the caller's transaction; sent after commit)."""
    _insert(_rows(recipients, message))


def _rows(recipients: list[Recipient], message: Message) -> list[OutboxEmail]:
    """One outbox row per recipient; the message rendered once per language among them."""
    by_language: dict[str, list[str]] = {}
    for email, language in recipients:
        by_language.setdefault(spoken_language(language), []).append(email)
    rows: list[OutboxEmail] = []
    for language, emails in by_language.items():
        with translation.override(language):
            subject, body = message()
        rows.extend(OutboxEmail(to=to, subject=subject[:200], body=body) for to in emails)
    return rows


def _insert(rows: list[OutboxEmail]) -> None:
    OutboxEmail.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(_kick_delivery)


def _kick_delivery() -> None:
    outbox_filled.send(sender=OutboxEmail)


def _transition_messages(
    application: CountryApplication,
    decision: Decision,
    officials: Callable[[CountryApplication], list[Recipient]],
    role_holders: Callable[[str], list[Recipient]],
) -> list[tuple[list[Recipient], Message]]:
    """(recipients, message) of the e-mails one transition sends; each message renders its
    subject and body in the active language."""
    reference = application.reference
    messages: list[tuple[list[Recipient], Message]] = []
    moved = public_state_code(decision.from_state) != public_state_code(decision.to_state)
    if moved or decision.message_to_country or decision.action == "request_info":

        def to_country() -> tuple[str, str]:
            after = public_state(decision.to_state)
            lines = [
                _("Application %(reference)s (%(title)s): %(state)s.")
                % {"reference": reference, "title": application.title, "state": after}
            ]
            if decision.action == "request_info":
                lines.append(f"{_('Questions from the programme')}:\n{decision.rationale}")
            if decision.message_to_country:
                lines.append(decision.message_to_country)
            return f"[{reference}] {after}", "\n\n".join(lines)

        messages.append((officials(application), to_country))
    role = STATE_ROLE.get(decision.to_state)  # type: ignore[call-overload]
    if role and decision.from_state != decision.to_state:

        def to_staff() -> tuple[str, str]:
            return (
                _("[%(reference)s] waiting for %(role)s")
                % {"reference": reference, "role": role_label(role)},
                _("Application %(reference)s (%(country)s) entered %(state)s.")
                % {
                    "reference": reference,
                    "country": application.tenant.code,
                    "state": State(decision.to_state).label,
                },
            )

        messages.append((role_holders(role), to_staff))
    return messages


def queue_for_transition(application: CountryApplication, decision: Decision) -> None:
    """Tell the country about released changes and the next stage's people about new work,
    each in their own language."""
    for recipients, message in _transition_messages(
        application, decision, lambda a: official_recipients(a.tenant_id), role_recipients
    ):
        queue_in_languages(recipients, message)


def queue_for_transitions(moves: list[tuple[CountryApplication, Decision]]) -> None:
    """``queue_for_transition`` for a batch: the officials of every country in it in one
    query, each role's holders once, every e-mail in one insert (each message rendered once
    per language among its recipients)."""
    by_tenant = official_recipients_by_tenant([a.tenant_id for a, _d in moves])
    holders: dict[str, list[Recipient]] = {}

    def role_holders(role: str) -> list[Recipient]:
        if role not in holders:
            holders[role] = role_recipients(role)
        return holders[role]

    _insert(
        [
            row
            for application, decision in moves
            for recipients, message in _transition_messages(
                application, decision, lambda a: by_tenant[a.tenant_id], role_holders
            )
            for row in _rows(recipients, message)
        ]
    )


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


def notify_users(users: Iterable[Any], message: Message) -> None:
    """Queue ``message`` to each of ``users`` who has an address, in each one's language."""
    queue_in_languages([(u.email, u.language) for u in users if u.email], message)


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
