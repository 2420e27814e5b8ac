"""Rows 13–16 of issue #10: a country's people get the country's view of its applications,
whatever other roles they hold (one function decides: ``acts_as_country``)."""

from __future__ import annotations

import pytest

from partnerships.models import CountryApplication, Decision, State
from portal.tenancy.access import acts_as_country
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/applications/"
INTERNAL_WORDS = ("screening_hold", "technical_review", "Technical review", "screening_outcome")


def _at(application, state, **extra):
    CountryApplication.objects.filter(pk=application.pk).update(state=state, **extra)
    application.refresh_from_db()
    return application


@pytest.fixture
def jp_reviewer(jp):
    """A JP official who is also a programme reviewer and compliance officer."""
    make_user("official", jp, "official-and-reviewer")
    make_user("reviewer", username="official-and-reviewer")
    # The factory sets the password on each call: the last instance is the current one.
    return make_user("compliance_officer", username="official-and-reviewer")


# Row 13 ---------------------------------------------------------------------------------------
def test_officials_filter_by_public_state_only(api, official_jp, jp):
    held = _at(create_application(official_jp, jp), State.SCREENING_HOLD)
    _at(create_application(official_jp, jp), State.TECHNICAL_REVIEW)
    create_application(official_jp, jp)
    client = api.as_user(official_jp)
    refused = client.get(URL, {"state": "screening_hold"})
    assert refused.status_code == 400 and "state" in refused.json()
    under_review = client.get(URL, {"state": "under_review"}).json()["results"]
    assert len(under_review) == 2 and held.pk in {a["id"] for a in under_review}
    drafts = client.get(URL, {"state": "draft"}).json()["results"]
    assert [a["public_state"] for a in drafts] == ["draft"]


def test_staff_filter_by_internal_state_but_not_in_their_own_country(
    api, official_jp, official_fr, jp, fr, jp_reviewer
):
    _at(create_application(official_jp, jp), State.SCREENING_HOLD)
    theirs = _at(create_application(official_fr, fr), State.SCREENING_HOLD)
    staff = api.as_user(make_user("compliance_officer"))
    assert len(staff.get(URL, {"state": "screening_hold"}).json()["results"]) == 2
    mixed = api.as_user(jp_reviewer).get(URL, {"state": "screening_hold"}).json()["results"]
    assert [a["id"] for a in mixed] == [theirs.pk]
    assert mixed[0]["state"] == "screening_hold"  # FR: programme staff's view


# Row 14 ---------------------------------------------------------------------------------------
def test_a_409_to_an_official_names_the_public_state(api, official_jp, jp):
    application = _at(create_application(official_jp, jp), State.TECHNICAL_REVIEW)
    response = api.as_user(official_jp).post(
        f"{URL}{application.pk}/transitions/",
        {"action": "submit", "version": application.version},
        format="json",
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "Under review" in detail
    assert not any(word in detail for word in INTERNAL_WORDS)


def test_a_409_to_staff_names_the_internal_state(api, official_jp, jp):
    application = _at(create_application(official_jp, jp), State.SECURITY_REVIEW)
    response = api.as_user(make_user("reviewer")).post(
        f"{URL}{application.pk}/transitions/",
        {"action": "approve_technical", "version": application.version},
        format="json",
    )
    assert response.status_code == 409 and "Security review" in response.json()["detail"]


# Row 15 ---------------------------------------------------------------------------------------
def test_an_official_who_is_also_a_reviewer_gets_the_countrys_view(
    api, client, official_jp, jp, jp_reviewer
):
    application = _at(
        create_application(official_jp, jp), State.SECURITY_REVIEW, screening_outcome="clear"
    )
    Decision.objects.create(
        application=application, action="approve_technical", from_state="technical_review",
        to_state="security_review", actor_label="someone", role="reviewer",
        rationale="internal deliberation", risk_level="", application_version=2,
    )  # fmt: skip
    assert acts_as_country(jp_reviewer, jp.pk)
    api.as_user(jp_reviewer)
    detail = api.get(f"{URL}{application.pk}/").json()
    assert "state" not in detail and "screening_outcome" not in detail
    assert detail["public_state"] == "under_review"
    listed = api.get(URL).json()["results"]
    assert all("state" not in a and "screening_outcome" not in a for a in listed)
    decisions = api.get(f"{URL}{application.pk}/decisions/").content.decode()
    assert "internal deliberation" not in decisions and "security_review" not in decisions
    screenings = api.get(f"{URL}{application.pk}/screenings/")
    assert screenings.status_code == 200 and "outcome" not in screenings.content.decode()
    transitions = api.get(f"{URL}{application.pk}/transitions/").json()
    assert transitions["state"] == "under_review"

    client.force_login(jp_reviewer)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "internal deliberation" not in page and "Security review" not in page
    review = client.get(f"/review/{application.pk}/")
    assert review.status_code == 302 and review["Location"] == f"/applications/{application.pk}/"


def test_programme_staff_keep_the_internal_view(api, official_jp, jp):
    application = _at(create_application(official_jp, jp), State.SECURITY_REVIEW)
    detail = api.as_user(make_user("reviewer")).get(f"{URL}{application.pk}/").json()
    assert detail["state"] == "security_review" and detail["public_state"] == "under_review"
    assert detail["public_state_label"] == "Under review"


# Row 16 ---------------------------------------------------------------------------------------
def test_an_officials_decision_list_collapses_moves_it_cannot_see(api, client, official_jp, jp):
    application = _at(create_application(official_jp, jp), State.INFO_REQUESTED)
    steps = [
        ("submit", "draft", "screening", "", ""),
        ("screen_clear", "screening", "technical_review", "", ""),
        ("approve_technical", "technical_review", "security_review", "fine", ""),
        ("approve_security", "security_review", "us_coordination", "low risk", "Thank you."),
        ("request_info", "us_coordination", "info_requested", "Which chips?", ""),
    ]
    for n, (action, before, after, rationale, message) in enumerate(steps, start=2):
        Decision.objects.create(
            application=application, action=action, from_state=before, to_state=after,
            actor_label="x", role="r", rationale=rationale, message_to_country=message,
            application_version=n,
        )  # fmt: skip
    country = api.as_user(official_jp).get(f"{URL}{application.pk}/decisions/").json()
    assert [(d["from_state"], d["to_state"]) for d in country] == [
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "under_review"),  # kept: it carries a message to the country
        ("under_review", "information_requested"),
    ]
    assert country[2]["message_to_country"] == "Thank you."
    assert country[3]["questions"] == "Which chips?"
    staff = api.as_user(make_user("reviewer")).get(f"{URL}{application.pk}/decisions/").json()
    assert len(staff) == 5 and staff[2]["rationale"] == "fine"

    client.force_login(official_jp)
    page = client.get(f"/applications/{application.pk}/").content.decode()
    timeline = page[
        page.index('id="timeline-h"') : page.index("</ol>", page.index('id="timeline-h"'))
    ]
    assert timeline.count("<li>") == 1 + 4  # "Draft created", then the four the country sees
    assert "fine" not in page and "low risk" not in page
