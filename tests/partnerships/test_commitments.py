"""Commitment services: exact money, rates by date, the tranche-sum rule (service and
database trigger), the state rules, overdue marking, and the rate-table loader.

Helpers here are imported by the API and web test modules."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from partnerships.commitments import money, payments, services, validation
from partnerships.commitments.rates import rate_on
from partnerships.commitments.validation import TrancheInput
from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    FxRate,
    OutboxEmail,
    Partnership,
    State,
    Tranche,
)
from partnerships.tasks import mark_overdue_tranches
from portal.audit.models import AuditEvent
from portal.errors import ConflictError
from tests.factories import TenantFactory, create_application, make_user

pytestmark = pytest.mark.django_db

D = Decimal
COMMIT_DAY = dt.date(2026, 4, 15)  # the table has a rate on 2026-04-01


# --- Helpers shared with the other commitment test modules -----------------------------------


def load_rates() -> None:
    call_command("load_fx_rates", stdout=io.StringIO())


def approved_partnership(official: Any, tenant: Any) -> Partnership:
    """An approved application and its partnership (set directly: the workflow has its own tests)."""
    application = create_application(official, tenant)
    CountryApplication.objects.filter(pk=application.pk).update(state=State.APPROVED)
    return Partnership.objects.create(
        tenant=tenant, application=application, effective_date=COMMIT_DAY
    )


def schedule(*parts: tuple[str, str]) -> list[TrancheInput]:
    return [TrancheInput(dt.date.fromisoformat(day), D(amount)) for day, amount in parts]


def make_commitment(official: Any, tenant: Any, **overrides: Any) -> CoInvestmentCommitment:
    data: dict[str, Any] = {
        "vehicle": "global_expansion",
        "amount": D("150000000000"),
        "currency": "JPY",
        "commitment_date": COMMIT_DAY,
        "tranches": schedule(("2026-12-31", "50000000000"), ("2027-12-31", "100000000000")),
    }
    data.update(overrides)
    return services.commitment_create(actor=official, tenant=tenant, data=data)  # type: ignore[arg-type]


def confirmed_commitment(
    official: Any, tenant: Any, approver: Any, **overrides: Any
) -> CoInvestmentCommitment:
    partnership = approved_partnership(official, tenant)
    commitment = make_commitment(official, tenant, partnership=partnership.pk, **overrides)
    return services.commitment_confirm(
        commitment=commitment, actor=approver, version=commitment.version
    )


def check_deferred_constraints() -> None:
    """Run the deferred trigger now (tests never commit, so it would otherwise never fire)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture(autouse=True)
def rates(db: None) -> None:
    load_rates()


@pytest.fixture(autouse=True)
def database_agrees(db: None) -> Any:
    """Every test's final state must also satisfy the database trigger."""
    yield
    check_deferred_constraints()


@pytest.fixture
def approver(db: None) -> Any:
    return make_user("approver", username="approver")


# --- Money ----------------------------------------------------------------------------------


