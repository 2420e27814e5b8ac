"""The commitments CSV export: its columns and its rows, written as they are read."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet

from partnerships.commitments.money import money_text
from partnerships.models import CoInvestmentCommitment


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "id",
    "country",
    "vehicle",
    "status",
    "currency",
    "amount",
    "commitment_date",
    "fx_rate",
    "fx_rate_date",
    "usd_amount",
    "tranches",
    "paid_amount",
    "application",
    "partnership",
    "version",
]


def csv_rows(queryset: QuerySet[CoInvestmentCommitment]) -> Iterator[str]:
    """The header, then one CSV line per commitment, streamed in chunks of 500 (constant memory)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for c in queryset.prefetch_related("tranches").iterator(chunk_size=500):
        tranches = list(c.tranches.all())
        paid = sum((t.amount for t in tranches if t.status == "paid"), Decimal(0))
        yield writer.writerow(
            [
                c.pk,
                c.tenant.code,
                c.vehicle,
                c.status,
                c.currency,
                money_text(c.amount, c.currency),
                c.commitment_date.isoformat(),
                format(c.fx_rate.normalize(), "f"),
                c.fx_rate_date.isoformat(),
                str(c.usd_amount),
                len(tranches),
                money_text(paid, c.currency),
                c.application_id or "",
                c.partnership_id or "",
                c.version,
            ]
        )
