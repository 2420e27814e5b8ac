"""Row-Level Security: the database refuses another country's rows even to a query that
forgot restrict() (DESIGN §7)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from partnerships.models import CountryApplication, Decision, Site
from portal.tenancy import rls
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db


def careless_view(request: HttpRequest) -> JsonResponse:
    """A view with the bug RLS is there for: no restrict(), no login check."""
    return JsonResponse(
        {"codes": sorted(set(CountryApplication.objects.values_list("tenant__code", flat=True)))}
    )


urlpatterns = [path("careless/", careless_view)]


@pytest.fixture
def two_countries(official_jp, jp, official_fr, fr):
    return create_application(official_jp, jp), create_application(official_fr, fr)


def test_a_forgotten_filter_sees_only_the_scoped_country(two_countries, official_fr):
    jp_app, fr_app = two_countries
    rls.apply_scope(rls.scope_for(official_fr))
    assert list(CountryApplication.objects.all()) == [fr_app]
    assert {s.application_id for s in Site.objects.all()} == {fr_app.pk}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE partnerships_countryapplication SET title = 'hijacked' WHERE id = %s",
            [jp_app.pk],
        )
        assert cursor.rowcount == 0
        cursor.execute(
            "SELECT count(*) FROM partnerships_site WHERE application_id = %s", [jp_app.pk]
        )
        assert cursor.fetchone() == (0,)
    rls.apply_scope(rls.SCOPE_ALL)
    jp_app.refresh_from_db()
    assert jp_app.title != "hijacked"


def test_writing_a_row_for_another_country_is_refused(two_countries, official_fr):
    jp_app, _ = two_countries
    rls.apply_scope(rls.scope_for(official_fr))
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        Decision.objects.create(
            application_id=jp_app.pk,
            action="x",
            from_state="draft",
            to_state="draft",
            actor_label="x",
            role="x",
            application_version=1,
        )


def test_no_scope_sees_nothing(two_countries):
    rls.apply_scope(rls.SCOPE_NONE)
    assert not CountryApplication.objects.exists()
    rls.apply_scope(rls.SCOPE_ALL)
    assert CountryApplication.objects.count() == 2


@pytest.mark.urls("tests.portal.test_row_level_security")
def test_requests_are_scoped_to_the_signed_in_user(client, two_countries, official_jp):
    client.force_login(official_jp)
    assert client.get("/careless/").json() == {"codes": ["JP"]}
    client.force_login(make_user("reviewer"))
    assert client.get("/careless/").json() == {"codes": ["FR", "JP"]}
    client.logout()
    assert client.get("/careless/").json() == {"codes": []}
    # Outside requests (tasks, commands, this test) the scope is back to the whole programme.
    assert CountryApplication.objects.count() == 2


def test_api_token_users_are_scoped_too(api, two_countries, official_fr):
    _, fr_app = two_countries
    response = api.as_user(official_fr).get("/api/v1/applications/")
    assert [r["id"] for r in response.json()["results"]] == [fr_app.pk]


@pytest.mark.django_db(transaction=True)
def test_new_connections_act_for_the_programme():
    connection.close()
    # The test database setup opens connections the same way tasks and commands do.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('portal.tenant_scope')")
        assert cursor.fetchone() == ("all",)