def test_jpy_amount_converts_with_the_dated_rate_and_rounds_half_even(official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    rate = FxRate.objects.get(currency="JPY", date=dt.date(2026, 4, 1)).usd_per_unit
    assert commitment.fx_rate == rate and commitment.fx_rate_date == dt.date(2026, 4, 1)
    assert commitment.usd_amount == (D("150000000000") * rate).quantize(D("0.01"))
    assert isinstance(commitment.usd_amount, Decimal)


def test_rounding_is_half_to_even_on_the_exact_product():
    # 0.125 and 0.135 are exact halves of a cent: banker's rounding goes to the even cent.
    assert money.to_usd(D("1"), D("0.125")) == D("0.12")
    assert money.to_usd(D("1"), D("0.135")) == D("0.14")
    # The exact product is …10.005000000000001: just above a half cent, so it rounds up. With
    # Python's default 28-digit context the product would be cut to …10.00500000000000, a tie,
    # and half-even would round it down to …10.00.
    assert money.to_usd(D("10004000000000.001"), D("1.000000000001")) == D("10004000000010.01")


@pytest.mark.parametrize(
    ("currency", "amount", "ok"),
    [
        ("JPY", "1000", True),
        ("JPY", "1000.5", False),
        ("KRW", "1.1", False),
        ("BHD", "1.125", True),
        ("BHD", "1.1255", False),
        ("OMR", "0.001", True),
        ("USD", "10.99", True),
        ("USD", "10.999", False),
        ("EUR", "0", False),
        ("EUR", "-5", False),
    ],
)
def test_amount_decimals_follow_the_currency_minor_unit(official_jp, jp, currency, amount, ok):
    data = {"amount": D(amount), "currency": currency, "tranches": []}
    if ok:
        commitment = make_commitment(official_jp, jp, **data)
        assert commitment.amount == D(amount)
    else:
        with pytest.raises(ValidationError) as caught:
            make_commitment(official_jp, jp, **data)
        assert "amount" in caught.value.message_dict
        assert not CoInvestmentCommitment.objects.exists()


def test_ten_trillion_splits_into_exact_tranches(official_jp, jp):
    big = D(10) ** 13
    third = D("3333333333333.333")
    last = big - 2 * third  # 3333333333333.334
    commitment = make_commitment(
        official_jp,
        jp,
        amount=big,
        currency="BHD",
        tranches=schedule(
            ("2026-06-01", str(third)), ("2026-07-01", str(third)), ("2026-08-01", str(last))
        ),
    )
    commitment.refresh_from_db()
    stored = [t.amount for t in commitment.tranches.all()]
    assert sum(stored, D(0)) == big == commitment.amount
    assert commitment.usd_amount == (big * commitment.fx_rate).quantize(D("0.01"))
    check_deferred_constraints()


def test_tranches_off_by_the_smallest_unit_are_refused(official_jp, jp):
    with pytest.raises(ValidationError) as caught:
        make_commitment(
            official_jp,
            jp,
            amount=D(10) ** 13,
            currency="BHD",
            tranches=schedule(("2026-06-01", "5000000000000"), ("2026-07-01", "4999999999999.999")),
        )
    assert "tranches" in caught.value.message_dict
    assert not Tranche.objects.exists()


def test_no_float_in_the_commitment_code():
    # Every module of the package but the chart's pixel geometry (amounts stay Decimal there too).
    package = Path(money.__file__).parent
    for path in sorted(package.glob("*.py")):
        if path.name != "chart.py":
            assert "float(" not in path.read_text(), path.name
    # and a float input is never mistaken for a Decimal
    with pytest.raises(ValidationError):
        validation.validate(
            TenantFactory(code="JP"),
            {
                "vehicle": "global_expansion",
                "amount": 10.5,
                "currency": "USD",
                "commitment_date": COMMIT_DAY,
            },
            [],
        )


def test_format_money_follows_language_and_currency():
    assert money.format_money(D("1234567"), "JPY", "en") == "¥1,234,567"
    assert money.format_money(D("1234.5"), "EUR", "fr") == "1\u202f234,50\xa0€"
    assert money.format_money(D("1.125"), "BHD", "en") == "BHD1.125"


# --- Rates by date --------------------------------------------------------------------------


def test_rate_on_the_exact_date():
    rate = rate_on(currency="EUR", on=dt.date(2025, 4, 1))
    assert rate.date == dt.date(2025, 4, 1)
    assert (
        rate.usd_per_unit
        == FxRate.objects.get(currency="EUR", date=dt.date(2025, 4, 1)).usd_per_unit
    )


def test_rate_most_recently_before_the_date():
    rate = rate_on(currency="EUR", on=dt.date(2025, 6, 30))
    assert rate.date == dt.date(2025, 4, 1)


def test_no_rate_before_the_table_starts_is_an_error():
    with pytest.raises(ValidationError) as caught:
        rate_on(currency="EUR", on=dt.date(2024, 12, 31))
    assert "commitment_date" in caught.value.message_dict


def test_currency_missing_from_the_table_is_an_error(official_jp, jp):
    # KWD is a real currency the shipped table deliberately omits (see its header).
    with pytest.raises(ValidationError) as caught:
        make_commitment(official_jp, jp, amount=D("1000.125"), currency="KWD", tranches=[])
    assert "currency" in caught.value.message_dict
    assert not CoInvestmentCommitment.objects.exists()


def test_usd_needs_no_table_row(official_jp, jp):
    commitment = make_commitment(
        official_jp,
        jp,
        amount=D("1000.10"),
        currency="USD",
        commitment_date=dt.date(2024, 6, 1),
        tranches=[],
    )
    assert commitment.usd_amount == D("1000.10") and commitment.fx_rate == 1


# --- Services -------------------------------------------------------------------------------


def test_create_is_audited_with_the_full_after_state(official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    event = AuditEvent.objects.get(verb="commitment.created", object_id=str(commitment.pk))
    assert event.actor == official_jp and event.tenant == jp
    assert event.changes["amount"] == {"before": None, "after": "150000000000"}
    assert len(event.changes["tranches"]["after"]) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tranches": schedule(("2026-04-14", "150000000000"))}, "tranches"),
        ({"currency": "ZZZ"}, "currency"),
        ({"vehicle": "moonshot"}, "vehicle"),
        ({"commitment_date": dt.date(2999, 1, 1)}, "commitment_date"),
        ({"tranches": schedule(("2026-12-31", "150000000000.5"))}, "tranches"),
    ],
)
def test_bad_input_changes_nothing(official_jp, jp, change, field):
    with pytest.raises(ValidationError) as caught:
        make_commitment(official_jp, jp, **change)
    assert field in caught.value.message_dict
    assert not CoInvestmentCommitment.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="commitment.").exists()


