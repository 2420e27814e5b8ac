"""A screening task screens the applications waiting with it in one transaction: the same
records as one at a time, in a number of queries that does not grow with the batch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import screening, services
from compliance.models import ScreeningResult
from partnerships.models import CountryApplication, Decision, OutboxEmail, State
from portal.audit.models import AuditEvent
from portal.audit.verify import verify_chain
from tests.compliance.conftest import submit
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

KP_SITE = {
    "country": "KP",
    "region": "Pyongyang",
    "capacity_mw": "10",
    "target_online_date": "2030-01-01",
    "energy_mix": {"solar": 100},
}


def _waiting(official, tenant, count: int, blocked: int = 0) -> list[CountryApplication]:
    made = []
    for i in range(count):
        extra = {"sites": [KP_SITE]} if i < blocked else {}
        made.append(submit(create_application(official, tenant, **extra), official))
    return made


def _events(application: CountryApplication) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            object_type="partnerships.countryapplication", object_id=str(application.pk)
        )
        .order_by("id")
        .values_list("verb", flat=True)
    )


def test_one_task_screens_every_waiting_application_with_the_same_records(
    territory_list, official_jp, jp
):
    make_user("reviewer")  # someone to tell about new work
    blocked, *clear = _waiting(official_jp, jp, 6, blocked=1)
    named = clear[0]
    moved = services.application_screen(
        application_id=named.pk, version=named.version, also_waiting=49
    )
    assert moved == State.TECHNICAL_REVIEW
    blocked.refresh_from_db()
    assert blocked.state == State.SCREENING_HOLD
    assert blocked.screening_outcome == "blocked"
    for application in clear:
        application.refresh_from_db()
        assert application.state == State.TECHNICAL_REVIEW
        assert application.screening_outcome == "clear"
        assert application.screening_list_version == territory_list.number
    for application in [blocked, *clear]:
        assert ScreeningResult.objects.filter(application=application).count() == 1
        [decision] = Decision.objects.filter(application=application, role="screening")
        assert decision.application_version == application.version
        verbs = _events(application)
        assert verbs[-2] == "screening.completed"
        assert verbs[-1] == ("workflow.hold" if application is blocked else "workflow.screened")
        assert OutboxEmail.objects.filter(subject__startswith=f"[{application.reference}]").count()
    assert verify_chain().ok

    # The other applications' own tasks find nothing left to do, and record nothing.
    events = AuditEvent.objects.count()
    for application in [blocked, *clear[1:]]:
        assert (
            services.application_screen(
                application_id=application.pk, version=application.version - 1, also_waiting=49
            )
            is None
        )
    assert AuditEvent.objects.count() == events


def test_without_also_waiting_only_the_named_application_is_screened(
    territory_list, official_jp, jp
):
    first, second = _waiting(official_jp, jp, 2)
    services.application_screen(application_id=first.pk, version=first.version)
    second.refresh_from_db()
    assert second.state == State.SCREENING
    assert not ScreeningResult.objects.filter(application=second).exists()


def test_batch_and_single_write_the_same_outbox(territory_list, official_jp, jp):
    make_user("reviewer")
    single, batched_named, batched_other = _waiting(official_jp, jp, 3)
    services.application_screen(application_id=single.pk, version=single.version)
    services.application_screen(
        application_id=batched_named.pk, version=batched_named.version, also_waiting=49
    )

    def shape(application: CountryApplication) -> list[tuple[str, str, str]]:
        rows = OutboxEmail.objects.filter(subject__startswith=f"[{application.reference}]")
        ref = application.reference
        return sorted(
            (r.to, r.subject.replace(ref, "REF"), r.body.replace(ref, "REF")) for r in rows
        )

    assert shape(single) == shape(batched_named) == shape(batched_other)
    # The country: submitted, then under review; the reviewer: new work.
    assert len(shape(single)) == 3


def test_queries_do_not_grow_with_the_batch(territory_list, official_jp, jp):
    make_user("reviewer")

    def screen_all(count: int) -> int:
        named, *_ = _waiting(official_jp, jp, count)
        with CaptureQueriesContext(connection) as ctx:
            services.application_screen(
                application_id=named.pk, version=named.version, also_waiting=49
            )
        assert not CountryApplication.objects.filter(state=State.SCREENING).exists()
        return len(ctx.captured_queries)

    small, large = screen_all(2), screen_all(8)
    assert small == large
    # Savepoint and release of the service's transaction (inside the test's) (2), the list's
    # shared lock (1), the named application (1), the others waiting (1), their sites (1), the
    # current list and policy versions (2), the list's territories (1), existing results (1), insert of results (1); the
    # audit append: savepoint, chain lock, last hash, last time, insert, release (6); the move:
    # savepoint, lock, update, insert of decisions (4), its audit append (6), officials (1),
    # reviewers (1), e-mails (1), release (1).
    assert large == 32


def test_a_batch_that_fails_screens_the_named_application_alone(
    territory_list, official_jp, jp, monkeypatch
):
    named, poison = _waiting(official_jp, jp, 2)
    real = screening.screen

    def fails_for_poison(*, application, **kwargs):
        if application.pk == poison.pk:
            raise ValueError("cannot screen this one")
        return real(application=application, **kwargs)

    monkeypatch.setattr(services, "screen", fails_for_poison)
    assert (
        services.application_screen(application_id=named.pk, version=named.version, also_waiting=49)
        == State.TECHNICAL_REVIEW
    )
    poison.refresh_from_db()
    assert poison.state == State.SCREENING  # left for its own task (and the sweep)
    assert not ScreeningResult.objects.filter(application=poison).exists()
    assert verify_chain().ok
