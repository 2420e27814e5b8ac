from __future__ import annotations

import pytest

from compliance.services import application_screen
from partnerships.models import State
from portal.audit.models import AuditEvent
from tests.compliance.conftest import submit
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db


def site(country: str) -> dict:
    return {
        "country": country,
        "region": "R",
        "capacity_mw": "10",
        "target_online_date": "2030-01-01",
        "energy_mix": {"solar": 100},
    }


@pytest.fixture
def held(territory_list, official_jp, jp):
    application = submit(
        create_application(official_jp, jp, sites=[site("KP")], data_residency_required=False),
        official_jp,
    )
    application_screen(application_id=application.pk, version=application.version)
    application.refresh_from_db()
    assert application.state == State.SCREENING_HOLD
    return application


# --- Territories ---------------------------------------------------------------------------------


def codes(response) -> list[str]:
    return [t["code"] for t in response.json()["results"]]


def test_territories_need_authentication(api, territory_list):
    assert api.get("/api/v1/territories/").status_code in (401, 403)


def test_any_signed_in_user_lists_the_current_version(api, territory_list, official_jp):
    response = api.as_user(official_jp).get("/api/v1/territories/?page_size=200")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] and len(body["results"]) == 200
    assert body["results"][0]["code"] == "AD" and body["results"][0]["list_version"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("group=E:1", ["IR", "KP", "SY"]),
        ("group=e:2", ["CU"]),
        ("sanctioned=true", ["CU", "IR", "KP", "UA-09", "UA-14", "UA-43"]),
        ("supported=false&search=korea", ["KP"]),
        ("supported=true&group=D:5&search=iraq", ["IQ"]),
    ],
)
def test_territory_filters(api, territory_list, official_jp, query, expected):
    response = api.as_user(official_jp).get(f"/api/v1/territories/?{query}")
    assert response.status_code == 200
    assert codes(response) == expected


def test_territory_detail_by_code(api, territory_list, official_jp):
    body = api.as_user(official_jp).get("/api/v1/territories/ua-43/").json()
    assert (
        body["code"] == "UA-43"
        and body["supported"] is False
        and body["comprehensive_sanctions"] is True
    )
    assert api.get("/api/v1/territories/ZZ/").status_code == 404
    # Each fact names the public text behind it: here the executive order.
    assert body["basis"] == "not_listed"
    assert body["sources"]["sanctions"]["id"] == "eo-13685"
    assert body["sources"]["sanctions"]["date"] == "2014-12-19"
    assert body["sources"]["sanctions"]["url"].startswith("https://www.govinfo.gov/")


def test_the_territory_api_serves_the_basis_and_each_facts_source(api, territory_list, official_jp):
    client = api.as_user(official_jp)
    guam = client.get("/api/v1/territories/GU/").json()
    assert (guam["supported"], guam["basis"]) == (True, "older_list_only")
    assert guam["sources"]["supported"]["id"] == "openai-countries-older"
    assert guam["sources"]["supported"]["date"] is None
    assert guam["sources"]["supported"]["date_unknown"]
    assert guam["sources"]["groups"]["id"] == "ear-740-supp1"
    assert guam["sources"]["sanctions"] is None  # no comprehensive programme: nothing to cite
    syria = client.get("/api/v1/territories/SY/").json()
    assert syria["comprehensive_sanctions"] is False
    assert syria["sources"]["sanctions"]["id"] == "eo-14312"
    assert syria["sources"]["sanctions"]["date"] == "2025-06-30"
    japan = client.get("/api/v1/territories/JP/").json()
    assert japan["basis"] == "current_list"
    assert japan["sources"]["supported"]["date"] == "2026-08-05"


def test_version_history_with_diff(api, territory_list, official_jp):
    body = api.as_user(official_jp).get("/api/v1/territory-versions/").json()
    assert body["results"][0]["number"] == 1
    assert body["results"][0]["source"].startswith("Retrieved: 2026-11-28")
    assert "/work" not in body["results"][0]["source"]
    records = body["results"][0]["sources"]
    assert records["eo-14065"]["date"] == "2022-02-21"
    assert all(r["url"].startswith("https://") for r in records.values())


