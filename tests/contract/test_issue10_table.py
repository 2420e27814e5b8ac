"""Issue #10, "Input contract": every row of its table, as the example of its kind (DESIGN §5c).

Each test sends the input the issue names and checks the right answer, and that nothing
changed where something could have.
"""

from __future__ import annotations

import base64
import json

import pytest

from partnerships.models import CountryApplication, State
from portal.audit.models import AuditEvent
from tests.factories import create_application, example_payload, make_user

pytestmark = pytest.mark.django_db

APPLICATIONS = "/api/v1/applications/"


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Row 1 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    ["p=abc", "p=%C2%B2", "p=1%00", "o=x", "r=2&p=", "p=99999999999999999999999"],
    ids=["letters", "superscript", "nul", "bad-offset", "bad-reverse", "huge"],
)
def test_malformed_cursor_positions_answer_400_json(api, official_jp, jp, raw):
    create_application(official_jp, jp)
    response = api.as_user(official_jp).get(APPLICATIONS, {"cursor": _cursor(raw)})
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert "cursor" in response.json()


def test_malformed_cursor_on_every_cursor_paginated_list(api, official_jp, jp):
    auditor = make_user("auditor")
    for url, user in (
        (APPLICATIONS, official_jp),
        ("/api/v1/commitments/", official_jp),
        ("/api/v1/audit-events/", auditor),
        ("/api/v1/territories/", official_jp),
    ):
        response = api.as_user(user).get(url, {"cursor": _cursor("p=\x00")})
        assert response.status_code == 400, (url, response.content)


