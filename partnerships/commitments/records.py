"""A commitment read for a change: the row lock, the version check, the audit snapshot and the
replacement of the tranche schedule (shared by the services and the payments)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from partnerships import validators
from partnerships.commitments.money import money_text
from partnerships.commitments.validation import TrancheInput
from partnerships.models import CoInvestmentCommitment, Tranche
from portal.errors import ConflictError


def lock(commitment: CoInvestmentCommitment) -> CoInvestmentCommitment:
    """The commitment's row, locked for the caller's transaction (``SELECT … FOR UPDATE``)."""
    return (
        CoInvestmentCommitment.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=commitment.pk)
    )


def check_version(
    locked: CoInvestmentCommitment, version: int | None, *, required: bool = True
) -> None:
    """The version the caller saw must be the current one (409); when ``required``, it must
    be sent (400), otherwise an absent version is not checked (a tranche's payment)."""
    if version is None:
        if not required:
            return
        raise ValidationError({"version": [_("Send the version you saw.")]})
    if locked.version != version:
        raise ConflictError(_("The commitment changed since you loaded it; reload it."))


def snapshot(
    commitment: CoInvestmentCommitment, tranches: Iterable[Tranche] | None = None
) -> dict[str, Any]:
    """What the audit trail records before and after a change."""
    rows = list(commitment.tranches.all()) if tranches is None else list(tranches)
    return {
        "vehicle": commitment.vehicle,
        "amount": money_text(commitment.amount, commitment.currency),
        "currency": commitment.currency,
        "commitment_date": commitment.commitment_date.isoformat(),
        "fx_rate": validators.plain_decimal(commitment.fx_rate),
        "fx_rate_date": commitment.fx_rate_date.isoformat(),
        "usd_amount": str(commitment.usd_amount),
        "status": commitment.status,
        "application": commitment.application_id,
        "partnership": commitment.partnership_id,
        "tranches": [
            {
                "due_date": t.due_date.isoformat(),
                "amount": money_text(t.amount, commitment.currency),
                "status": t.status,
            }
            for t in sorted(rows, key=lambda t: (t.due_date, t.pk or 0))
        ],
    }


def replace_tranches(
    commitment: CoInvestmentCommitment, tranches: Sequence[TrancheInput]
) -> list[Tranche]:
    """Delete the schedule and write ``tranches`` in its place (the caller's transaction)."""
    commitment.tranches.all().delete()
    return Tranche.objects.bulk_create(
        [Tranche(commitment=commitment, due_date=t.due_date, amount=t.amount) for t in tranches]
    )
