"""Commitments API: shapes, bad input, role matrix, isolation, totals, query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from partnerships.models import CoInvestmentCommitment, Tranche
from portal.audit.models import AuditEvent
from tests.factories import RLS_STATEMENTS, TenantFactory, make_user
from tests.partnerships.test_commitments import (
    approved_partnership,
    check_deferred_constraints,
    confirmed_commitment,
    load_rates,
    make_commitment,
    schedule,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/commitments/"


@pytest.fixture(autouse=True)
def rates(db: None) -> None:
    load_rates()


@pytest.fixture(autouse=True)
def database_agrees(db: None) -> Any:
    yield
    check_deferred_constraints()


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vehicle": "global_expansion",
        "amount": "150000000000",
        "currency": "JPY",
        "commitment_date": "2026-04-15",
        "tranches": [
            {"due_date": "2026-12-31", "amount": "50000000000"},
            {"due_date": "2027-12-31", "amount": "100000000000"},
        ],
    }
    body.update(overrides)
    return body


def test_official_creates_a_commitment(api, official_jp, jp):
    response = api.as_user(official_jp).post(URL, payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tenant"] == "JP" and body["status"] == "proposed" and body["version"] == 1
    assert body["amount"] == "150000000000" and body["currency"] == "JPY"
    assert body["fx_rate_date"] == "2026-04-01"
    rate = Decimal(body["fx_rate"])
    assert Decimal(body["usd_amount"]) == (Decimal("150000000000") * rate).quantize(Decimal("0.01"))
    assert [t["amount"] for t in body["tranches"]] == ["50000000000", "100000000000"]
    assert (
        AuditEvent.objects.filter(verb="commitment.created", object_id=str(body["id"])).count() == 1
    )


def test_bhd_amounts_keep_three_decimals(api, official_jp):
    body = payload(
        amount="1000.125",
        currency="BHD",
        tranches=[{"due_date": "2026-05-01", "amount": "1000.125"}],
    )
    response = api.as_user(official_jp).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "1000.125"
    assert response.json()["tranches"][0]["amount"] == "1000.125"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tranches": [{"due_date": "2026-12-31", "amount": "149999999999"}]}, "tranches"),
        ({"amount": "150000000000.5"}, "amount"),
        ({"currency": "ZZZ"}, "currency"),
        ({"amount": "-5", "tranches": []}, "amount"),
        ({"tranches": [{"due_date": "2026-04-14", "amount": "150000000000"}]}, "tranches"),
        ({"tranches": [{"due_date": "2026-12-31", "amount": "-150000000000"}]}, "tranches"),
        ({"amount": 150000000000.0}, "amount"),  # a JSON float has already lost exactness
        ({"vehicle": "moonshot"}, "vehicle"),
        ({"commitment_date": "2024-01-01"}, "commitment_date"),  # before the rate table starts
        ({"colour": "blue"}, "colour"),
        ({"tenant": "FR"}, "tenant"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_changes_nothing(
    api, official_jp, fr, change, field
):
    events = AuditEvent.objects.count()
    response = api.as_user(official_jp).post(URL, payload(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not CoInvestmentCommitment.objects.exists()
    assert AuditEvent.objects.count() == events


def test_patch_replaces_tranches_with_version(api, official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    response = api.as_user(official_jp).patch(
        f"{URL}{commitment.pk}/",
        {
            "version": 1,
            "amount": "3",
            "tranches": [
                {"due_date": "2026-05-01", "amount": "1"},
                {"due_date": "2026-06-01", "amount": "2"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2 and body["amount"] == "3"
    assert [(t["due_date"], t["amount"]) for t in body["tranches"]] == [
        ("2026-05-01", "1"),
        ("2026-06-01", "2"),
    ]


def test_patch_bad_schedule_is_400_and_changes_nothing(api, official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    response = api.as_user(official_jp).patch(
        f"{URL}{commitment.pk}/",
        {"version": 1, "tranches": [{"due_date": "2026-05-01", "amount": "1"}]},
        format="json",
    )
    assert response.status_code == 400 and "tranches" in response.json()
    assert commitment.tranches.count() == 2
    commitment.refresh_from_db()
    assert commitment.version == 1


def test_patch_needs_the_version_and_a_stale_one_is_409(api, official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    api.as_user(official_jp)
    assert (
        api.patch(
            f"{URL}{commitment.pk}/", {"vehicle": "national_startup_fund"}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.patch(
            f"{URL}{commitment.pk}/",
            {"vehicle": "national_startup_fund", "version": 1},
            format="json",
        ).status_code
        == 200
    )
    response = api.patch(
        f"{URL}{commitment.pk}/",
        {"vehicle": "in_country_infrastructure", "version": 1},
        format="json",
    )
    assert response.status_code == 409
    commitment.refresh_from_db()
    assert commitment.vehicle == "national_startup_fund"


def test_editing_a_confirmed_commitment_is_409(api, official_jp, jp):
    commitment = confirmed_commitment(official_jp, jp, make_user("approver"))
    response = api.as_user(official_jp).patch(
        f"{URL}{commitment.pk}/",
        {"version": commitment.version, "vehicle": "national_startup_fund"},
        format="json",
    )
    assert response.status_code == 409
    commitment.refresh_from_db()
    assert commitment.vehicle == "global_expansion"


def test_confirm_withdraw_and_pay_through_the_api(api, official_jp, jp):
    approver = make_user("approver")
    partnership = approved_partnership(official_jp, jp)
    commitment = make_commitment(official_jp, jp, partnership=partnership.pk)
    response = api.as_user(approver).post(
        f"{URL}{commitment.pk}/confirm/", {"version": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    tranche = commitment.tranches.order_by("due_date").first()
    pay = f"{URL}{commitment.pk}/tranches/{tranche.pk}/pay/"
    assert api.post(pay, {"payment_reference": ""}, format="json").status_code == 400
    response = api.post(pay, {"payment_reference": "SWIFT 42"}, format="json")
    assert response.status_code == 200
    assert response.json()["tranches"][0]["status"] == "paid"
    assert api.post(pay, {"payment_reference": "again"}, format="json").status_code == 409
    assert (
        api.post(
            f"{URL}{commitment.pk}/tranches/999999/pay/", {"payment_reference": "x"}, format="json"
        ).status_code
        == 404
    )

    other = make_commitment(official_jp, jp)
    response = api.as_user(official_jp).post(
        f"{URL}{other.pk}/withdraw/", {"version": 1}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert {t["status"] for t in response.json()["tranches"]} == {"cancelled"}


# --- Role matrix -------------------------------------------------------------------------------

ROLES = [
    "official",
    "country_admin",
    "reviewer",
    "security_reviewer",
    "compliance_officer",
    "us_coordinator",
    "approver",
    "auditor",
    "platform_admin",
]
# Expected status per role: create, update, confirm, withdraw, pay, list sees the commitment.
MATRIX = {
    "official": (201, 200, 403, 200, 403, True),
    "country_admin": (201, 200, 403, 200, 403, True),
    "reviewer": (403, 403, 403, 403, 403, True),
    "security_reviewer": (403, 403, 403, 403, 403, True),
    "compliance_officer": (403, 403, 403, 403, 200, True),
    "us_coordinator": (403, 403, 403, 403, 403, True),
    "approver": (403, 403, 200, 403, 200, True),
    "auditor": (403, 403, 403, 403, 403, True),
    "platform_admin": (403, 404, 404, 404, 404, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(api, official_jp, jp, role):
    create, update, confirm, withdraw, pay, sees = MATRIX[role]
    user = make_user(role, jp if role in ("official", "country_admin") else None)
    api.as_user(user)
    assert api.post(URL, payload(tenant="JP"), format="json").status_code == create

    proposed = make_commitment(official_jp, jp)
    assert (
        api.patch(
            f"{URL}{proposed.pk}/",
            {"version": 1, "vehicle": "national_startup_fund"},
            format="json",
        ).status_code
        == update
    )

    approver = make_user("approver", username="the-approver")
    partnership = approved_partnership(official_jp, jp)
    linked = make_commitment(official_jp, jp, partnership=partnership.pk)
    assert (
        api.post(f"{URL}{linked.pk}/confirm/", {"version": 1}, format="json").status_code == confirm
    )

    fresh = make_commitment(official_jp, jp)
    assert (
        api.post(f"{URL}{fresh.pk}/withdraw/", {"version": 1}, format="json").status_code
        == withdraw
    )

    confirmed = confirmed_commitment(official_jp, jp, approver)
    tranche = confirmed.tranches.first()
    assert (
        api.post(
            f"{URL}{confirmed.pk}/tranches/{tranche.pk}/pay/",
            {"payment_reference": "R1"},
            format="json",
        ).status_code
        == pay
    )

    listed = {row["id"] for row in api.get(URL, {"page_size": 200}).json()["results"]}
    assert (confirmed.pk in listed) is sees


def test_another_countrys_commitment_is_404_exactly_like_a_missing_one(
    api, official_jp, jp, official_fr
):
    approver = make_user("approver")
    commitment = confirmed_commitment(official_jp, jp, approver)
    tranche = commitment.tranches.first()
    api.as_user(official_fr)
    mine, missing = f"{URL}{commitment.pk}/", f"{URL}999999/"
    for method, suffix, body in [
        ("get", "", None),
        ("patch", "", {"version": 1, "vehicle": "national_startup_fund"}),
        ("post", "confirm/", {"version": 1}),
        ("post", "withdraw/", {"version": 1}),
        ("post", f"tranches/{tranche.pk}/pay/", {"payment_reference": "x"}),
    ]:
        theirs = getattr(api, method)(mine + suffix, body, format="json")
        nothing = getattr(api, method)(missing + suffix, body, format="json")
        assert theirs.status_code == nothing.status_code == 404, suffix
        assert theirs.json() == nothing.json(), suffix
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}totals/").json()["total"]["count"] == 0
    tranche.refresh_from_db()
    assert tranche.status == "scheduled"


def test_anonymous_is_refused(api, official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    assert api.get(URL).status_code in (401, 403)
    assert api.get(f"{URL}{commitment.pk}/").status_code in (401, 403)
    assert api.get(f"{URL}totals/").status_code in (401, 403)


# --- Lists, filters, totals --------------------------------------------------------------------


def _three_countries(official_jp: Any, jp: Any, official_fr: Any, fr: Any) -> dict[str, Any]:
    approver = make_user("approver")
    ae = TenantFactory(code="AE", name="United Arab Emirates")
    official_ae = make_user("official", ae, "official-ae")
    made = {
        "jp": confirmed_commitment(official_jp, jp, approver),
        "jp2": make_commitment(
            official_jp,
            jp,
            vehicle="national_startup_fund",
            amount=Decimal("7000000"),
            tranches=schedule(("2026-08-01", "7000000")),
        ),
        "fr": make_commitment(
            official_fr,
            fr,
            amount=Decimal("1000000.55"),
            currency="EUR",
            tranches=schedule(("2026-09-01", "1000000.55")),
        ),
        "ae": make_commitment(
            official_ae,
            ae,
            vehicle="in_country_infrastructure",
            amount=Decimal("3672500"),
            currency="AED",
            tranches=schedule(("2026-09-01", "3672500")),
        ),
        "gone": make_commitment(official_fr, fr, amount=Decimal("5"), currency="EUR", tranches=[]),
    }
    from partnerships.commitments import payments, services

    services.commitment_withdraw(commitment=made["gone"], actor=official_fr, version=1)
    tranche = made["jp"].tranches.order_by("due_date").first()
    payments.tranche_mark_paid(
        commitment=made["jp"], tranche_id=tranche.pk, actor=approver, payment_reference="P"
    )
    return made


def test_list_filters(api, official_jp, jp, official_fr, fr):
    made = _three_countries(official_jp, jp, official_fr, fr)
    api.as_user(make_user("auditor"))
    ids = lambda **q: {r["id"] for r in api.get(URL, q).json()["results"]}  # noqa: E731
    assert ids(country="jp") == {made["jp"].pk, made["jp2"].pk}
    assert ids(vehicle="in_country_infrastructure") == {made["ae"].pk}
    assert ids(status="withdrawn") == {made["gone"].pk}
    assert ids(status="confirmed", country="JP") == {made["jp"].pk}
    assert api.get(URL, {"status": "bogus"}).status_code == 400


def test_totals_equal_the_sum_of_the_rows(api, official_jp, jp, official_fr, fr):
    made = _three_countries(official_jp, jp, official_fr, fr)
    api.as_user(make_user("approver", username="totals-approver"))
    totals = api.get(f"{URL}totals/").json()
    rows = api.get(URL, {"page_size": 200}).json()["results"]
    live = [r for r in rows if r["status"] != "withdrawn"]
    total = sum((Decimal(r["usd_amount"]) for r in live), Decimal(0))
    assert Decimal(totals["total"]["usd_amount"]) == total
    assert totals["total"]["count"] == 4
    for group in ("by_country", "by_vehicle"):
        assert sum((Decimal(g["usd_amount"]) for g in totals[group]), Decimal(0)) == total
    by_country = {g["key"]: g for g in totals["by_country"]}
    assert set(by_country) == {"JP", "FR", "AE"}
    jp_rows = [r for r in live if r["tenant"] == "JP"]
    assert Decimal(by_country["JP"]["usd_amount"]) == sum(
        (Decimal(r["usd_amount"]) for r in jp_rows), Decimal(0)
    )
    assert Decimal(by_country["AE"]["usd_amount"]) == Decimal(
        "1000000.00"
    )  # 3,672,500 AED at the 3.6725 peg
    # Paid: the paid tranche's amount at the commitment's stored rate.
    paid = made["jp"].tranches.get(status="paid")
    expected_paid = (paid.amount * made["jp"].fx_rate).quantize(Decimal("0.01"))
    assert (
        Decimal(totals["total"]["usd_paid"])
        == expected_paid
        == Decimal(by_country["JP"]["usd_paid"])
    )
    assert Decimal(by_country["JP"]["usd_confirmed"]) == made["jp"].usd_amount
    by_status = {g["key"]: g for g in totals["by_status"]}
    assert sum((Decimal(g["usd_amount"]) for g in totals["by_status"]), Decimal(0)) == sum(
        (Decimal(r["usd_amount"]) for r in rows), Decimal(0)
    )
    assert by_status["withdrawn"]["count"] == 1
    assert all(isinstance(v, str) for v in totals["total"].values() if not isinstance(v, int))
    # Filters apply to totals too.
    assert api.get(f"{URL}totals/", {"country": "FR"}).json()["total"]["count"] == 1


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_query_count_is_bounded_and_independent_of_page_size(
    api, official_jp, jp, page_size, django_assert_num_queries
):
    for n in range(12):
        make_commitment(
            official_jp,
            jp,
            amount=Decimal(1000 + n),
            tranches=schedule(("2026-05-01", str(1000 + n))),
        )
    api.as_user(make_user("auditor"))
    # Exactly: the caller's roles, the page of commitments, their tranches (one prefetch),
    # whatever the page size (issue #13: exact counts, not bounds).
    with django_assert_num_queries(3 + RLS_STATEMENTS):
        response = api.get(URL, {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(12, page_size)
    assert all(len(r["tranches"]) == 1 for r in response.json()["results"])


def test_cursor_pagination(api, official_jp, jp):
    for n in range(3):
        make_commitment(official_jp, jp, amount=Decimal(10 + n), tranches=[])
    api.as_user(official_jp)
    first = api.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_paid_and_overdue_tranches_show_in_the_detail(api, official_jp, jp):
    approver = make_user("approver")
    commitment = confirmed_commitment(
        official_jp,
        jp,
        approver,
        commitment_date=dt.date(2025, 1, 2),
        tranches=schedule(("2025-02-01", "150000000000")),
    )
    from partnerships.commitments.payments import mark_overdue_tranches

    mark_overdue_tranches()
    body = api.as_user(official_jp).get(f"{URL}{commitment.pk}/").json()
    assert body["tranches"][0]["status"] == "overdue"
    assert Tranche.objects.get(commitment=commitment).status == "overdue"
