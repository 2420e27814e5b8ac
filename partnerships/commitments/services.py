"""Commitment services (STYLE 4): create, update, confirm, withdraw, export. Each is keyword-only,
takes the ``actor``, checks the role, and writes its change and its audit event in one
transaction. Payments and the overdue sweep are in ``payments``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from partnerships.commitments.money import to_usd
from partnerships.commitments.notices import describe, notify_officials, subject
from partnerships.commitments.permissions import require_confirmer, require_official
from partnerships.commitments.records import check_version, lock, replace_tranches, snapshot
from partnerships.commitments.selectors import commitments_for
from partnerships.commitments.validation import FIELDS, CommitmentData, TrancheInput, validate
from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    Partnership,
    State,
    Tranche,
)
from portal.audit.record import diff, record_event
from portal.audit.verbs import Verb
from portal.errors import ConflictError
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role

Status = CoInvestmentCommitment.Status
TrancheStatus = Tranche.Status


def commitment_create(
    *, actor: Any, tenant: Tenant, data: CommitmentData
) -> CoInvestmentCommitment:
    """Record a proposed commitment for ``tenant`` (the actor must be one of its officials).

    The whole commitment, tranches included, is validated before anything is written; the USD
    amount comes from the rate table for the commitment date.
    """
    require_official(actor, tenant.pk)
    tranches = list(data.get("tranches") or [])
    values: dict[str, Any] = {f: data.get(f) for f in FIELDS}
    if isinstance(values["currency"], str):
        values["currency"] = values["currency"].strip().upper()
    rate, application, partnership = validate(tenant, values, tranches)
    with transaction.atomic():
        commitment = CoInvestmentCommitment.objects.create(
            tenant=tenant,
            application=application or (partnership.application if partnership else None),
            partnership=partnership,
            vehicle=values["vehicle"],
            amount=values["amount"],
            currency=values["currency"],
            commitment_date=values["commitment_date"],
            fx_rate=rate.usd_per_unit,
            fx_rate_date=rate.date,
            usd_amount=to_usd(values["amount"], rate.usd_per_unit),
            created_by=actor,
        )
        rows = replace_tranches(commitment, tranches)
        record_event(
            actor=actor,
            verb=Verb.COMMITMENT_CREATED,
            obj=commitment,
            changes=diff({}, snapshot(commitment, rows)),
        )
    return commitment


def _locked_proposed(
    commitment: CoInvestmentCommitment,
    *,
    actor: Any,
    version: int | None,
    require: Callable[[Any, int], None],
    refusal: str,
) -> CoInvestmentCommitment:
    """The commitment, row-locked, after the checks every change of a proposal makes: who
    may (``require``: PermissionDenied), the version seen (400/409), still proposed
    (ConflictError with ``refusal``). Call inside the change's transaction."""
    locked = lock(commitment)
    require(actor, locked.tenant_id)
    check_version(locked, version)
    if locked.status != Status.PROPOSED:
        raise ConflictError(refusal)
    return locked


def commitment_update(
    *, commitment: CoInvestmentCommitment, actor: Any, version: int | None, data: CommitmentData
) -> CoInvestmentCommitment:
    """Change a proposed commitment at the version the official saw (409 if stale or not proposed).

    Fields not in ``data`` keep their values; ``tranches``, when given, replace the whole
    schedule. The result is validated as a whole (e.g. a new amount needs a schedule that
    sums to it). The rate is looked up again only when amount, currency or date change.
    """
    with transaction.atomic():
        locked = _locked_proposed(
            commitment, actor=actor, version=version, require=require_official,
            refusal=_("Only a proposed commitment can be edited."),
        )  # fmt: skip
        existing = list(locked.tranches.all())
        before = snapshot(locked, existing)
        values = {
            f: getattr(locked, f"{f}_id" if f in ("application", "partnership") else f)
            for f in FIELDS
        }
        values.update({f: data[f] for f in FIELDS if f in data})  # type: ignore[literal-required]
        if isinstance(values["currency"], str):
            values["currency"] = values["currency"].strip().upper()
        if "tranches" in data:
            tranches = list(data["tranches"] or [])
        else:
            tranches = [
                TrancheInput(t.due_date, t.amount)
                for t in existing
                if t.status != TrancheStatus.CANCELLED
            ]
        rate, application, partnership = validate(locked.tenant, values, tranches)
        money_changed = any(
            values[f] != getattr(locked, f) for f in ("amount", "currency", "commitment_date")
        )
        locked.vehicle = values["vehicle"]
        locked.amount, locked.currency = values["amount"], values["currency"]
        locked.commitment_date = values["commitment_date"]
        locked.application = application or (partnership.application if partnership else None)
        locked.partnership = partnership
        if money_changed:
            locked.fx_rate, locked.fx_rate_date = rate.usd_per_unit, rate.date
            locked.usd_amount = to_usd(locked.amount, rate.usd_per_unit)
        rows = replace_tranches(locked, tranches) if "tranches" in data else existing
        changes = diff(before, snapshot(locked, rows))
        if not changes:
            return locked
        locked.version += 1
        locked.save()
        record_event(actor=actor, verb=Verb.COMMITMENT_UPDATED, obj=locked, changes=changes)
    return locked