def test_a_real_cursor_still_pages(api, official_jp, jp):
    for n in range(3):
        create_application(official_jp, jp, title=f"Campus {n}")
    client = api.as_user(official_jp)
    first = client.get(APPLICATIONS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


# Row 2 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["²", "٣", "-1", "1e3", "99999999999999999999999", "\x00"])
def test_audit_explorer_ignores_an_unusable_page_position(client, value):
    client.force_login(make_user("auditor"))
    for name in ("after", "before"):
        response = client.get("/audit/", {name: value})
        assert response.status_code == 200, (name, value)


def test_audit_timeline_path_with_nul_is_not_found(client):
    client.force_login(make_user("auditor"))
    assert client.get("/audit/object/application/1%00/").status_code == 404
    response = client.get("/audit/object/application/1/", {"after": "²", "as_of": "9999-12-31"})
    assert response.status_code == 200


# Row 3 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["x", "", "²", "-1", "1.0"])
def test_web_withdraw_with_an_unreadable_version_shows_the_page_again(
    client, official_jp, jp, version
):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    response = client.post(
        f"/applications/{application.pk}/withdraw/",
        {"version": version, "confirmed": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/applications/{application.pk}/"
    assert "changed since you loaded it" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.DRAFT and application.version == 1


def test_every_web_form_with_a_version_survives_an_unreadable_one(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    for url in (
        f"/applications/{application.pk}/edit/general/",
        f"/applications/{application.pk}/submit/",
    ):
        response = client.post(url, {"version": "x", "title": "New", "confirm": "1"}, follow=True)
        assert response.status_code == 200, url
        assert "changed since you loaded it" in response.content.decode(), url
    application.refresh_from_db()
    assert application.version == 1 and application.title != "New"


# Row 4 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"p-capacity_mw": "NaN", "p-mix-solar": "100"},
        {"p-capacity_mw": "Infinity", "p-mix-solar": "100"},
        {"p-capacity_mw": "1e999999", "p-mix-solar": "100"},
        {"p-capacity_mw": "120", "p-mix-solar": "1e2"},
        {"p-capacity_mw": "120", "p-mix-solar": "²"},
        {"p-capacity_mw": "120", "p-mix-solar": "100", "p-pue": "sNaN"},
        {"p-capacity_mw": "120", "p-mix-solar": "100", "p-utilisation": "7"},
    ],
)
def test_estimate_asks_for_numbers(client, official_jp, params):
    client.force_login(official_jp)
    response = client.get("/applications/estimate/", {"prefix": "p", **params})
    assert response.status_code == 200
    assert "Enter numbers to see the estimate" in response.content.decode()


def test_estimate_still_estimates(client, official_jp):
    client.force_login(official_jp)
    response = client.get(
        "/applications/estimate/",
        {"prefix": "p", "p-capacity_mw": "120", "p-mix-solar": "60", "p-mix-gas": "40"},
    )
    assert response.status_code == 200 and "Enter numbers" not in response.content.decode()


# Row 5 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"until": "9999-12-31"},
        {"until": "9999-12-31T23:59:59.999999"},
        {"since": "0001-01-01", "until": "9999-12-31"},
        {"since": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_audit_api_dates_at_the_calendars_edge(api, client, params):
    auditor = make_user("auditor")
    response = api.as_user(auditor).get("/api/v1/audit-events/", params)
    assert response.status_code == 200, response.content
    client.force_login(auditor)
    assert client.get("/audit/", params).status_code == 200


# Rows 6 and 8 (the JSON parser) ---------------------------------------------------------------
def _post_raw(api, user, body: str):
    return api.as_user(user).generic(
        "POST", APPLICATIONS, body.encode(), content_type="application/json"
    )


def test_json_nested_50000_deep_is_refused(api, official_jp, jp):
    body = '{"title": "x", "sites": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = _post_raw(api, official_jp, body)
    assert response.status_code == 400 and "32" in response.json()["detail"]
    assert not CountryApplication.objects.exists()


def test_json_nested_33_deep_is_refused_and_32_is_parsed(api, official_jp, jp):
    too_deep = json.dumps({"title": "x", "customization_notes": _nest(32)})
    response = _post_raw(api, official_jp, too_deep)
    assert response.status_code == 400 and "32" in response.json()["detail"]
    deep_enough = json.dumps({"title": "x", "customization_notes": _nest(31)})
    response = _post_raw(api, official_jp, deep_enough)
    assert response.status_code == 400  # parsed: the serializer refuses a list for a text
    assert "customization_notes" in response.json()


def _nest(levels: int):
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


def test_a_duplicated_key_is_refused_naming_it(api, official_jp, jp):
    payload = json.dumps(example_payload(tenant="JP"))
    body = payload.replace('"amount": "50000000000"', '"amount": "100", "amount": "200"')
    assert body.count('"amount"') == 2
    response = _post_raw(api, official_jp, body)
    assert response.status_code == 400
    assert "amount" in response.json()["detail"] and "duplicate" in response.json()["detail"]
    assert not CountryApplication.objects.exists()


@pytest.mark.parametrize(
    "fragment", ['"title": NaN', '"title": "a\\u0000b"', '"title": "\\ud800"', '"title": Infinity']
)
def test_json_constants_nul_and_lone_surrogates_are_refused(api, official_jp, jp, fragment):
    response = _post_raw(api, official_jp, "{" + fragment + "}")
    assert response.status_code == 400, response.content
    assert not CountryApplication.objects.exists()


def test_events_are_unchanged_by_refused_bodies(api, official_jp, jp):
    before = AuditEvent.objects.count()
    _post_raw(api, official_jp, '{"title": "a", "title": "b"}')
    assert AuditEvent.objects.count() == before


# Row 9 ----------------------------------------------------------------------------------------
INVISIBLE = ["\u200b", "\u200b\u200c\u200d\ufeff", "\u202e\u2066", "\u3164", " \u00ad\t"]


@pytest.mark.parametrize("title", INVISIBLE)
def test_a_title_of_only_invisible_characters_may_not_be_blank(api, official_jp, jp, title):
    response = api.as_user(official_jp).post(
        APPLICATIONS, example_payload(tenant="JP", title=title), format="json"
    )
    assert response.status_code == 400
    assert "may not be blank" in response.json()["title"][0]
    assert not CountryApplication.objects.exists()


def test_invisible_text_is_blank_in_every_required_text(api, official_jp, jp):
    client = api.as_user(official_jp)
    site = {**example_payload()["sites"][0], "region": "\u200b"}
    response = client.post(APPLICATIONS, example_payload(tenant="JP", sites=[site]), format="json")
    assert response.status_code == 400 and "region" in str(response.json()["sites"]), (
        response.json()
    )
    application = create_application(official_jp, jp)
    response = client.patch(
        f"{APPLICATIONS}{application.pk}/",
        {"data_categories": ["health", "\u2060"], "version": 1},
        format="json",
    )
    assert response.status_code == 400 and "data_categories" in response.json()


def _in_state(application, state):
    CountryApplication.objects.filter(pk=application.pk).update(
        state=state, screening_outcome="clear", screening_list_version=1
    )
    application.refresh_from_db()
    return application


def test_a_rationale_of_invisible_characters_is_no_rationale(api, client, official_jp, jp):
    application = _in_state(create_application(official_jp, jp), State.US_COORDINATION)
    coordinator = make_user("us_coordinator")
    response = api.as_user(coordinator).post(
        f"{APPLICATIONS}{application.pk}/transitions/",
        {"action": "non_concur", "rationale": "\u200b\u2063", "version": 1},
        format="json",
    )
    assert response.status_code == 400 and "rationale" in response.json()
    client.force_login(coordinator)
    response = client.post(
        f"/review/{application.pk}/act/",
        {"action": "non_concur", "rationale": "\u200b", "version": 1, "confirmed": "1"},
    )
    assert response.status_code == 400
    application.refresh_from_db()
    assert application.state == State.US_COORDINATION and application.version == 1


# Row 10 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "patch",
    [
        {"startup_fund": {}},
        {"startup_fund": {"amount": "100"}},
        {"startup_fund": {"currency": "JPY"}},
        {"sites": [{}]},
        {"sites": [{"region": "Kansai"}]},
        {"security_commitments": []},
        {"startup_fund": "100 JPY"},
    ],
)
def test_patch_with_an_incomplete_nested_object_is_400(api, official_jp, jp, patch):
    application = create_application(official_jp, jp)
    response = api.as_user(official_jp).patch(
        f"{APPLICATIONS}{application.pk}/", {**patch, "version": 1}, format="json"
    )
    assert response.status_code == 400, response.content
    application.refresh_from_db()
    assert application.version == 1


def test_commitment_patch_with_an_incomplete_tranche_is_400(api, official_jp, jp):
    from partnerships.commitments.serializers import EXAMPLE
    from tests.partnerships.test_commitments import load_rates

    load_rates()
    client = api.as_user(official_jp)
    created = client.post("/api/v1/commitments/", EXAMPLE, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/commitments/{created.json()['id']}/"
    for tranches in ([{}], [{"amount": "1"}], [{"due_date": "2027-01-01"}]):
        response = client.patch(url, {"tranches": tranches, "version": 1}, format="json")
        assert response.status_code == 400, (tranches, response.content)
