"""A country's "today" is the date in its time zone (DESIGN §5c)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portal.tenancy.dates import tenant_today
from portal.tenancy.models import Tenant

# 15:30 UTC on 1 March: already 2 March in Tokyo (UTC+9), still 1 March in Paris.
INSTANT = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_today_is_the_countrys_date() -> None:
    tokyo = Tenant(code="JP", name="Japan", time_zone="Asia/Tokyo")
    paris = Tenant(code="FR", name="France", time_zone="Europe/Paris")
    assert tenant_today(tokyo, now=INSTANT) == dt.date(2026, 3, 2)
    assert tenant_today(paris, now=INSTANT) == dt.date(2026, 3, 1)


def test_no_time_zone_is_bounded_by_utc_plus_14() -> None:
    # 10:00 UTC is midnight in Kiritimati (UTC+14): the latest "today" on earth.
    assert tenant_today(Tenant(code="ZZ"), now=dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)) == (
        dt.date(2026, 3, 2)
    )
    assert tenant_today(None, now=dt.datetime(2026, 3, 1, 9, 59, tzinfo=dt.UTC)) == dt.date(
        2026, 3, 1
    )


@pytest.mark.parametrize("name", ["Mars/Olympus", "asia/tokyo ", "../etc/passwd", "UTC+9"])
def test_time_zone_must_be_an_iana_name(name: str) -> None:
    tenant = Tenant(code="JP", name="Japan", languages=["ja"], time_zone=name)
    with pytest.raises(ValidationError) as caught:
        tenant.full_clean(validate_unique=False, validate_constraints=False)
    assert "time_zone" in caught.value.message_dict


def test_a_valid_name_passes() -> None:
    Tenant(code="JP", name="Japan", languages=["ja"], time_zone="Asia/Tokyo").full_clean(
        validate_unique=False, validate_constraints=False
    )
