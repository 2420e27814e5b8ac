"""The dated USD exchange-rate table (loaded by ``manage.py load_fx_rates``), read by date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from partnerships.models import FxRate


@dataclass(frozen=True)
class Rate:
    """USD per unit of a currency, and the table date it was read from."""

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
