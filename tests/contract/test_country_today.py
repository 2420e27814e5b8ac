"""Row 11 of issue #10 and its kind: "today" for a country is the date in its time zone.

Fixed at 16:00 UTC on 1 March 2026: already 2 March in Tokyo (UTC+9), still 1 March in Paris
(UTC+1). ``timezone.now`` is pinned (the only thing replaced; the database is real).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from partnerships import services, workflow
from partnerships.commitments import payments, validation
from partnerships.models import CountryApplication, Decision, Obligation, State, Tranche
from portal.tenancy.models import Tenant
from tests.factories import create_application, make_user
from tests.partnerships.test_commitments import confirmed_commitment, load_rates

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)
TOKYO_TODAY, UTC_TODAY = dt.date(2026, 3, 2), dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def pinned(monkeypatch, jp, fr):
    Tenant.objects.filter(code="JP").update(time_zone="Asia/Tokyo")
    Tenant.objects.filter(code="FR").update(time_zone="Europe/Paris")
    jp.refresh_from_db()
    fr.refresh_from_db()
    load_rates()
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_a_commitment_dated_today_in_tokyo_is_accepted(api, official_jp):
    body = {
        "vehicle": "global_expansion",
        "amount": "1000",
        "currency": "JPY",
        "commitment_date": TOKYO_TODAY.isoformat(),
    }
    response = api.as_user(official_jp).post("/api/v1/commitments/", body, format="json")
    assert response.status_code == 201, response.content
    tomorrow = {**body, "commitment_date": "2026-03-03"}
    response = api.as_user(official_jp).post("/api/v1/commitments/", tomorrow, format="json")
    assert response.status_code == 400 and "future" in str(response.json()["commitment_date"])


def test_paris_is_still_on_the_utc_date(api, official_fr):
    body = {
        "vehicle": "global_expansion",
        "amount": "1000",
        "currency": "EUR",
        "commitment_date": TOKYO_TODAY.isoformat(),
    }
    response = api.as_user(official_fr).post("/api/v1/commitments/", body, format="json")
    assert response.status_code == 400 and "future" in str(response.json()["commitment_date"])


def test_target_online_date_is_not_in_the_past_in_the_country(api, official_jp, official_fr, jp):
    site = {
        "country": "JP",
        "region": "Kansai",
        "capacity_mw": "10",
        "target_online_date": UTC_TODAY.isoformat(),
        "energy_mix": {"solar": 100},
    }
    tokyo = create_application(official_jp, jp)
    response = api.as_user(official_jp).patch(
        f"/api/v1/applications/{tokyo.pk}/", {"sites": [site], "version": 1}, format="json"
    )
    assert response.status_code == 400 and "past" in str(response.json()["sites"])
    created = api.as_user(official_jp).post(
        "/api/v1/applications/", {"title": "x", "sites": [site]}, format="json"
    )
    assert created.status_code == 400 and "past" in str(created.json()["sites"])
    paris = api.as_user(official_fr).post(
        "/api/v1/applications/", {"title": "x", "sites": [{**site, "country": "FR"}]}, format="json"
    )
    assert paris.status_code == 201, paris.content


def _at(application, state):
    CountryApplication.objects.filter(pk=application.pk).update(
        state=state, screening_outcome="clear", screening_list_version=1
    )
    application.refresh_from_db()
    return application


@pytest.mark.parametrize(("country", "accepted"), [("jp", False), ("fr", True)])
def test_condition_due_dates_are_the_countrys(request, country, accepted):
    tenant, official = (
        request.getfixturevalue(country),
        request.getfixturevalue(f"official_{country}"),
    )
    application = _at(create_application(official, tenant), State.US_COORDINATION)
    call = dict(
        application=application,
        actor=make_user("us_coordinator"),
        action="concur",
        version=1,
        rationale="fine",
        conditions=[workflow.ConditionInput("VEU first", UTC_TODAY)],
    )
    if accepted:
        workflow.application_transition(**call)
        assert Obligation.objects.get().due_date == UTC_TODAY
    else:
        with pytest.raises(Exception, match="past"):
            workflow.application_transition(**call)


def test_overdue_marking_uses_each_countrys_date(official_jp, official_fr, jp, fr):
    due = UTC_TODAY  # passed in Tokyo (2 March), not yet in Paris (1 March)
    for tenant, official in ((jp, official_jp), (fr, official_fr)):
        application = _at(create_application(official, tenant), State.FINAL_REVIEW)
        decision = Decision.objects.create(
            application=application, action="concur", from_state="us_coordination",
            to_state="final_review", actor_label="x", role="us_coordinator",
            application_version=1,
        )  # fmt: skip
        Obligation.objects.create(
            tenant=tenant, application=application, decision=decision, text="c", due_date=due
        )
    assert services.mark_overdue_work()["obligations"] == 1
    assert dict(Obligation.objects.values_list("tenant__code", "status")) == {
        "JP": "overdue",
        "FR": "open",
    }


def test_tranches_are_overdue_by_their_countrys_date(official_jp, official_fr, jp, fr):
    approver = make_user("approver")
    for tenant, official, currency in ((jp, official_jp, "JPY"), (fr, official_fr, "EUR")):
        confirmed_commitment(
            official, tenant, approver,
            currency=currency, amount=Decimal("1000"), commitment_date=dt.date(2026, 1, 5),
            tranches=[validation.TrancheInput(UTC_TODAY, Decimal("1000"))],
        )  # fmt: skip
    assert payments.mark_overdue_tranches() == 1
    assert dict(Tranche.objects.values_list("commitment__tenant__code", "status")) == {
        "JP": "overdue",
        "FR": "scheduled",
    }
