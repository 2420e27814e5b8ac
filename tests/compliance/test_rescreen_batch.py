"""A re-screening chunk is one transaction: the same records as one application at a time,
in a number of queries that grows only by the workflow's own record of each outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import services
from compliance.models import ScreeningResult, TerritoryListVersion
from compliance.territories import territory_list_load
from partnerships.models import CountryApplication, Decision, State
from partnerships.workflow import application_transition
from portal.audit.models import AuditEvent
from portal.audit.verify import verify_chain
from tests.compliance.conftest import submit, write_list
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

JP_NEEDS_REVIEW = (
    "JP,Japan,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,test"
)
FR_BLOCKED = "FR,France,true,current_list,E:1,false,openai-countries-current,ear-740-supp1,,test"


def _in_review(official, tenant, count: int) -> list[CountryApplication]:
    made = [submit(create_application(official, tenant), official) for _ in range(count)]
    services.application_screen(application_id=made[0].pk, version=made[0].version, also_waiting=49)
    for application in made:
        application.refresh_from_db()
        assert application.state == State.TECHNICAL_REVIEW
    return made


def _new_list(tmp_path: Path, name: str, **replace: str) -> TerritoryListVersion:
    return territory_list_load(path=write_list(tmp_path / name, replace=replace)).version


def _record(application: CountryApplication) -> tuple:
    application.refresh_from_db()
    hold = Decision.objects.filter(application=application, action="screen_hold").first()
    return (
        application.state,
        application.screening_outcome,
        application.screening_list_version,
        hold and (hold.from_state, hold.to_state, hold.rationale),
        list(
            AuditEvent.objects.filter(
                object_type="partnerships.countryapplication", object_id=str(application.pk)
            )
            .order_by("id")
            .values_list("verb", flat=True)
        ),
    )


def test_a_chunk_holds_what_one_at_a_time_holds(territory_list, official_jp, jp, tmp_path):
    make_user("reviewer")
    alone, *chunk = _in_review(official_jp, jp, 4)
    draft = create_application(official_jp, jp)
    version = _new_list(tmp_path, "v2.csv", JP=JP_NEEDS_REVIEW)
    assert (
        services.application_rescreen(application_id=alone.pk, list_version_id=version.pk) == "held"
    )
    ids = [a.pk for a in chunk]
    counts = services.applications_rescreen(
        application_ids=[*ids, draft.pk], list_version_id=version.pk
    )
    assert counts == {"held": 3, "skipped": 1}
    expected = _record(alone)
    assert expected[0] == State.SCREENING_HOLD and expected[2] == version.number
    for application in chunk:
        assert _record(application) == expected
        assert (
            ScreeningResult.objects.filter(application=application, list_version=version).count()
            == 1
        )
    assert verify_chain().ok

    # Redelivered: the same answer as one at a time; an older list's chunk is superseded and
    # records nothing.
    again = services.application_rescreen(application_id=alone.pk, list_version_id=version.pk)
    assert services.applications_rescreen(application_ids=ids, list_version_id=version.pk) == {
        again: 3
    }
    events = AuditEvent.objects.count()
    assert services.applications_rescreen(
        application_ids=ids, list_version_id=territory_list.pk
    ) == {"superseded": 3}
    assert AuditEvent.objects.count() == events


def test_an_approved_application_in_a_chunk_flags_its_partnership(
    territory_list, official_fr, fr, tmp_path
):
    make_user("compliance_officer", username="co")
    [approved] = _in_review(official_fr, fr, 1)
    for role, action, extra in [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "low"}),
        ("us_coordinator", "concur", {"rationale": "ok"}),
        ("approver", "approve", {}),
    ]:
        approved = application_transition(
            application=approved,
            actor=make_user(role, username=role),
            action=action,
            version=approved.version,
            **extra,
        )
    version = _new_list(tmp_path, "v2.csv", FR=FR_BLOCKED)
    assert services.applications_rescreen(
        application_ids=[approved.pk], list_version_id=version.pk
    ) == {"flagged": 1}
    approved.partnership.refresh_from_db()
    assert approved.partnership.flagged and "E:1" in approved.partnership.flag_reason
    assert verify_chain().ok


def test_queries_grow_only_by_the_workflow_record_per_application(
    territory_list, official_jp, jp, tmp_path
):
    make_user("reviewer")
    small_set = _in_review(official_jp, jp, 2)
    large_set = _in_review(official_jp, jp, 6)
    version = _new_list(tmp_path, "v2.csv", FR=FR_BLOCKED)  # Japan stays clear

    def rescreen(applications: list[CountryApplication]) -> int:
        with CaptureQueriesContext(connection) as ctx:
            counts = services.applications_rescreen(
                application_ids=[a.pk for a in applications], list_version_id=version.pk
            )
        assert counts == {"recorded": len(applications)}
        return len(ctx.captured_queries)

    small, large = rescreen(small_set), rescreen(large_set)
    # Savepoint and release (2), the list's shared lock (1), the current list and policy
    # versions (2), the applications (1), their sites (1), the list's territories (1),
    # existing results (1), insert of results (1), the audit append of the results:
    # savepoint, chain lock, last hash, last time, insert, release (6). Then per application
    # the workflow records the new outcome (application_hold_after_rescreen): savepoint,
    # lock, update, release (4).
    assert small == 16 + 4 * 2
    assert large == 16 + 4 * 6
