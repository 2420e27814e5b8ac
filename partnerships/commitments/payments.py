"""Payments of a confirmed commitment's tranches, and the beat's sweep of overdue tranches."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerships.commitments.money import money_text
from partnerships.commitments.notices import describe, notify_officials, subject
from partnerships.commitments.permissions import PAYMENT_ROLES, require_payer
from partnerships.commitments.records import check_version, lock
from partnerships.models import CoInvestmentCommitment, Tranche
from portal import parse
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.errors import ConflictError
from portal.tenancy.access import access_for
from portal.tenancy.dates import tenant_today

Status = CoInvestmentCommitment.Status
TrancheStatus = Tranche.Status


def tranche_mark_paid(
    *,
    commitment: CoInvestmentCommitment,
    tranche_id: int,
    actor: Any,
    payment_reference: str,
    version: int | None = None,
) -> Tranche:
    """An approver or compliance officer records a tranche of a confirmed commitment as paid.

    The payment reference is required (400 when blank or over 100 characters); a tranche is
    paid once (409 the second time). ``version``, when sent, must match the commitment's (409).
    An unknown ``tranche_id`` of this commitment raises ``Tranche.DoesNotExist``.
    """
    reference = _payment_reference(payment_reference)
    with transaction.atomic():
        locked = lock(commitment)
        require_payer(actor, locked.tenant_id)
        check_version(locked, version, required=False)
        tranche = (
            Tranche.objects.select_for_update().filter(commitment=locked, pk=tranche_id).first()
        )
        if tranche is None:
            raise Tranche.DoesNotExist
        if locked.status != Status.CONFIRMED:
            raise ConflictError(_("Only tranches of a confirmed commitment are paid."))
        if tranche.status not in (TrancheStatus.SCHEDULED, TrancheStatus.OVERDUE):
            raise ConflictError(
                _("This tranche is %(status)s.") % {"status": tranche.get_status_display()}
            )
        before = tranche.status
        tranche.status = TrancheStatus.PAID
        tranche.paid_at = timezone.now()
        tranche.payment_reference = reference
        tranche.save(update_fields=["status", "paid_at", "payment_reference"])
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        _record_paid(actor, locked, tranche, before)
    return tranche


def _payment_reference(text: str) -> str:
    """The payment reference, stripped: required, at most 100 characters (400 otherwise)."""
    reference = (text or "").strip()
    if parse.is_blank(reference):
        raise ValidationError({"payment_reference": [_("Give the payment reference.")]})
    if len(reference) > 100:
        raise ValidationError({"payment_reference": [_("At most 100 characters.")]})
    return reference


def _record_paid(actor: Any, locked: CoInvestmentCommitment, tranche: Tranche, before: str) -> None:
    """The audit event of a payment, under the payment role the actor holds."""
    role = next(r for r in PAYMENT_ROLES if access_for(actor).has_programme_role(r))
    record_event(
        actor=actor,
        verb=Verb.TRANCHE_PAID,
        obj=tranche,
        tenant=locked.tenant,
        role=role,
        changes={
            "status": {"before": before, "after": TrancheStatus.PAID},
            "payment_reference": {"before": "", "after": tranche.payment_reference},
            "commitment": locked.pk,
            "amount": money_text(tranche.amount, locked.currency),
            "currency": locked.currency,
        },
    )


def mark_overdue_tranches(*, now: dt.datetime | None = None) -> int:
    """Beat task service: confirmed commitments' scheduled tranches past due become ``overdue``.

    Each change is audited (attributed to the task's actor context); the country's officials
    get one e-mail per commitment. Idempotent: an overdue tranche is not marked again.
    Proposed commitments are left alone: their schedule is not yet a promise. A tranche is
    past due when its due date is before today *in its country* (``now``: default the present).
    Returns how many tranches were marked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Candidates by the latest "today" on earth, then each by its own country's date.
        candidates = (
            Tranche.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=TrancheStatus.SCHEDULED,
                due_date__lt=tenant_today(None, now=now),
                commitment__status=Status.CONFIRMED,
            )
            .select_related("commitment__tenant")
            .order_by("commitment_id", "due_date", "id")
        )
        late = [t for t in candidates if t.due_date < tenant_today(t.commitment.tenant, now=now)]
        by_commitment: dict[int, list[Tranche]] = defaultdict(list)
        for tranche in late:
            tranche.status = TrancheStatus.OVERDUE
            by_commitment[tranche.commitment_id].append(tranche)
        Tranche.objects.bulk_update(late, ["status"])
        for tranches in by_commitment.values():
            _record_overdue(tranches[0].commitment, tranches)
    return len(late)


def _record_overdue(commitment: CoInvestmentCommitment, tranches: list[Tranche]) -> None:
    """One audit event per overdue tranche, one mail to the country's officials per commitment."""
    for tranche in tranches:
        record_event(
            verb=Verb.TRANCHE_OVERDUE,
            obj=tranche,
            tenant=commitment.tenant,
            changes={
                "status": {
                    "before": TrancheStatus.SCHEDULED,
                    "after": TrancheStatus.OVERDUE,
                },
                "commitment": commitment.pk,
                "due_date": tranche.due_date.isoformat(),
            },
        )
    lines = [
        f"- {t.due_date.isoformat()}: {money_text(t.amount, commitment.currency)} {commitment.currency}"
        for t in tranches
    ]
    notify_officials(
        commitment,
        subject(commitment, "tranche overdue"),
        f"Tranches of the commitment {describe(commitment)} are past due:\n" + "\n".join(lines),
    )
