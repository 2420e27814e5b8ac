"""Commitments pages: officials' list and editor, programme dashboard, CSV export, actions."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages

from partnerships.commitments import dashboard, money, payments
from partnerships.commitments.chart import chart
from partnerships.commitments.totals import commitment_timeline, commitment_totals
from partnerships.models import CoInvestmentCommitment
from portal.audit.models import AuditEvent
from tests.factories import make_user
from tests.partnerships.test_commitments import (
    approved_partnership,
    check_deferred_constraints,
    confirmed_commitment,
    load_rates,
    make_commitment,
    schedule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rates(db: None) -> None:
    load_rates()


@pytest.fixture(autouse=True)
def database_agrees(db: None) -> Any:
    yield
    check_deferred_constraints()


def as_user(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def unlabelled_inputs(html: str) -> list[str]:
    """Visible form controls without a <label for=…> (or an aria-label)."""
    labels = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    missing = []
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag or "aria-label=" in tag:
            continue
        match = re.search(r'\bid="([^"]+)"', tag)
        if not match or match.group(1) not in labels:
            missing.append(tag)
    return missing


def test_official_sees_only_their_countrys_commitments(client, official_jp, jp, official_fr, fr):
    mine = make_commitment(official_jp, jp)
    theirs = make_commitment(official_fr, fr, amount=Decimal("10"), currency="EUR", tranches=[])
    response = as_user(client, official_jp).get("/commitments/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/commitments/{mine.pk}/" in html and f"/commitments/{theirs.pk}/" not in html
    assert "¥150,000,000,000" in html
    assert "Totals in US dollars" not in html  # the dashboard is for programme staff
    assert client.get(f"/commitments/{theirs.pk}/").status_code == 404


def test_people_without_a_role_are_refused(client, db):
    assert as_user(client, make_user()).get("/commitments/").status_code == 403


def test_programme_dashboard_totals_and_chart(client, official_jp, jp, official_fr, fr):
    approver = make_user("approver")
    confirmed = confirmed_commitment(official_jp, jp, approver)
    payments.tranche_mark_paid(
        commitment=confirmed,
        tranche_id=confirmed.tranches.order_by("due_date").first().pk,
        actor=approver,
        payment_reference="P1",
    )
    make_commitment(
        official_fr,
        fr,
        amount=Decimal("1000000.55"),
        currency="EUR",
        tranches=schedule(("2026-09-01", "1000000.55")),
    )
    response = as_user(client, make_user("auditor")).get("/commitments/")
    assert response.status_code == 200
    html = response.content.decode()
    totals = commitment_totals(CoInvestmentCommitment.objects.all())
    total = sum((c.usd_amount for c in CoInvestmentCommitment.objects.all()), Decimal(0))
    assert totals["total"]["usd_amount"] == total
    assert money.format_money(total, "USD", "en") in html
    assert "<svg" in html and "<polyline" in html and 'role="img"' in html
    assert "By country" in html and "By vehicle" in html and "By status" in html
    assert unlabelled_inputs(html) == []


def test_dashboard_is_translated_and_amounts_follow_the_locale(client, official_fr, fr):
    make_commitment(
        official_fr,
        fr,
        amount=Decimal("1000000.55"),
        currency="EUR",
        tranches=schedule(("2026-09-01", "1000000.55")),
    )
    html = as_user(client, official_fr).get("/fr/commitments/").content.decode()
    assert "1\u202f000\u202f000,55\xa0€" in html
    assert 'lang="fr"' in html


def test_chart_geometry_is_cumulative_by_month(official_jp, jp):
    approver = make_user("approver")
    confirmed_commitment(official_jp, jp, approver)
    points = commitment_timeline(CoInvestmentCommitment.objects.all())
    geometry = chart(points)
    assert geometry is not None
    assert geometry["rows"][-1]["committed"] == money.format_money(
        sum((c.usd_amount for c in CoInvestmentCommitment.objects.all()), Decimal(0)), "USD"
    )
    assert len(geometry["committed"].split()) == len(geometry["rows"])


def test_new_form_is_labelled_and_creates_a_commitment(client, official_jp, jp):
    as_user(client, official_jp)
    form = client.get("/commitments/new/")
    assert form.status_code == 200
    assert unlabelled_inputs(form.content.decode()) == []
    response = client.post(
        "/commitments/new/",
        {
            "vehicle": "national_startup_fund",
            "amount": "1000.125",
            "currency": "bhd",
            "commitment_date": "2026-04-15",
            "tranche_due_date": ["2026-05-01", "2026-06-01", ""],
            "tranche_amount": ["500", "500.125", ""],
        },
    )
    commitment = CoInvestmentCommitment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/commitments/{commitment.pk}/"
    )
    assert commitment.currency == "BHD" and commitment.amount == Decimal("1000.125")
    assert [t.amount for t in commitment.tranches.all()] == [Decimal("500"), Decimal("500.125")]


def test_tranche_amounts_are_accepted_as_the_locale_writes_them(client, official_jp, jp):
    """Issue #14: "1,000,000" was refused in the tranche rows while the amount took it."""
    as_user(client, official_jp)
    for prefix, total, first, second in (
        ("", "1,000,000.5", "600,000", "400,000.5"),
        ("/fr", "1 000 000,5", "600 000", "400 000,5"),
    ):
        response = client.post(
            f"{prefix}/commitments/new/",
            {
                "vehicle": "national_startup_fund",
                "amount": total,
                "currency": "eur",
                "commitment_date": "2026-04-15",
                "tranche_due_date": ["2026-05-01", "2026-06-01"],
                "tranche_amount": [first, second],
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
    for commitment in CoInvestmentCommitment.objects.all():
        assert commitment.amount == Decimal("1000000.5")
        assert [t.amount for t in commitment.tranches.all()] == [
            Decimal("600000"),
            Decimal("400000.5"),
        ]
    assert CoInvestmentCommitment.objects.count() == 2
    # The editor's running total is told the reader's separators.
    html = client.get("/fr/commitments/new/").content.decode()
    assert 'data-decimal=","' in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tranche_amount": ["500", "400", ""]}, "The tranches sum to 900 but the amount is 1000"),
        ({"amount": "1000.5", "currency": "JPY"}, "at most 0 decimal places"),
        ({"currency": "ZZZ"}, "not an ISO 4217 currency code"),
        ({"tranche_due_date": ["2026-01-01", "2026-06-01", ""]}, "before the commitment date"),
        ({"amount": "abc"}, "in digits"),
    ],
)
def test_bad_form_shows_the_error_and_saves_nothing(client, official_jp, jp, change, message):
    data = {
        "vehicle": "global_expansion",
        "amount": "1000",
        "currency": "USD",
        "commitment_date": "2026-04-15",
        "tranche_due_date": ["2026-05-01", "2026-06-01", ""],
        "tranche_amount": ["500", "500", ""],
    }
    data.update(change)
    response = as_user(client, official_jp).post("/commitments/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CoInvestmentCommitment.objects.exists()


def test_edit_then_withdraw(client, official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    as_user(client, official_jp)
    page = client.get(f"/commitments/{commitment.pk}/edit/")
    assert page.status_code == 200 and unlabelled_inputs(page.content.decode()) == []
    response = client.post(
        f"/commitments/{commitment.pk}/edit/",
        {
            "version": "1",
            "vehicle": "global_expansion",
            "amount": "200",
            "currency": "JPY",
            "commitment_date": "2026-04-15",
            "tranche_due_date": ["2026-05-01"],
            "tranche_amount": ["200"],
        },
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.amount == 200 and commitment.version == 2
    # The page's version is now stale: the withdrawal is refused and nothing changes.
    client.post(f"/commitments/{commitment.pk}/withdraw/", {"version": "1"})
    commitment.refresh_from_db()
    assert commitment.status == "proposed"
    client.post(f"/commitments/{commitment.pk}/withdraw/", {"version": "2"})
    commitment.refresh_from_db()
    assert commitment.status == "withdrawn"


def test_approver_confirms_and_records_a_payment_on_the_page(client, official_jp, jp):
    approver = make_user("approver")
    partnership = approved_partnership(official_jp, jp)
    commitment = make_commitment(official_jp, jp, partnership=partnership.pk)
    as_user(client, approver)
    page = client.get(f"/commitments/{commitment.pk}/").content.decode()
    assert "Confirm this commitment" in page
    client.post(f"/commitments/{commitment.pk}/confirm/", {"version": "1"})
    commitment.refresh_from_db()
    assert commitment.status == "confirmed"
    tranche = commitment.tranches.first()
    page = client.get(f"/commitments/{commitment.pk}/").content.decode()
    assert unlabelled_inputs(page) == []
    client.post(
        f"/commitments/{commitment.pk}/tranches/{tranche.pk}/pay/", {"payment_reference": "SWIFT-9"}
    )
    tranche.refresh_from_db()
    assert tranche.status == "paid" and tranche.payment_reference == "SWIFT-9"


def test_official_cannot_confirm_on_the_page(client, official_jp, jp):
    partnership = approved_partnership(official_jp, jp)
    commitment = make_commitment(official_jp, jp, partnership=partnership.pk)
    response = as_user(client, official_jp).post(
        f"/commitments/{commitment.pk}/confirm/", {"version": "1"}
    )
    assert response.status_code == 403
    commitment.refresh_from_db()
    assert commitment.status == "proposed"


def test_csv_export_streams_the_filtered_list(client, official_jp, jp):
    make_commitment(official_jp, jp)
    make_commitment(
        official_jp, jp, vehicle="national_startup_fund", amount=Decimal("5"), tranches=[]
    )
    auditor = make_user("auditor")
    assert as_user(client, auditor).get("/commitments/export.csv").status_code == 405
    response = client.post("/commitments/export.csv", {"vehicle": "global_expansion"})
    assert response.status_code == 200 and response.streaming
    recorded = AuditEvent.objects.latest("id")
    assert recorded.verb == "commitments.exported" and recorded.actor == auditor
    assert recorded.changes == {"filter": {"vehicle": "global_expansion"}}
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert (
        rows[0]["amount"] == "150000000000"
        and rows[0]["currency"] == "JPY"
        and rows[0]["country"] == "JP"
    )
    assert (
        Decimal(rows[0]["usd_amount"])
        == CoInvestmentCommitment.objects.get(vehicle="global_expansion").usd_amount
    )


def test_csv_export_is_scoped_to_the_officials_country(client, official_jp, jp, official_fr, fr):
    make_commitment(official_jp, jp)
    response = as_user(client, official_fr).post("/commitments/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1  # the header only


def test_panels_count_what_waits(official_jp, jp):
    approver = make_user("approver")
    make_commitment(official_jp, jp)
    official_panels = {p.title: p.count for p in dashboard.commitment_panels(official_jp)}
    approver_panels = {p.title: p.count for p in dashboard.commitment_panels(approver)}
    assert official_panels["Proposed commitments"] == 1
    assert approver_panels["Commitments to confirm"] == 1
    assert dashboard.commitment_panels(make_user("reviewer")) == []


def _messages(response: Any) -> list[str]:
    """The last message queued (earlier redirects are not followed, so theirs are still queued)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def test_service_errors_become_form_errors_or_messages(client, official_jp, jp):
    """The pages' service errors (issue #13: through portal.ui.service_errors): invalid input on
    the form (400), a conflict or refusal of an action as a message and a redirect."""
    commitment = make_commitment(official_jp, jp)
    as_user(client, official_jp)
    edit = {
        "vehicle": "global_expansion",
        "amount": "100",
        "currency": "JPY",
        "commitment_date": "2026-04-15",
        "tranche_due_date": ["2026-05-01"],
        "tranche_amount": ["100"],
    }
    # No version: the service's "version" error lands in the form's general errors.
    response = client.post(f"/commitments/{commitment.pk}/edit/", edit)
    assert response.status_code == 400
    assert "Send the version you saw." in response.content.decode()
    # A stale version: a message, back to the commitment, nothing changed.
    response = client.post(f"/commitments/{commitment.pk}/edit/", {**edit, "version": "7"})
    assert response.status_code == 302 and response["Location"].endswith(
        f"/commitments/{commitment.pk}/"
    )
    assert _messages(response) == ["The commitment changed since you loaded it; reload it."]
    # An application of no one's: the service's field error on the form's field.
    response = client.post("/commitments/new/", {**edit, "application": "999999"})
    assert response.status_code == 400 and "Unknown application." in response.content.decode()
    # An action without its version: the message of the ValidationError.
    response = client.post(f"/commitments/{commitment.pk}/withdraw/", {})
    assert _messages(response) == ["Send the version you saw."]
    commitment.refresh_from_db()
    assert commitment.status == "proposed" and commitment.version == 1


def test_payment_errors_are_messages(client, official_jp, jp):
    approver = make_user("approver")
    commitment = confirmed_commitment(official_jp, jp, approver)
    tranche = commitment.tranches.order_by("due_date").first()
    as_user(client, approver)
    url = f"/commitments/{commitment.pk}/tranches/{tranche.pk}/pay/"
    response = client.post(url, {"payment_reference": "   "})
    assert response.status_code == 302 and _messages(response) == ["Give the payment reference."]
    response = client.post(url, {"payment_reference": "SWIFT-1"})
    assert _messages(response) == ["Payment recorded."]
    response = client.post(url, {"payment_reference": "SWIFT-2"})
    assert _messages(response) == ["This tranche is Paid."]
    tranche.refresh_from_db()
    assert tranche.payment_reference == "SWIFT-1"
