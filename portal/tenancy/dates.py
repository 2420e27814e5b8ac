"""What "today" means for a country: the date in its time zone, not the server's.

A country's officials date things (a commitment, a condition's due date) in their own
calendar; Tokyo is already on the next day for nine hours of every UTC day. Where a tenant
has no time zone, the bound is the earliest time zone on earth to reach a date (UTC+14,
Pacific/Kiritimati): nobody anywhere can be "in the future" of it, so nothing a country
honestly dates today is refused.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.utils import timezone

# The furthest-ahead civil time zone (Line Islands, UTC+14, no daylight saving).
LATEST_ZONE = zoneinfo.ZoneInfo("Pacific/Kiritimati")


def tenant_zone(tenant: Any) -> zoneinfo.ZoneInfo:
    """The tenant's ``ZoneInfo``; UTC+14 when it has none (or ``tenant`` is None)."""
    name = getattr(tenant, "time_zone", "") or ""
    if not name:
        return LATEST_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # The model validates the name; a row written around it still must not 500.
        return LATEST_ZONE


def tenant_today(tenant: Any, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the tenant's country (``now``: an aware instant, default the present).

    Raises nothing; a tenant without a time zone gets the UTC+14 date (the latest "today"
    anywhere), so a date valid somewhere on earth today is never called "in the future".
    """
    instant = now if now is not None else timezone.now()
    return instant.astimezone(tenant_zone(tenant)).date()
