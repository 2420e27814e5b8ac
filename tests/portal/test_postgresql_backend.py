"""portal.postgresql: Django's backend with psycopg's C loader for timestamps (#16). The
same instants, aware and in UTC, on plain and on named (server-side) cursors."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.db import connection
from psycopg.pq import Format

from portal.audit.models import AuditEvent
from portal.audit.record import record_event
from portal.audit.verbs import Verb

pytestmark = pytest.mark.django_db

TIMESTAMPTZ = psycopg.adapters.types["timestamptz"].oid


def _loader(cursor: object) -> type:
    return cursor.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)  # type: ignore[attr-defined]


def test_the_connection_and_its_cursors_load_timestamps_in_c():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        loader = _loader(cursor.cursor)
    # psycopg's own C loader (psycopg[binary], or psycopg-c), not Django's Python subclass.
    assert loader.__module__ in ("psycopg_binary._psycopg", "psycopg_c._psycopg"), loader
    assert loader.__name__ == "TimestamptzLoader"
    named = connection.chunked_cursor()
    assert _loader(named.cursor) is loader
    named.close()


def test_the_same_instants_aware_and_in_utc():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT '2026-03-29 01:30:00.123456+09'::timestamptz, "
            "'1999-12-31 23:59:59-05:30'::timestamptz, now()"
        )
        first, second, now = cursor.fetchone()
    assert first == dt.datetime(2026, 3, 28, 16, 30, 0, 123456, tzinfo=dt.UTC)
    assert second == dt.datetime(2000, 1, 1, 5, 29, 59, tzinfo=dt.UTC)
    for value in (first, second, now):
        assert value.utcoffset() == dt.timedelta(0)
        assert value.isoformat().endswith("+00:00")


def test_orm_rows_and_the_iterator_read_the_same_instants():
    written = record_event(verb=Verb.AUTH_LOGOUT, object_type="test", object_id="1")
    event = AuditEvent.objects.get(pk=written.pk)
    assert event.occurred_at == written.occurred_at  # the instant written, read back
    assert event.occurred_at.utcoffset() == dt.timedelta(0)
    streamed = next(
        AuditEvent.objects.filter(pk=event.pk).values_list("occurred_at", flat=True).iterator()
    )
    assert streamed == event.occurred_at
    assert abs(event.occurred_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_use_tz_turned_off_after_connecting_gives_naive_datetimes(settings):  # type: ignore[no-untyped-def]
    settings.USE_TZ = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT '2026-03-29 01:30:00+00'::timestamptz")
        (value,) = cursor.fetchone()
    assert value.tzinfo is None
