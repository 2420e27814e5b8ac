"""USD totals and the committed-vs-paid timeline of an already restricted queryset (the
programme's dashboard and ``GET /api/v1/commitments/totals/``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from partnerships.commitments.money import to_cents
from partnerships.models import CoInvestmentCommitment, Tranche

Status = CoInvestmentCommitment.Status
TrancheStatus = Tranche.Status
Vehicle = CoInvestmentCommitment.Vehicle


def _confirmed_usd() -> Sum:
    """Sum of the stored USD amount of confirmed commitments."""
    return Sum("usd_amount", filter=Q(status=Status.CONFIRMED))


def _paid_usd() -> Sum:
    """Exact USD of tranches: each tranche's amount × its commitment's stored rate."""
    return Sum(
        F("amount") * F("commitment__fx_rate"),
        output_field=DecimalField(max_digits=50, decimal_places=15),
    )


def _paid_usd_by(
    commitments: QuerySet[CoInvestmentCommitment], key: str | None
) -> dict[Any, Decimal]:
    """Exact USD of paid tranches (tranche amount × the commitment's stored rate), per group."""
    tranches = Tranche.objects.filter(
        commitment__in=commitments.values("pk"), status=TrancheStatus.PAID
    )
    value = _paid_usd()
    if key is None:
        total = tranches.aggregate(total=value)["total"] or Decimal(0)
        return {None: to_cents(total)}
    rows = (
        tranches.values(f"commitment__{key}")
        .annotate(total=value)
        .values_list(f"commitment__{key}", "total")
    )
    return {k: to_cents(v or Decimal(0)) for k, v in rows}


def commitment_totals(commitments: QuerySet[CoInvestmentCommitment]) -> dict[str, Any]:
    """USD totals of an already restricted (and filtered) queryset.

    By country and by vehicle, live commitments only (proposed and confirmed): their USD
    amount, the confirmed part and the paid part. By status, every commitment. The USD amount
    of a group is the sum of the rows' stored ``usd_amount``, so totals equal the rows.
    """
    live = commitments.exclude(status=Status.WITHDRAWN)
    overall = live.aggregate(
        count=Count("id"), usd=Sum("usd_amount"), usd_confirmed=_confirmed_usd()
    )
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
        "by_country": _grouped(live, "tenant__code"),
        "by_vehicle": _grouped(live, "vehicle", {k: str(v) for k, v in Vehicle.choices}),
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
        .annotate(usd=_paid_usd())
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
                "paid": to_cents(total_paid),
            }
        )
    return points


def _grouped(
    live: QuerySet[CoInvestmentCommitment], key: str, label: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Count, USD amount, confirmed and paid USD of ``live`` per value of ``key``."""
    paid = _paid_usd_by(live, key)
    rows = (
        live.values(key)
        .annotate(count=Count("id"), usd=Sum("usd_amount"), usd_confirmed=_confirmed_usd())
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