# --- Screenings ----------------------------------------------------------------------------------


def test_programme_staff_see_outcome_and_findings_with_sources(api, held, compliance_officer):
    response = api.as_user(compliance_officer).get(f"/api/v1/applications/{held.pk}/screenings/")
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["outcome"] == "blocked" and result["list_version"] == 1
    assert result["policy_version"] == 1
    rules = {f["rule"] for f in result["findings"]}
    assert "ofac.comprehensive_sanctions" in rules
    for finding in result["findings"]:
        assert finding["source"] == finding["citation"]["id"]
        assert finding["citation"]["url"] and finding["citation"]["title"]
        assert finding["citation"]["date"] or finding["citation"]["date_unknown"]
    [sanctions] = [f for f in result["findings"] if f["rule"] == "ofac.comprehensive_sanctions"]
    assert sanctions["citation"]["id"] == "ofac-north-korea"


def test_a_finding_recorded_before_source_records_never_shows_its_old_source(
    api, held, compliance_officer
):
    """Old findings held the file header as their source, a machine path among it."""
    from compliance.models import ScreeningResult

    result = ScreeningResult.objects.get(application=held)
    legacy = [
        {k: v for k, v in f.items() if k != "citation"}
        | {"source": "territories.csv v1: SOURCE 4 (...): /work/shared/DOMAIN.md"}
        for f in result.findings
    ]
    ScreeningResult.objects.filter(pk=result.pk).update(findings=legacy)
    response = api.as_user(compliance_officer).get(f"/api/v1/applications/{held.pk}/screenings/")
    assert "DOMAIN.md" not in response.content.decode()
    assert {f["source"] for f in response.json()["results"][0]["findings"]} == {""}


def test_the_countrys_official_sees_that_it_ran_but_not_the_deliberation(api, held, official_jp):
    response = api.as_user(official_jp).get(f"/api/v1/applications/{held.pk}/screenings/")
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert set(result) == {"id", "application_version", "list_version", "finished_at"}


def test_another_countrys_official_gets_the_same_404_as_a_missing_id(api, held, official_fr):
    client = api.as_user(official_fr)
    other = client.get(f"/api/v1/applications/{held.pk}/screenings/")
    missing = client.get("/api/v1/applications/987654321/screenings/")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    posted = client.post(f"/api/v1/applications/{held.pk}/screenings/")
    assert posted.status_code == 404 and posted.json() == missing.json()


def test_compliance_officer_reruns_a_screening(
    api, held, compliance_officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.as_user(compliance_officer).post(
            f"/api/v1/applications/{held.pk}/screenings/"
        )
    assert response.status_code == 202
    assert response.json() == {
        "detail": "Screening enqueued.",
        "application_version": held.version,
        "list_version": 1,
    }
    assert len(callbacks) == 1  # the enqueue runs after commit
    event = AuditEvent.objects.get(verb="screening.requested", object_id=str(held.pk))
    assert event.actor_username == "compliance_officer"


@pytest.mark.parametrize("role", ["reviewer", "auditor", "approver"])
def test_other_programme_roles_cannot_rerun(api, held, role):
    response = api.as_user(make_user(role, username=role)).post(
        f"/api/v1/applications/{held.pk}/screenings/"
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(verb="screening.requested").exists()


def test_the_countrys_official_cannot_rerun(api, held, official_jp):
    assert (
        api.as_user(official_jp).post(f"/api/v1/applications/{held.pk}/screenings/").status_code
        == 403
    )


def test_rerun_of_a_rejected_application_is_a_conflict(api, held, compliance_officer):
    from partnerships.workflow import application_transition

    application_transition(
        application=held,
        actor=compliance_officer,
        action="reject",
        version=held.version,
        rationale="sanctioned site",
    )
    response = api.as_user(compliance_officer).post(f"/api/v1/applications/{held.pk}/screenings/")
    assert response.status_code == 409


def test_drafts_are_invisible_to_programme_staff(
    api, territory_list, official_jp, jp, compliance_officer
):
    draft = create_application(official_jp, jp)
    assert (
        api.as_user(compliance_officer)
        .get(f"/api/v1/applications/{draft.pk}/screenings/")
        .status_code
        == 404
    )
