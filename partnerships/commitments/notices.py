"""Mail to a country's officials about its commitments (outbox rows in the caller's
transaction, sent after commit; still English, while the portal's other notices follow each
reader's language: ``partnerships.notifications.queue_in_languages``)."""

from __future__ import annotations

from partnerships.commitments.money import money_text
from partnerships.models import CoInvestmentCommitment
from partnerships.notifications import officials_of, queue


def describe(commitment: CoInvestmentCommitment) -> str:
    """``#12 (global_expansion, 1000 JPY)``: the commitment as a mail names it."""
    return (
        f"#{commitment.pk} ({commitment.vehicle}, "
        f"{money_text(commitment.amount, commitment.currency)} {commitment.currency})"
    )


def subject(commitment: CoInvestmentCommitment, what: str) -> str:
    """``[JP] commitment #12 confirmed``."""
    return f"[{commitment.tenant.code}] commitment #{commitment.pk} {what}"


def notify_officials(commitment: CoInvestmentCommitment, subject: str, body: str) -> None:
    """Outbox rows in the caller's transaction, sent after commit (English for now)."""
    queue(officials_of(commitment.tenant_id), subject, body)
