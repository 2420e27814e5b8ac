"""Co-investment commitments (issue 7): services, selectors and money helpers.

Rules (also in docs/commitments.md):

- Money is ``Decimal`` end to end. An amount has at most the decimals of its currency's ISO
  4217 minor unit (babel): JPY/KRW 0, USD/EUR 2, BHD/KWD/OMR 3.
- ``usd_amount`` = amount × the table rate of the currency on, or most recently before, the
  commitment date, computed exactly and rounded once to cents with ROUND_HALF_EVEN. The rate
  and its date are stored with the commitment; reloading the rate table never changes them.
- Tranches are one unit: given together, validated together, replaced together. Their
  amounts sum exactly to the commitment amount; a proposed commitment may have none yet.
  A cancelled tranche does not count towards the sum (the database trigger agrees).
- Officials of the country create, edit and withdraw while ``proposed``; an approver confirms
  once the commitment belongs to an approved partnership; an approver or compliance officer
  marks tranches of a confirmed commitment paid; the beat task marks confirmed commitments'
  scheduled tranches past their due date ``overdue`` and tells the country's officials.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any, TypedDict

from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partnerships import validators
from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    FxRate,
    Partnership,
    State,
    Tranche,
)
from partnerships.notifications import officials_of, queue
from portal import parse
from portal.audit.record import diff, record_event
from portal.audit.verbs import Verb
from portal.dashboard import Panel
from portal.errors import ConflictError
from portal.tenancy.access import (
    access_for,
    require_any_tenant,
    require_programme_role,
    require_tenant_role,
)
from portal.tenancy.dates import tenant_today
from portal.tenancy.models import Tenant
from portal.tenancy.roles import Role
from portal.tenancy.services import tenant_for_official
from portal.ui import formats

Status = CoInvestmentCommitment.Status
TrancheStatus = Tranche.Status
Vehicle = CoInvestmentCommitment.Vehicle

CENT = Decimal("0.01")
#: A schedule longer than this is a data-entry mistake, not a payment plan.
MAX_TRANCHES = 240
#: Roles that may mark a tranche paid.
PAYMENT_ROLES = (Role.APPROVER, Role.COMPLIANCE_OFFICER)
# Enough digits that amount (≤ 20 digits) × rate (≤ 24 digits) is exact before rounding.
_EXACT_PRECISION = 80


# --- Money ------------------------------------------------------------------------------------


def minor_unit(currency: str) -> int:
    """Decimals of the currency (ISO 4217 minor unit, from babel's CLDR data)."""
    return int(get_currency_precision(currency))


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` shown with exactly the currency's decimals (it already has no more)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)))


def money_text(amount: Decimal, currency: str) -> str:
    """Plain decimal string with the currency's decimals: ``"1000"`` JPY, ``"1.250"`` BHD."""
    return format(quantize_money(amount, currency), "f")


def to_usd(amount: Decimal, usd_per_unit: Decimal) -> Decimal:
    """Exact product, rounded once to cents, half to even (never a float)."""
    with localcontext() as ctx:
        ctx.prec = _EXACT_PRECISION
        return (amount * usd_per_unit).quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal | None, currency: str, language: str | None = None) -> str:
    """Amount formatted for the active (or given) language, e.g. ``￥1,000`` or ``1 000,00 €``:
    the portal's one formatter (portal.ui.formats), with an empty string for no amount."""
    if amount is None:
        return ""
    with translation.override(language or translation.get_language() or "en"):
        try:
            return formats.money(amount, currency)
        except (ValueError, LookupError):
            with translation.override("en"):
                return formats.money(amount, currency)


# --- Rates --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    usd_per_unit: Decimal
    date: dt.date


def rate_on(*, currency: str, on: dt.date) -> Rate:
    """The table's rate for ``currency`` on ``on`` or the most recent date before it.

    Raises a field error when there is none: an unknown-to-the-table currency names
    ``currency``, a date before the table's first rate names ``commitment_date``.
    """
    if currency == "USD":
        return Rate(Decimal(1), on)
    row = (
        FxRate.objects.filter(currency=currency, date__lte=on)
        .order_by("-date")
        .values_list("usd_per_unit", "date")
        .first()
    )
    if row is not None:
        return Rate(row[0], row[1])
    if FxRate.objects.filter(currency=currency).exists():
        raise ValidationError(
            {
                "commitment_date": [
                    _("There is no %(currency)s exchange rate on or before %(date)s.")
                    % {"currency": currency, "date": on.isoformat()}
                ]
            }
        )
    raise ValidationError(
        {
            "currency": [
                _("The exchange-rate table has no rates for %(currency)s.") % {"currency": currency}
            ]
        }
    )


# --- Input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrancheInput:
    due_date: dt.date
    amount: Decimal


class CommitmentData(TypedDict, total=False):
    vehicle: str
    amount: Decimal
    currency: str
    commitment_date: dt.date
    tranches: Sequence[TrancheInput]
    application: int | None
    partnership: int | None


FIELDS = ("vehicle", "amount", "currency", "commitment_date", "application", "partnership")


def _messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _validate(
    tenant: Tenant, values: dict[str, Any], tranches: Sequence[TrancheInput]
) -> tuple[Rate, CountryApplication | None, Partnership | None]:
    """Check the whole commitment as it would be saved; every problem, keyed by field.

    Returns the exchange rate and the linked application/partnership (resolved within the
    commitment's own country only, so another country's ids read as unknown).
    """
    errors: dict[str, list[str]] = defaultdict(list)
    if values.get("vehicle") not in Vehicle.values:
        errors["vehicle"].append(_("Choose a vehicle."))
    currency = ""
    try:
        currency = validators.currency_code(values.get("currency") or "")
    except ValidationError as exc:
        errors["currency"] += _messages(exc)
    amount = values.get("amount")
    if not isinstance(amount, Decimal):
        errors["amount"].append(_("Give the amount as a decimal number."))
    elif currency:
        try:
            validators.money_amount(amount, currency)
        except ValidationError as exc:
            errors["amount"] += _messages(exc)
    when = values.get("commitment_date")
    if not isinstance(when, dt.date):
        errors["commitment_date"].append(_("Give the commitment date."))
    elif when > tenant_today(tenant):  # the country's date, not the server's
        errors["commitment_date"].append(_("The commitment date cannot be in the future."))

    if len(tranches) > MAX_TRANCHES:
        errors["tranches"].append(_("At most %(n)s tranches.") % {"n": MAX_TRANCHES})
    for number, tranche in enumerate(tranches, start=1):
        if currency:
            try:
                validators.money_amount(tranche.amount, currency)
            except ValidationError as exc:
                errors["tranches"] += [
                    _("Tranche %(n)s: %(error)s") % {"n": number, "error": m} for m in exc.messages
                ]
        if isinstance(when, dt.date) and tranche.due_date < when:
            errors["tranches"].append(
                _("Tranche %(n)s: the due date is before the commitment date.") % {"n": number}
            )
    if tranches and isinstance(amount, Decimal) and "tranches" not in errors:
        with localcontext() as ctx:
            ctx.prec = _EXACT_PRECISION
            total = sum((t.amount for t in tranches), Decimal(0))
        if total != amount:
            errors["tranches"].append(
                _("The tranches sum to %(total)s but the amount is %(amount)s.")
                % {
                    "total": validators.plain_decimal(total),
                    "amount": validators.plain_decimal(amount),
                }
            )

    application = partnership = None
    if values.get("application") is not None:
        application = CountryApplication.objects.filter(
            pk=values["application"], tenant=tenant
        ).first()
        if application is None:
            errors["application"].append(_("Unknown application."))
    if values.get("partnership") is not None:
        partnership = Partnership.objects.filter(pk=values["partnership"], tenant=tenant).first()
        if partnership is None:
            errors["partnership"].append(_("Unknown partnership."))
        elif application is not None and partnership.application_id != application.pk:
            errors["partnership"].append(_("The partnership is not the one of that application."))
    if errors:
        raise ValidationError(dict(errors))
    assert isinstance(when, dt.date)
    rate = rate_on(currency=currency, on=when)
    return rate, application, partnership


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


def _replace_tranches(
    commitment: CoInvestmentCommitment, tranches: Sequence[TrancheInput]
) -> list[Tranche]:
    commitment.tranches.all().delete()
    return Tranche.objects.bulk_create(
        [Tranche(commitment=commitment, due_date=t.due_date, amount=t.amount) for t in tranches]
    )


# --- Services ---------------------------------------------------------------------------------


def resolve_tenant(*, actor: Any, tenant_code: str | None) -> Tenant:
    """The country an official records a commitment for: named, or their only one."""
    return tenant_for_official(
        actor=actor,
        tenant_code=tenant_code,
        refused=_("Only country officials record commitments."),
        not_yours=_("You cannot record commitments for %(code)s."),
    )


def require_official(actor: Any, tenant_id: int) -> None:
    require_tenant_role(actor, tenant_id, _("Only the country's officials change its commitments."))


def require_programme(actor: Any, tenant_id: int, roles: Sequence[str], message: str) -> None:
    require_programme_role(actor, tenant_id, roles, message)


def _lock(commitment: CoInvestmentCommitment) -> CoInvestmentCommitment:
    return (
        CoInvestmentCommitment.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=commitment.pk)
    )


def _check_version(locked: CoInvestmentCommitment, version: int | None) -> None:
    if version is None:
        raise ValidationError({"version": [_("Send the version you saw.")]})
    if locked.version != version:
        raise ConflictError(_("The commitment changed since you loaded it; reload it."))


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
    rate, application, partnership = _validate(tenant, values, tranches)
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
        rows = _replace_tranches(commitment, tranches)
        record_event(
            actor=actor,
            verb=Verb.COMMITMENT_CREATED,
            obj=commitment,
            changes=diff({}, snapshot(commitment, rows)),
        )
    return commitment


def commitment_update(
    *, commitment: CoInvestmentCommitment, actor: Any, version: int | None, data: CommitmentData
) -> CoInvestmentCommitment:
    """Change a proposed commitment at the version the official saw (409 if stale or not proposed).

    Fields not in ``data`` keep their values; ``tranches``, when given, replace the whole
    schedule. The result is validated as a whole (e.g. a new amount needs a schedule that
    sums to it). The rate is looked up again only when amount, currency or date change.
    """
    with transaction.atomic():
        locked = _lock(commitment)
        require_official(actor, locked.tenant_id)
        _check_version(locked, version)
        if locked.status != Status.PROPOSED:
            raise ConflictError(_("Only a proposed commitment can be edited."))
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
        rate, application, partnership = _validate(locked.tenant, values, tranches)
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
        rows = _replace_tranches(locked, tranches) if "tranches" in data else existing
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
        locked = _lock(commitment)
        require_programme(
            actor, locked.tenant_id, (Role.APPROVER,), _("Only an approver confirms commitments.")
        )
        _check_version(locked, version)
        if locked.status != Status.PROPOSED:
            raise ConflictError(_("Only a proposed commitment can be confirmed."))
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
        _notify_officials(
            locked,
            _subject(locked, "confirmed"),
            f"The commitment {_describe(locked)} was confirmed by the programme.",
        )
    return locked


def commitment_withdraw(
    *, commitment: CoInvestmentCommitment, actor: Any, version: int | None
) -> CoInvestmentCommitment:
    """The country's officials withdraw a commitment before it is confirmed; its tranches are cancelled."""
    with transaction.atomic():
        locked = _lock(commitment)
        require_official(actor, locked.tenant_id)
        _check_version(locked, version)
        if locked.status != Status.PROPOSED:
            raise ConflictError(_("Only a proposed commitment can be withdrawn."))
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


def tranche_mark_paid(
    *,
    commitment: CoInvestmentCommitment,
    tranche_id: int,
    actor: Any,
    payment_reference: str,
    version: int | None = None,
) -> Tranche:
    """An approver or compliance officer records a tranche of a confirmed commitment as paid.

    The payment reference is required; a tranche is paid once (409 the second time).
    ``version``, when sent, must match the commitment's.
    """
    reference = (payment_reference or "").strip()
    if parse.is_blank(reference):
        raise ValidationError({"payment_reference": [_("Give the payment reference.")]})
    if len(reference) > 100:
        raise ValidationError({"payment_reference": [_("At most 100 characters.")]})
    with transaction.atomic():
        locked = _lock(commitment)
        require_programme(
            actor,
            locked.tenant_id,
            PAYMENT_ROLES,
            _("Only an approver or a compliance officer records payments."),
        )
        if version is not None and locked.version != version:
            raise ConflictError(_("The commitment changed since you loaded it; reload it."))
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
        role = next(r for r in PAYMENT_ROLES if access_for(actor).has_programme_role(r))
        record_event(
            actor=actor,
            verb=Verb.TRANCHE_PAID,
            obj=tranche,
            tenant=locked.tenant,
            role=role,
            changes={
                "status": {"before": before, "after": TrancheStatus.PAID},
                "payment_reference": {"before": "", "after": reference},
                "commitment": locked.pk,
                "amount": money_text(tranche.amount, locked.currency),
                "currency": locked.currency,
            },
        )
    return tranche


def mark_overdue_tranches(*, now: dt.datetime | None = None) -> int:
    """Beat task service: confirmed commitments' scheduled tranches past due become ``overdue``.

    Each change is audited (attributed to the task's actor context); the country's officials
    get one e-mail per commitment. Idempotent: an overdue tranche is not marked again.
    Proposed commitments are left alone: their schedule is not yet a promise. A tranche is
    past due when its due date is before today *in its country* (``now``: default the present).
    """
    now = now or timezone.now()
    marked = 0
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
            commitment = tranches[0].commitment
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
            _notify_officials(
                commitment,
                _subject(commitment, "tranche overdue"),
                f"Tranches of the commitment {_describe(commitment)} are past due:\n"
                + "\n".join(lines),
            )
            marked += len(tranches)
    return marked


def _describe(commitment: CoInvestmentCommitment) -> str:
    return (
        f"#{commitment.pk} ({commitment.vehicle}, "
        f"{money_text(commitment.amount, commitment.currency)} {commitment.currency})"
    )


def _subject(commitment: CoInvestmentCommitment, what: str) -> str:
    return f"[{commitment.tenant.code}] commitment #{commitment.pk} {what}"


def _notify_officials(commitment: CoInvestmentCommitment, subject: str, body: str) -> None:
    """Outbox rows in the caller's transaction, sent after commit (English, like other notices)."""
    queue(officials_of(commitment.tenant_id), subject, body)


# --- Selectors ----------------------------------------------------------------------------------


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


def commitments_for(
    user: Any, *, country: str | None = None, vehicle: str | None = None, status: str | None = None
) -> QuerySet[CoInvestmentCommitment]:
    """The commitments ``user`` may see, filtered; newest first."""
    queryset = CoInvestmentCommitment.objects.restrict(user, "view").select_related("tenant")
    if country:
        queryset = queryset.filter(tenant__code__iexact=country)
    if vehicle:
        queryset = queryset.filter(vehicle=vehicle)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-id")


def _paid_usd_by(
    commitments: QuerySet[CoInvestmentCommitment], key: str | None
) -> dict[Any, Decimal]:
    """Exact USD of paid tranches (tranche amount × the commitment's stored rate), per group."""
    tranches = Tranche.objects.filter(
        commitment__in=commitments.values("pk"), status=TrancheStatus.PAID
    )
    value = Sum(
        F("amount") * F("commitment__fx_rate"),
        output_field=DecimalField(max_digits=50, decimal_places=15),
    )
    if key is None:
        total = tranches.aggregate(total=value)["total"] or Decimal(0)
        return {None: total.quantize(CENT, rounding=ROUND_HALF_EVEN)}
    rows = (
        tranches.values(f"commitment__{key}")
        .annotate(total=value)
        .values_list(f"commitment__{key}", "total")
    )
    return {k: (v or Decimal(0)).quantize(CENT, rounding=ROUND_HALF_EVEN) for k, v in rows}


def commitment_totals(commitments: QuerySet[CoInvestmentCommitment]) -> dict[str, Any]:
    """USD totals of an already restricted (and filtered) queryset.

    By country and by vehicle, live commitments only (proposed and confirmed): their USD
    amount, the confirmed part and the paid part. By status, every commitment. The USD amount
    of a group is the sum of the rows' stored ``usd_amount``, so totals equal the rows.
    """
    live = commitments.exclude(status=Status.WITHDRAWN)
    confirmed = Sum("usd_amount", filter=Q(status=Status.CONFIRMED))

    def grouped(key: str, label: dict[str, str] | None = None) -> list[dict[str, Any]]:
        paid = _paid_usd_by(live, key)
        rows = (
            live.values(key)
            .annotate(count=Count("id"), usd=Sum("usd_amount"), usd_confirmed=confirmed)
            .order_by(key)
        )
        return [
            {
                "key": row[key],
                "label": (label or {}).get(row[key], row[key]),
                "count": row["count"],
                "usd_amount": row["usd"] or Decimal("0.00"),
                "usd_confirmed": row["usd_confirmed"] or Decimal("0.00"),
                "usd_paid": paid.get(row[key], Decimal("0.00")),
            }
            for row in rows
        ]

    overall = live.aggregate(count=Count("id"), usd=Sum("usd_amount"), usd_confirmed=confirmed)
    by_status = [
        {
            "key": row["status"],
            "label": str(Status(row["status"]).label),
            "count": row["count"],
            "usd_amount": row["usd"] or Decimal("0.00"),
        }
        for row in commitments.values("status")
        .annotate(count=Count("id"), usd=Sum("usd_amount"))
        .order_by("status")
    ]
    return {
        "currency": "USD",
        "total": {
            "count": overall["count"],
            "usd_amount": overall["usd"] or Decimal("0.00"),
            "usd_confirmed": overall["usd_confirmed"] or Decimal("0.00"),
            "usd_paid": _paid_usd_by(live, None)[None],
        },
        "by_country": grouped("tenant__code"),
        "by_vehicle": grouped("vehicle", {k: str(v) for k, v in Vehicle.choices}),
        "by_status": by_status,
    }


def commitment_timeline(commitments: QuerySet[CoInvestmentCommitment]) -> list[dict[str, Any]]:
    """Cumulative USD committed (live commitments, by commitment month) and paid (by payment month)."""
    live = commitments.exclude(status=Status.WITHDRAWN)
    committed = dict(
        live.annotate(month=TruncMonth("commitment_date"))
        .values("month")
        .annotate(usd=Sum("usd_amount"))
        .values_list("month", "usd")
    )
    paid_rows = (
        Tranche.objects.filter(
            commitment__in=live.values("pk"), status=TrancheStatus.PAID, paid_at__isnull=False
        )
        .annotate(month=TruncMonth("paid_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(
            usd=Sum(
                F("amount") * F("commitment__fx_rate"),
                output_field=DecimalField(max_digits=50, decimal_places=15),
            )
        )
        .values_list("month", "usd")
    )
    paid = {(m.date() if isinstance(m, dt.datetime) else m): v for m, v in paid_rows}
    months = sorted(set(committed) | set(paid))
    points = []
    total_committed = total_paid = Decimal(0)
    for month in months:
        total_committed += committed.get(month) or Decimal(0)
        total_paid += paid.get(month) or Decimal(0)
        points.append(
            {
                "month": month,
                "committed": total_committed,
                "paid": total_paid.quantize(CENT, rounding=ROUND_HALF_EVEN),
            }
        )
    return points


def commitment_panels(user: Any) -> list[Panel]:
    """Dashboard panels (the lead registers this with portal.dashboard.register)."""
    access = access_for(user)
    url = reverse("commitments")
    panels: list[Panel] = []
    mine = CoInvestmentCommitment.objects.restrict(user, "change")
    if access.editable_tenant_ids():
        counts = mine.aggregate(proposed=Count("id", filter=Q(status=Status.PROPOSED)))
        overdue = Tranche.objects.filter(
            commitment__in=mine.values("pk"), status=TrancheStatus.OVERDUE
        ).count()
        panels.append(
            Panel(
                _("Proposed commitments"),
                counts["proposed"],
                url,
                _("Awaiting confirmation by the programme."),
            )
        )
        if overdue:
            panels.append(
                Panel(_("Overdue tranches"), overdue, url, _("Payments past their due date."))
            )
    if access.has_programme_role(Role.APPROVER):
        waiting = access.without_conflicts(
            CoInvestmentCommitment.objects.filter(status=Status.PROPOSED)
        ).count()
        panels.append(
            Panel(
                _("Commitments to confirm"),
                waiting,
                f"{url}?status=proposed",
                _("Proposed commitments; confirm those of approved partnerships."),
            )
        )
    if access.has_programme_role(*PAYMENT_ROLES):
        overdue = Tranche.objects.filter(status=TrancheStatus.OVERDUE).count()
        panels.append(
            Panel(_("Overdue tranches"), overdue, url, _("Confirmed payments past their due date."))
        )
    return panels


def require_confirmer(actor: Any, tenant_id: int) -> None:
    """Who may confirm: an approver with no role in the country."""
    require_programme(
        actor, tenant_id, (Role.APPROVER,), _("Only an approver confirms commitments.")
    )


def require_payer(actor: Any, tenant_id: int) -> None:
    """Who may record a payment: an approver or compliance officer with no role in the country."""
    require_programme(
        actor,
        tenant_id,
        PAYMENT_ROLES,
        _("Only an approver or a compliance officer records payments."),
    )


def require_creator(actor: Any) -> None:
    """Only a country's officials record commitments (checked before the body is read)."""
    require_any_tenant(actor, _("Only the country's officials change its commitments."))