def approved_partnership(commitment: CoInvestmentCommitment) -> Partnership | None:
    """The approved partnership the commitment belongs to: linked directly or via its application."""
    partnership = commitment.partnership
    if partnership is None and commitment.application_id is not None:
        partnership = Partnership.objects.filter(application_id=commitment.application_id).first()
    if partnership is None:
        return None
    state = (
        CountryApplication.objects.filter(pk=partnership.application_id)
        .values_list("state", flat=True)
        .first()
    )
    return partnership if state == State.APPROVED else None


def commitment_confirm(
    *, commitment: CoInvestmentCommitment, actor: Any, version: int | None
) -> CoInvestmentCommitment:
    """An approver confirms a proposed commitment of an approved partnership.

    Refused (409) when it is not proposed, not linked to an approved partnership, linked to a
    partnership flagged by compliance, or has no tranche schedule yet.
    """
    with transaction.atomic():
        locked = _locked_proposed(
            commitment, actor=actor, version=version, require=require_confirmer,
            refusal=_("Only a proposed commitment can be confirmed."),
        )  # fmt: skip
        partnership = approved_partnership(locked)
        if partnership is None:
            raise ConflictError(_("The commitment does not belong to an approved partnership."))
        if partnership.flagged:
            raise ConflictError(_("The partnership is flagged by compliance; resolve that first."))
        tranches = list(locked.tranches.all())
        live = [t for t in tranches if t.status != TrancheStatus.CANCELLED]
        if not live or sum((t.amount for t in live), Decimal(0)) != locked.amount:
            raise ConflictError(_("Give the commitment a tranche schedule before confirming it."))
        before = snapshot(locked, tranches)
        locked.status = Status.CONFIRMED
        locked.partnership = partnership
        locked.application_id = partnership.application_id
        locked.version += 1
        locked.save(update_fields=["status", "partnership", "application", "version", "updated_at"])
        record_event(
            actor=actor,
            verb=Verb.COMMITMENT_CONFIRMED,
            obj=locked,
            role=Role.APPROVER,
            changes=diff(before, snapshot(locked, tranches)),
        )
        notify_officials(
            locked,
            subject(locked, "confirmed"),
            f"The commitment {describe(locked)} was confirmed by the programme.",
        )
    return locked


def commitment_withdraw(
    *, commitment: CoInvestmentCommitment, actor: Any, version: int | None
) -> CoInvestmentCommitment:
    """The country's officials withdraw a commitment before it is confirmed; its tranches are cancelled."""
    with transaction.atomic():
        locked = _locked_proposed(
            commitment, actor=actor, version=version, require=require_official,
            refusal=_("Only a proposed commitment can be withdrawn."),
        )  # fmt: skip
        tranches = list(locked.tranches.all())
        before = snapshot(locked, tranches)
        for tranche in tranches:
            tranche.status = TrancheStatus.CANCELLED
        Tranche.objects.bulk_update(tranches, ["status"])
        locked.status = Status.WITHDRAWN
        locked.version += 1
        locked.save(update_fields=["status", "version", "updated_at"])
        record_event(
            actor=actor,
            verb=Verb.COMMITMENT_WITHDRAWN,
            obj=locked,
            changes=diff(before, snapshot(locked, tranches)),
        )
    return locked


def commitments_export(
    *, actor: Any, country: str = "", vehicle: str = "", status: str = ""
) -> QuerySet[CoInvestmentCommitment]:
    """Record (and commit) that ``actor`` exported the filtered list; return what to stream.

    Every export is a bulk read worth an audit event (``commitments.exported``, with the
    filter), committed before the first row is sent so none goes unrecorded.
    """
    with transaction.atomic():
        record_event(
            verb=Verb.COMMITMENTS_EXPORTED, actor=actor,
            changes={"filter": {k: v for k, v in
                                {"country": country, "vehicle": vehicle, "status": status}.items() if v}},
        )  # fmt: skip
    return commitments_for(actor, country=country, vehicle=vehicle, status=status)
