"""The hot reads (list, detail) give byte for byte what ApplicationSerializer + DRF's
JSONRenderer give, for every state and audience, in a constant number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from partnerships.models import CountryApplication, Site, State
from partnerships.serializers import ApplicationSerializer
from portal.api.renderers import FastJSONRenderer
from tests.factories import RLS_STATEMENTS, create_application, make_user

pytestmark = pytest.mark.django_db


def _drf_bytes(data: object) -> bytes:
    return JSONRenderer().render(data)


def _applications(official, tenant) -> list[CountryApplication]:
    """One application per state, with the shapes that differ: several sites, no fund,
    unanswered commitments, non-ASCII and line-separator text."""
    made = []
    for i, state in enumerate(State):
        application = create_application(
            official, tenant, title=f"Campus {i} — 関西\u2028line", languages=["ja", "en"]
        )
        CountryApplication.objects.filter(pk=application.pk).update(
            state=state,
            submitted_at=dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC),
            screening_outcome="clear" if i % 2 else "",
            startup_fund_currency="" if i % 3 == 0 else "JPY",
            startup_fund_amount=None if i % 3 == 0 else Decimal("12.5000"),
            zero_trust=None if i % 4 == 0 else bool(i % 2),
        )
        if i % 2:
            # Made out of order (the model's order is position, id), with every decimal
            # shape: the sites come as JSON text from the row's own query.
            Site.objects.create(
                application=application,
                country="JP",
                region="Hokkaidō",
                capacity_mw=Decimal("1234567.125"),
                target_online_date=dt.date(2029, 1, 2),
                energy_mix={"hydro": 62.5, "solar": 37.5},
                pue=Decimal("1.25"),
                utilisation=Decimal("0.875"),
                position=2,
            )
            Site.objects.create(
                application=application,
                country="JP",
                region="Hokkaidō",
                capacity_mw=Decimal("7.5"),
                target_online_date=dt.date(2029, 1, 2),
                energy_mix={"hydro": 100},
                position=1,
            )
        made.append(application)
    return made


def _expected(ids: list[int], internal: bool) -> list[dict]:
    queryset = (
        CountryApplication.objects.filter(pk__in=ids)
        .select_related("tenant")
        .prefetch_related("sites")
        .order_by("-id")
    )
    return ApplicationSerializer(queryset, many=True, context={"internal": internal}).data


@pytest.mark.parametrize("audience", ["reviewer", "official"])
def test_list_and_detail_equal_the_serializer_byte_for_byte(api, official_jp, jp, audience):
    ids = [a.pk for a in _applications(official_jp, jp)]
    user = make_user("reviewer") if audience == "reviewer" else official_jp
    expected = _expected(ids, internal=audience == "reviewer")
    api.as_user(user)

    listed = api.get("/api/v1/applications/", {"page_size": 100})
    assert listed.status_code == 200
    body = listed.content
    assert body.startswith(b'{"next":null,"previous":null,"results":')
    assert body == _drf_bytes({"next": None, "previous": None, "results": expected})
    if audience == "official":
        assert b'"state"' not in body and b'"screening_outcome"' not in body

    for item in expected:
        detail = api.get(f"/api/v1/applications/{item['id']}/")
        assert detail.status_code == 200
        assert detail.content == _drf_bytes(item)


def test_list_with_filters_and_cursor_matches_too(api, official_jp, jp):
    ids = [a.pk for a in _applications(official_jp, jp)]
    api.as_user(make_user("reviewer"))
    first = api.get("/api/v1/applications/", {"page_size": 3, "state": "draft"}).json()
    expected = [a for a in _expected(ids, True) if a["state"] == "draft"]
    assert first["results"] == expected[:3]
    assert first["next"] is None or "cursor=" in first["next"]


def test_detail_of_a_malformed_or_foreign_id_is_404(api, official_jp, official_fr, jp):
    application = create_application(official_jp, jp)
    api.as_user(official_fr)
    assert api.get(f"/api/v1/applications/{application.pk}/").status_code == 404
    assert api.get("/api/v1/applications/abc/").status_code == 404


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_query_count_is_exact(api, official_jp, jp, page_size, django_assert_num_queries):
    for _ in range(12):
        create_application(official_jp, jp)
    api.as_user(official_jp)
    # The page with its sites (1: they come as JSON in each row), plus the RLS scope
    # statements; the forced-authenticated user's roles are already loaded (access_for
    # caches them on it).
    with django_assert_num_queries(1 + RLS_STATEMENTS):
        response = api.get("/api/v1/applications/", {"page_size": page_size})
    assert len(response.json()["results"]) == min(12, page_size)


def test_detail_query_count_is_exact(api, official_jp, jp, django_assert_num_queries):
    application = create_application(official_jp, jp)
    api.as_user(official_jp)
    # The row with its sites (1), plus the RLS scope statements (roles: as above).
    with django_assert_num_queries(1 + RLS_STATEMENTS):
        assert api.get(f"/api/v1/applications/{application.pk}/").status_code == 200


def test_fast_renderer_writes_what_drf_writes():
    data = {
        "text": '関西 \u2028 \u2029 "quoted" \\ é',
        "lazy": gettext_lazy("Draft"),
        "amount": Decimal("1.50"),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
        "day": dt.date(2026, 1, 2),
        "nested": [{"a": None, "b": True, "c": 1, "d": 2.5}],
        "errors": {0: {"country": ["Unknown code."]}},
    }
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)
    assert FastJSONRenderer().render(None) == b""


def test_the_browsable_api_shows_the_rows_written_by_postgresql(api, official_jp, jp):
    """The HTML view of the list and the detail (``?format=api``) indents the same JSON."""
    application = create_application(official_jp, jp, title="Kansai campus — 関西")
    api.as_user(official_jp)
    for path in ("/api/v1/applications/", f"/api/v1/applications/{application.pk}/"):
        response = api.get(path, {"format": "api"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert "Kansai campus — 関西" in response.content.decode()


def test_a_row_postgresql_cannot_write_exactly_is_written_by_drf(
    api, official_jp, jp, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    """A site's energy mix with a fraction (Python writes 1e-05 where PostgreSQL prints
    0.00001): that row is serialized by DRF, the others by PostgreSQL, in one page."""
    plain = create_application(official_jp, jp, title="Whole percentages")
    odd = create_application(official_jp, jp, title="A fraction")
    for application, mix in ((plain, {"hydro": 100}), (odd, {"hydro": 99.99999, "solar": 0.00001})):
        Site.objects.create(
            application=application, country="JP", region="Kansai", capacity_mw=Decimal("1"),
            target_online_date=dt.date(2029, 1, 2), energy_mix=mix,
        )  # fmt: skip
    api.as_user(official_jp)
    expected = _expected([plain.pk, odd.pk], internal=False)
    with django_assert_num_queries(1 + 2 + RLS_STATEMENTS):  # the page, then the odd row
        listed = api.get("/api/v1/applications/")
    assert listed.content == _drf_bytes({"next": None, "previous": None, "results": expected})
    assert b'"solar":1e-05' in listed.content
    detail = api.get(f"/api/v1/applications/{odd.pk}/")
    assert detail.content == _drf_bytes(expected[0])