def test_update_replaces_the_schedule_and_bumps_the_version(official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    updated = services.commitment_update(
        commitment=commitment,
        actor=official_jp,
        version=1,
        data={"amount": D("90000000000"), "tranches": schedule(("2027-01-31", "90000000000"))},
    )
    assert updated.version == 2
    assert [(t.due_date, t.amount) for t in updated.tranches.all()] == [
        (dt.date(2027, 1, 31), D("90000000000"))
    ]
    assert updated.usd_amount == (D("90000000000") * updated.fx_rate).quantize(D("0.01"))
    event = AuditEvent.objects.get(verb="commitment.updated")
    assert event.changes["amount"] == {"before": "150000000000", "after": "90000000000"}


def test_update_of_amount_without_a_matching_schedule_is_refused(official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    with pytest.raises(ValidationError) as caught:
        services.commitment_update(
            commitment=commitment, actor=official_jp, version=1, data={"amount": D("1000")}
        )
    assert "tranches" in caught.value.message_dict
    commitment.refresh_from_db()
    assert commitment.amount == D("150000000000") and commitment.version == 1


def test_stale_version_is_a_conflict(official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    services.commitment_update(
        commitment=commitment,
        actor=official_jp,
        version=1,
        data={"vehicle": "national_startup_fund"},
    )
    with pytest.raises(ConflictError):
        services.commitment_update(
            commitment=commitment,
            actor=official_jp,
            version=1,
            data={"vehicle": "in_country_infrastructure"},
        )
    commitment.refresh_from_db()
    assert commitment.vehicle == "national_startup_fund"


def test_confirm_needs_an_approved_partnership(official_jp, jp, approver):
    application = create_application(official_jp, jp)
    commitment = make_commitment(official_jp, jp, application=application.pk)
    with pytest.raises(ConflictError):
        services.commitment_confirm(commitment=commitment, actor=approver, version=1)
    CountryApplication.objects.filter(pk=application.pk).update(state=State.APPROVED)
    Partnership.objects.create(tenant=jp, application=application, effective_date=COMMIT_DAY)
    confirmed = services.commitment_confirm(commitment=commitment, actor=approver, version=1)
    assert confirmed.status == "confirmed" and confirmed.partnership is not None
    assert AuditEvent.objects.get(verb="commitment.confirmed").role == "approver"
    assert OutboxEmail.objects.filter(to=official_jp.email, subject__contains="confirmed").exists()


def test_confirm_needs_a_schedule(official_jp, jp, approver):
    partnership = approved_partnership(official_jp, jp)
    commitment = make_commitment(official_jp, jp, partnership=partnership.pk, tranches=[])
    with pytest.raises(ConflictError):
        services.commitment_confirm(commitment=commitment, actor=approver, version=1)


def test_confirmed_commitment_cannot_be_edited_or_withdrawn(official_jp, jp, approver):
    commitment = confirmed_commitment(official_jp, jp, approver)
    with pytest.raises(ConflictError):
        services.commitment_update(
            commitment=commitment,
            actor=official_jp,
            version=commitment.version,
            data={"vehicle": "national_startup_fund"},
        )
    with pytest.raises(ConflictError):
        services.commitment_withdraw(
            commitment=commitment, actor=official_jp, version=commitment.version
        )


def test_withdraw_cancels_the_tranches(official_jp, jp):
    commitment = make_commitment(official_jp, jp)
    withdrawn = services.commitment_withdraw(commitment=commitment, actor=official_jp, version=1)
    assert withdrawn.status == "withdrawn"
    assert set(withdrawn.tranches.values_list("status", flat=True)) == {"cancelled"}
    check_deferred_constraints()


def test_who_may_do_what(official_jp, official_fr, jp, approver):
    commitment = make_commitment(official_jp, jp)
    compliance = make_user("compliance_officer")
    with pytest.raises(PermissionDenied):
        services.commitment_update(commitment=commitment, actor=official_fr, version=1, data={})
    with pytest.raises(PermissionDenied):
        services.commitment_confirm(commitment=commitment, actor=compliance, version=1)
    with pytest.raises(PermissionDenied):
        services.commitment_confirm(commitment=commitment, actor=official_jp, version=1)
    with pytest.raises(PermissionDenied):
        services.commitment_create(actor=approver, tenant=jp, data={})
    # An approver who is also an official of the country has a conflict of interest.
    from portal.tenancy.access import forget
    from portal.tenancy.models import Membership

    Membership.objects.create(user=approver, tenant=jp, role="official")
    forget(approver)
    with pytest.raises(PermissionDenied):
        services.commitment_confirm(commitment=commitment, actor=approver, version=1)


def test_pay_needs_a_reference_and_happens_once(official_jp, jp, approver):
    commitment = confirmed_commitment(official_jp, jp, approver)
    tranche = commitment.tranches.first()
    compliance = make_user("compliance_officer")
    with pytest.raises(ValidationError):
        payments.tranche_mark_paid(
            commitment=commitment, tranche_id=tranche.pk, actor=compliance, payment_reference=" "
        )
    paid = payments.tranche_mark_paid(
        commitment=commitment,
        tranche_id=tranche.pk,
        actor=compliance,
        payment_reference="SWIFT-123",
    )
    assert (
        paid.status == "paid" and paid.payment_reference == "SWIFT-123" and paid.paid_at is not None
    )
    with pytest.raises(ConflictError):
        payments.tranche_mark_paid(
            commitment=commitment, tranche_id=tranche.pk, actor=approver, payment_reference="X"
        )
    event = AuditEvent.objects.get(verb="tranche.paid")
    assert (
        event.role == "compliance_officer"
        and event.changes["payment_reference"]["after"] == "SWIFT-123"
    )
    with pytest.raises(PermissionDenied):
        payments.tranche_mark_paid(
            commitment=commitment, tranche_id=tranche.pk, actor=official_jp, payment_reference="X"
        )


def test_proposed_tranches_are_not_paid(official_jp, jp, approver):
    commitment = make_commitment(official_jp, jp)
    with pytest.raises(ConflictError):
        payments.tranche_mark_paid(
            commitment=commitment,
            tranche_id=commitment.tranches.first().pk,
            actor=approver,
            payment_reference="X",
        )


# --- Overdue (beat task) -----------------------------------------------------------------------


def test_beat_task_marks_overdue_tranches_audits_and_notifies(official_jp, jp, approver):
    past = confirmed_commitment(
        official_jp,
        jp,
        approver,
        commitment_date=dt.date(2025, 1, 2),
        tranches=schedule(("2025-02-01", "100000000000"), ("2099-01-01", "50000000000")),
    )
    proposed = make_commitment(
        official_jp,
        jp,
        commitment_date=dt.date(2025, 1, 2),
        tranches=schedule(("2025-02-01", "150000000000")),
    )
    assert mark_overdue_tranches.apply().get() == 1  # the task as beat runs it (eagerly here)
    statuses = dict(past.tranches.values_list("due_date", "status"))
    assert statuses == {dt.date(2025, 2, 1): "overdue", dt.date(2099, 1, 1): "scheduled"}
    assert set(proposed.tranches.values_list("status", flat=True)) == {"scheduled"}
    event = AuditEvent.objects.get(verb="tranche.overdue")
    assert event.actor is None and event.actor_label == "task:partnerships.mark_overdue_tranches"
    assert event.tenant == jp
    assert (
        OutboxEmail.objects.filter(to=official_jp.email, subject__contains="overdue").count() == 1
    )
    # Idempotent: a second run marks nothing and sends nothing.
    assert mark_overdue_tranches.apply().get() == 0
    assert OutboxEmail.objects.filter(subject__contains="overdue").count() == 1


def test_overdue_tranche_can_still_be_paid(official_jp, jp, approver):
    commitment = confirmed_commitment(
        official_jp,
        jp,
        approver,
        commitment_date=dt.date(2025, 1, 2),
        tranches=schedule(("2025-02-01", "150000000000")),
    )
    payments.mark_overdue_tranches()
    tranche = commitment.tranches.get()
    assert tranche.status == "overdue"
    payments.tranche_mark_paid(
        commitment=commitment, tranche_id=tranche.pk, actor=approver, payment_reference="R"
    )
    tranche.refresh_from_db()
    assert tranche.status == "paid"


# --- The database trigger --------------------------------------------------------------------------


def _raw_commitment(tenant: Any, user: Any, *, amount: str, status: str = "proposed") -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO partnerships_coinvestmentcommitment
               (tenant_id, vehicle, amount, currency, commitment_date, fx_rate, fx_rate_date, usd_amount,
                status, version, created_at, created_by_id, updated_at)
               VALUES (%s, 'global_expansion', %s, 'USD', '2026-01-02', 1, '2026-01-02', %s, %s, 1, now(), %s, now())
               RETURNING id""",
            [tenant.pk, amount, amount, status, user.pk],
        )
        return cursor.fetchone()[0]


def _raw_tranche(commitment_id: int, amount: str, status: str = "scheduled") -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO partnerships_tranche (commitment_id, due_date, amount, status, payment_reference)"
            " VALUES (%s, '2026-06-01', %s, %s, '')",
            [commitment_id, amount, status],
        )


def test_database_refuses_tranches_that_do_not_sum(jp, official_jp):
    with pytest.raises(IntegrityError, match="tranches sum to"), transaction.atomic():
        cid = _raw_commitment(jp, official_jp, amount="100.00")
        _raw_tranche(cid, "60.00")
        _raw_tranche(cid, "39.99")
        check_deferred_constraints()
    assert not CoInvestmentCommitment.objects.exists()


def test_database_accepts_an_exact_sum_and_ignores_cancelled_tranches(jp, official_jp):
    with transaction.atomic():
        cid = _raw_commitment(jp, official_jp, amount="10000000000000.000", status="confirmed")
        _raw_tranche(cid, "9999999999999.999")
        _raw_tranche(cid, "0.001")
        _raw_tranche(cid, "500.000", status="cancelled")
        check_deferred_constraints()
    assert Tranche.objects.filter(commitment_id=cid).count() == 3


def test_database_allows_a_proposed_commitment_without_tranches_but_not_a_confirmed_one(
    jp, official_jp
):
    with transaction.atomic():
        _raw_commitment(jp, official_jp, amount="5.00")
        check_deferred_constraints()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_commitment(jp, official_jp, amount="5.00", status="confirmed")
        check_deferred_constraints()


def test_database_refuses_changing_the_amount_of_a_scheduled_commitment(jp, official_jp):
    commitment = make_commitment(official_jp, jp)
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE partnerships_coinvestmentcommitment SET amount = amount + 1 WHERE id = %s",
                [commitment.pk],
            )
        check_deferred_constraints()


# --- The rate-table loader -------------------------------------------------------------------------


def test_loader_is_idempotent_and_audits_changes(tmp_path):
    count = FxRate.objects.count()
    assert count == 128
    assert AuditEvent.objects.filter(verb="fx_rates.loaded").count() == 1
    event = AuditEvent.objects.get(verb="fx_rates.loaded")
    assert event.changes["created"] == 128 and event.actor_label == "command:load_fx_rates"
    load_rates()
    assert FxRate.objects.count() == count
    assert (
        AuditEvent.objects.filter(verb="fx_rates.loaded").count() == 1
    )  # nothing changed, nothing to audit
    assert (
        "European Central Bank"
        in FxRate.objects.get(currency="EUR", date=dt.date(2025, 1, 2)).source
    )
    assert (
        "Central Bank of Bahrain"
        in FxRate.objects.get(currency="BHD", date=dt.date(2025, 1, 2)).source
    )


def test_loader_updates_a_changed_rate(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "partnerships" / "data" / "fx_rates.csv"
    text = shipped.read_text().replace("2025-01-02,EUR,1.0321", "2025-01-02,EUR,1.0322")
    changed = tmp_path / "fx_rates.csv"
    changed.write_text(text)
    call_command("load_fx_rates", str(changed), stdout=io.StringIO())
    assert FxRate.objects.get(currency="EUR", date=dt.date(2025, 1, 2)).usd_per_unit == D("1.0322")
    assert AuditEvent.objects.filter(verb="fx_rates.loaded").latest("id").changes["updated"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        "2025-13-01,EUR,1.1",
        "2025-01-03,ZZZ,1.1",
        "2025-01-03,EUR,-1",
        "2025-01-03,EUR,abc",
        "2025-01-03,USD,1.1",
        "2025-01-02,EUR,1.0321",
        "2025-01-03,EUR,0.0000000000001",
    ],
)
def test_loader_refuses_a_bad_file_and_changes_nothing(tmp_path, bad):
    path = tmp_path / "rates.csv"
    path.write_text(
        f"# SOURCE: test\ndate,currency,usd_per_unit\n2025-01-02,EUR,1.0321\n2025-01-03,GBP,1.3\n{bad}\n"
    )
    with pytest.raises(CommandError):
        call_command("load_fx_rates", str(path))
    assert not FxRate.objects.filter(date=dt.date(2025, 1, 3)).exists()


def test_loader_requires_a_source_header(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,usd_per_unit\n2025-01-03,GBP,1.3\n")
    with pytest.raises(CommandError, match="source"):
        call_command("load_fx_rates", str(path))


@pytest.mark.django_db(transaction=True)
def test_overdue_task_runs_on_a_real_worker_against_the_real_broker(official_jp, jp, approver):
    """Beat only enqueues the task by name; a real worker consumes it from Redis and commits."""
    import time

    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    commitment = confirmed_commitment(
        official_jp,
        jp,
        approver,
        commitment_date=dt.date(2025, 1, 2),
        tranches=schedule(("2025-02-01", "150000000000")),
    )
    tranche = commitment.tranches.get()
    with start_worker(app, perform_ping_check=False, shutdown_timeout=20):
        app.send_task("partnerships.mark_overdue_tranches")  # by name, as beat sends it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            tranche.refresh_from_db()
            if tranche.status == "overdue":
                break
            time.sleep(0.2)
    assert tranche.status == "overdue"
    assert AuditEvent.objects.filter(verb="tranche.overdue", object_id=str(tranche.pk)).count() == 1
