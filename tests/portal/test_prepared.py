"""portal.postgresql.prepared: hot reads run as server-side prepared statements, once
prepared per connection, with the same answers, the same query counts, and a way back when
PostgreSQL cannot prepare a query or the record of what is prepared is wrong.

transaction=True throughout: outside a transaction is where statements are prepared (as in
production, autocommit); inside one they run as they are."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from partnerships import representations
from partnerships.models import CountryApplication
from partnerships.serializers import ApplicationSerializer
from partnerships.workflow import public_state
from portal.postgresql import prepared
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db(transaction=True)

_QUERY = "SELECT %s::int + 1, %s::text || '%%'"


def _statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def _ask(*params: object) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(_QUERY, params)
        return tuple(cursor.fetchone())


def test_a_select_is_prepared_once_per_connection_then_executed():  # type: ignore[no-untyped-def]
    name = prepared.statement_name(_QUERY)
    sent = []
    with prepared.statements():
        for value in (1, 2):
            with CaptureQueriesContext(connection) as queries:
                assert _ask(value, "x") == (value + 1, "x%")
            assert len(queries) == 1  # PREPARE travels with the first EXECUTE
            sent.append(queries[0]["sql"])
    assert name in _statements() and name in prepared.recorded(connection.connection)
    assert prepared.numbered(_QUERY) == ("SELECT $1::int + 1, $2::text || '%%'", 2)
    # Outside the block, or inside a transaction, queries run as they are.
    assert _ask(3, "y") == (4, "y%")
    with prepared.statements(), transaction.atomic():
        assert _ask(4, "z") == (5, "z%")


def test_a_query_postgresql_cannot_prepare_runs_as_it_is():  # type: ignore[no-untyped-def]
    untyped = "SELECT %s IS NULL"  # PREPARE cannot tell the type of $1
    with prepared.statements():
        for _ in range(2):
            with connection.cursor() as cursor:
                cursor.execute(untyped, ["plain"])
                assert cursor.fetchone() == (False,)
    assert prepared.statement_name(untyped) not in _statements()


def test_a_wrong_record_is_corrected_from_postgresql():  # type: ignore[no-untyped-def]
    name = prepared.statement_name(_QUERY)
    with prepared.statements():
        assert _ask(1, "a") == (2, "a%")
        with connection.cursor() as cursor:  # deallocated behind its back
            cursor.execute(f"DEALLOCATE {name}")
        assert _ask(2, "b") == (3, "b%")
        prepared.recorded(connection.connection).discard(name)  # prepared without its record
        assert _ask(3, "c") == (4, "c%")
    assert name in prepared.recorded(connection.connection) and name in _statements()


def _expected(ids: list[int], *, internal: bool) -> list[dict]:
    return ApplicationSerializer(
        CountryApplication.objects.filter(pk__in=ids)
        .select_related("tenant")
        .prefetch_related("sites")
        .order_by("-id"),
        many=True,
        context={"internal": internal},
    ).data


def test_hot_reads_answer_the_same_bytes_prepared(api, official_jp, jp):  # type: ignore[no-untyped-def]
    """The list and the detail through prepared statements (the test database's own
    transaction does not hold them here): the serializer's bytes; and the rows' JSON in
    every language (the API itself answers in English: its paths carry no language)."""
    made = [create_application(official_jp, jp, title=f"Campus {i}") for i in range(3)]
    ids = sorted((a.pk for a in made), reverse=True)
    # Submitted: programme staff do not see a country's unsubmitted drafts.
    CountryApplication.objects.filter(pk__in=ids).update(
        state="technical_review", submitted_at=timezone.now()
    )
    render = JSONRenderer().render
    for user, internal in ((make_user("reviewer"), True), (official_jp, False)):
        api.as_user(user)
        expected = _expected(ids, internal=internal)
        for _ in range(2):  # preparing, then prepared
            listed = api.get("/api/v1/applications/")
            assert listed.content == render({"next": None, "previous": None, "results": expected})
            detail = api.get(f"/api/v1/applications/{ids[0]}/")
            assert detail.content == render(expected[0])
        for language in ("ja", "ar", "fr"):
            with translation.override(language), prepared.statements():
                rows = representations.values_of(
                    CountryApplication.objects.filter(pk__in=ids).order_by("-id"), user=user
                )
                texts = [row["json"] for row in rows]
                assert texts == [
                    render(item).decode() for item in _expected(ids, internal=internal)
                ]
                assert public_state("technical_review") in texts[0]
    assert any(name.startswith("portal_") for name in _statements())


def test_the_queue_is_planned_for_each_request_the_detail_once(api, official_jp, jp):  # type: ignore[no-untyped-def]
    """The queue's statement never settles on a generic plan (chosen without the filter
    values, it scanned the whole table for a rare state); the detail's lookup by id does."""
    application = create_application(official_jp, jp)
    CountryApplication.objects.filter(pk=application.pk).update(
        state="technical_review", submitted_at=timezone.now()
    )
    api.as_user(make_user("reviewer"))
    for state in ["technical_review", "withdrawn"] * 4:
        listed = api.get("/api/v1/applications/", {"state": state})
        expected = [application.pk] if state == "technical_review" else []
        assert [row["id"] for row in listed.json()["results"]] == expected
        assert api.get(f"/api/v1/applications/{application.pk}/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE name LIKE 'portal\\_%%'"
        )
        plans = {
            ("list" if '"state" IN (' in text else "detail"): (generic, custom)
            for text, generic, custom in cursor.fetchall()
        }
    assert plans["list"] == (0, 8), plans
    assert plans["detail"][0] >= 1  # after five custom plans, the generic one


def test_past_the_limit_new_queries_run_as_they_are_and_prepared_ones_stay(monkeypatch):  # type: ignore[no-untyped-def]
    """A client asking for every page size cannot unprepare the statements already made."""
    connection.ensure_connection()
    room = len(prepared.recorded(connection.connection)) + 1  # one place left
    monkeypatch.setattr(prepared, "MAX_PER_CONNECTION", room)
    with prepared.statements():
        assert _ask(1, "a") == (2, "a%")  # prepared: the last place
        with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
            cursor.execute("SELECT %s::int * 2", [21])
            assert cursor.fetchone() == (42,)
        assert "EXECUTE" not in queries[0]["sql"]  # past the limit: as it is
        with CaptureQueriesContext(connection) as queries:
            assert _ask(2, "b") == (3, "b%")
        assert "EXECUTE portal_" in queries[0]["sql"]  # still prepared


def test_queries_without_positional_parameters_run_as_they_are():  # type: ignore[no-untyped-def]
    """No parameters (a literal % stays one) and named ones: the wrapper leaves them alone."""
    with prepared.statements(), connection.cursor() as cursor:
        cursor.execute("SELECT 'a%b'")
        assert cursor.fetchone() == ("a%b",)
        cursor.execute("SELECT %(n)s::int + 1", {"n": 1})
        assert cursor.fetchone() == (2,)
