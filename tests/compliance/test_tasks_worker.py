"""Screening with a real Celery worker and the real Redis broker (DESIGN §4, §8)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from celery import signals

from compliance.models import ScreeningResult, TerritoryListVersion
from compliance.tasks import screen_application, sweep_screening
from compliance.territories import territory_list_load
from partnerships.models import CountryApplication, Decision, OutboxEmail, State
from partnerships.workflow import application_transition
from portal.audit.models import AuditEvent
from tests.compliance.conftest import submit, wait_for, write_list
from tests.factories import create_application, make_user

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def state_of(application) -> str:
    return CountryApplication.objects.get(pk=application.pk).state


def site(country: str) -> dict:
    return {
        "country": country,
        "region": "R",
        "capacity_mw": "10",
        "target_online_date": "2030-01-01",
        "energy_mix": {"solar": 100},
    }


@pytest.fixture
def finished_tasks():
    """Ids of tasks the in-process worker finished (to wait for no-op duplicates)."""
    done: list[str] = []

    def record(sender=None, task_id=None, **kwargs):
        done.append(task_id)

    signals.task_postrun.connect(record, weak=False)
    yield done
    signals.task_postrun.disconnect(record)


def test_submit_is_screened_and_moves_to_technical_review(celery_worker, official_jp, jp):
    territory_list_load()
    application = submit(create_application(official_jp, jp), official_jp)
    assert application.state == State.SCREENING
    wait_for(lambda: state_of(application) == State.TECHNICAL_REVIEW, what="screening")
    result = ScreeningResult.objects.get(application=application)
    assert result.outcome == "clear" and result.application_version == application.version
    assert result.task_id  # the Celery task id
    application.refresh_from_db()
    assert (application.screening_outcome, application.screening_list_version) == ("clear", 1)
    decision = Decision.objects.get(application=application, action="screen_clear")
    assert (decision.from_state, decision.to_state, decision.actor_label) == (
        "screening",
        "technical_review",
        "system",
    )
    event = AuditEvent.objects.get(verb="screening.completed", object_id=str(application.pk))
    assert event.actor_label == "task:compliance.screen_application"
    assert event.changes["outcome"] == "clear" and event.changes["list_version"] == 1
    assert event.changes["policy_version"] == 1
    # A clear decision explains itself too: outcome, list version and date, policy version.
    assert decision.rationale.startswith(
        "Automatic screening by the system: clear against territory list v1 (effective "
    )
    assert "screening policy v1 “screening-policy-2026-11-28”" in decision.rationale
    assert event.reason == decision.rationale


@pytest.mark.parametrize("country", ["KP", "CU"])
def test_site_in_a_sanctioned_country_is_held_with_findings(
    celery_worker, official_jp, jp, country
):
    territory_list_load()
    officer = make_user("compliance_officer", username="co")
    application = submit(
        create_application(
            official_jp, jp, sites=[site("JP"), site(country)], data_residency_required=False
        ),
        official_jp,
    )
    wait_for(lambda: state_of(application) == State.SCREENING_HOLD, what="hold")
    result = ScreeningResult.objects.get(application=application)
    assert result.outcome == "blocked"
    [group_e] = [f for f in result.findings if f["rule"] == "ear.country_group_e"]
    assert group_e["subject"] == f"site country {country}"
    assert group_e["source"] == "ear-740-supp1"
    assert group_e["citation"]["date"] == "2026-07-23"
    application.refresh_from_db()
    assert application.screening_outcome == "blocked"
    assert any(f["rule"] == "ofac.comprehensive_sanctions" for f in application.screening_summary)
    decision = Decision.objects.get(application=application, action="screen_hold")
    assert "OFAC comprehensive sanctions" in decision.rationale
    # The rationale says who decided, what, and against which list and policy versions.
    assert decision.rationale.startswith(
        f"Automatic screening by the system: blocked against territory list v1 "
        f"(effective {dt.date.today().isoformat()}), screening policy v1 "
        f"“screening-policy-2026-11-28” (checksum "
    )
    assert (decision.actor_id, decision.actor_label) == (None, "system")
    assert (
        AuditEvent.objects.filter(verb="workflow.hold", object_id=str(application.pk)).count() == 1
    )
    # The compliance officers are told through the outbox.
    assert OutboxEmail.objects.filter(
        to=officer.email, subject__contains=application.reference
    ).exists()


def test_duplicated_task_makes_one_result_and_one_transition(
    celery_worker, finished_tasks, official_jp, jp
):
    territory_list_load()
    application = submit(create_application(official_jp, jp), official_jp)
    # The submission's message plus three duplicates (redelivery, sweep, a second click).
    ids = [screen_application.delay(application.pk, application.version).id for _ in range(3)]
    wait_for(lambda: set(ids) <= set(finished_tasks), what="the duplicates to run")
    wait_for(lambda: state_of(application) == State.TECHNICAL_REVIEW, what="screening")
    assert ScreeningResult.objects.filter(application=application).count() == 1
    assert Decision.objects.filter(application=application, action="screen_clear").count() == 1
    assert (
        AuditEvent.objects.filter(verb="screening.completed", object_id=str(application.pk)).count()
        == 1
    )
    assert CountryApplication.objects.get(pk=application.pk).version == application.version + 1


def test_a_lost_message_is_recovered_by_the_sweep(
    transactional_db, broker, official_jp, jp, settings, finished_tasks
):
    """Redis lost the message (restart without persistence): the sweep re-enqueues it."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    settings.PORTAL_SCREENING_SWEEP_SECONDS = 0
    territory_list_load()
    application = submit(create_application(official_jp, jp), official_jp)
    queued = [json.loads(m)["headers"]["task"] for m in broker.lrange("portal", 0, -1)]
    assert "compliance.screen_application" in queued
    broker.flushdb()  # the message is gone, as after a Redis restart without persistence
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"
    ):
        sweep = sweep_screening.delay()
        wait_for(lambda: sweep.id in finished_tasks, what="the sweep")
        wait_for(
            lambda: state_of(application) == State.TECHNICAL_REVIEW,
            what="screening after the sweep",
        )
        # A second sweep finds nothing left to do.
        again = sweep_screening.delay()
        wait_for(lambda: again.id in finished_tasks, what="the second sweep")
    assert ScreeningResult.objects.filter(application=application).count() == 1
    assert Decision.objects.filter(application=application, action="screen_clear").count() == 1


def test_new_list_rescreens_holds_and_flags_with_progress(
    celery_worker, official_jp, jp, official_fr, fr, tmp_path
):
    territory_list_load()
    officer = make_user("compliance_officer", username="co")
    in_review = submit(create_application(official_jp, jp), official_jp)
    approved = submit(create_application(official_fr, fr), official_fr)
    wait_for(
        lambda: (
            state_of(in_review) == State.TECHNICAL_REVIEW
            and state_of(approved) == State.TECHNICAL_REVIEW
        ),
        what="first screenings",
    )
    # Take the French application through the whole workflow to a partnership.
    approved.refresh_from_db()
    steps = [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "low"}),
        ("us_coordinator", "concur", {"rationale": "ok"}),
        ("approver", "approve", {}),
    ]
    for role, action, extra in steps:
        approved = application_transition(
            application=approved,
            actor=make_user(role, username=role),
            action=action,
            version=approved.version,
            **extra,
        )
    assert approved.state == State.APPROVED

    # Version 2: Japan now in D:5 (needs review), France in E:1 (blocked).
    path = write_list(
        tmp_path / "v2.csv",
        replace={
            "JP": "JP,Japan,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,test",
            "FR": "FR,France,true,current_list,E:1,false,openai-countries-current,ear-740-supp1,,test",
        },
    )
    territory_list_load(path=path)
    version = TerritoryListVersion.objects.get(number=2)
    wait_for(lambda: state_of(in_review) == State.SCREENING_HOLD, what="re-screen hold")
    held = CountryApplication.objects.get(pk=in_review.pk)
    assert (held.screening_outcome, held.screening_list_version) == ("needs_review", 2)
    assert (
        ScreeningResult.objects.filter(application=in_review, list_version=version).get().outcome
        == "needs_review"
    )
    hold = Decision.objects.get(application=in_review, action="screen_hold")
    assert hold.from_state == State.TECHNICAL_REVIEW and "D:5" in hold.rationale

    def flagged():
        approved.partnership.refresh_from_db()
        return approved.partnership.flagged

    wait_for(flagged, what="the partnership flag")
    assert "E:1" in approved.partnership.flag_reason
    assert state_of(approved) == State.APPROVED  # a flag never changes the state by itself
    assert (
        AuditEvent.objects.filter(
            verb="partnership.flagged", object_id=str(approved.partnership.pk)
        ).count()
        == 1
    )
    assert OutboxEmail.objects.filter(
        to=officer.email, subject__contains="partnership flagged"
    ).exists()
    wait_for(
        lambda: TerritoryListVersion.objects.get(pk=version.pk).rescreen_done == 2, what="progress"
    )
    version.refresh_from_db()
    assert (version.rescreen_total, version.rescreen_done) == (2, 2)
    assert version.rescreen_started_at is not None


def test_sweep_restarts_a_rescreen_that_never_started(
    transactional_db, broker, official_jp, jp, settings, tmp_path, finished_tasks
):
    """The broker was down when the new list loaded: the sweep starts the re-screening."""
    from celery.contrib.testing.worker import start_worker

    from compliance.services import application_screen
    from portal.celery import app

    territory_list_load()
    application = submit(create_application(official_jp, jp), official_jp)
    application_screen(application_id=application.pk, version=application.version)
    territory_list_load(
        path=write_list(
            tmp_path / "v2.csv",
            replace={
                "JP": "JP,Japan,true,current_list,D:1,false,openai-countries-current,ear-740-supp1,,test"
            },
        )
    )
    broker.flushdb()  # the fan-out message was lost
    TerritoryListVersion.objects.filter(number=2).update(
        loaded_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    )
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"
    ):
        sweep_screening.delay()
        wait_for(
            lambda: state_of(application) == State.SCREENING_HOLD, what="re-screen via the sweep"
        )
    assert (
        ScreeningResult.objects.filter(application=application, list_version__number=2).count() == 1
    )


def test_a_site_in_guam_is_held_for_a_person_naming_the_older_list_basis(
    celery_worker, official_jp, jp
):
    """Guam is named only by the older platform list: silence of the current list is not a yes."""
    territory_list_load()
    application = submit(
        create_application(official_jp, jp, sites=[site("GU")], data_residency_required=False),
        official_jp,
    )
    wait_for(lambda: state_of(application) == State.SCREENING_HOLD, what="hold")
    result = ScreeningResult.objects.get(application=application)
    assert result.outcome == "needs_review"
    [older] = [f for f in result.findings if f["outcome"] != "clear"]
    assert older["rule"] == "territory.older_list_only"
    assert "basis=older_list_only" in older["fact"]
    assert older["citation"]["url"] == "https://platform.openai.com/docs/supported-countries"
    decision = Decision.objects.get(application=application, action="screen_hold")
    assert "needs_review against territory list v1" in decision.rationale
    assert "older platform list" in decision.rationale


def test_editing_the_policy_and_reloading_rescreens_applications_not_yet_final(
    celery_worker, official_jp, jp, tmp_path
):
    import io

    from django.core.management import call_command

    from compliance.models import ScreeningPolicyVersion
    from compliance.screening import POLICY_FILE

    call_command("load_territories", stdout=io.StringIO())
    live = submit(
        create_application(official_jp, jp, sites=[site("AE")], data_residency_required=False),
        official_jp,
    )
    wait_for(lambda: state_of(live) == State.TECHNICAL_REVIEW, what="clear screening")
    final = submit(
        create_application(official_jp, jp, sites=[site("AE")], data_residency_required=False),
        official_jp,
    )
    wait_for(lambda: state_of(final) == State.TECHNICAL_REVIEW, what="clear screening")
    final.refresh_from_db()
    application_transition(
        application=final, actor=official_jp, action="withdraw", version=final.version
    )

    # Only the policy changes: sites in AE now need a person.
    data = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    data["territory_rules"].append(
        {
            "rule": "test.uae_review",
            "when": {"codes": ["AE"]},
            "outcome": "needs_review",
            "fact": "supported",
            "reason": "{code} ({name}) needs a person under the new policy.",
        }
    )
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    out = io.StringIO()
    call_command("load_territories", "--policy", str(path), stdout=out)
    assert "Unchanged: territory list v1" in out.getvalue()
    assert "Recorded screening policy v2" in out.getvalue()
    policy = ScreeningPolicyVersion.objects.get(number=2)
    assert policy.checksum != ScreeningPolicyVersion.objects.get(number=1).checksum
    event = AuditEvent.objects.get(verb="screening_policy.loaded", object_id=str(policy.pk))
    assert event.changes["previous"] == 1 and event.changes["checksum"] == policy.checksum

    wait_for(lambda: state_of(live) == State.SCREENING_HOLD, what="re-screen under policy v2")
    result = ScreeningResult.objects.get(application=live, policy_version=policy)
    assert result.outcome == "needs_review"
    assert any(f["rule"] == "test.uae_review" for f in result.findings)
    hold = Decision.objects.get(application=live, action="screen_hold")
    assert "against territory list v1" in hold.rationale
    assert f"screening policy v2 “{policy.name}” (checksum {policy.checksum[:12]})" in (
        hold.rationale
    )
    version = TerritoryListVersion.objects.get(number=1)
    wait_for(
        lambda: TerritoryListVersion.objects.get(pk=version.pk).rescreen_done >= 1,
        what="progress",
    )
    # A withdrawn application is final: not re-screened, its history untouched.
    assert not ScreeningResult.objects.filter(application=final, policy_version=policy).exists()
    assert CountryApplication.objects.get(pk=final.pk).screening_outcome == "clear"

    # The same content again (even laid out differently) is no new version.
    path.write_text(json.dumps(data), encoding="utf-8")
    out = io.StringIO()
    call_command("load_territories", "--policy", str(path), stdout=out)
    assert "Screening policy v2" in out.getvalue() and "unchanged" in out.getvalue()
    assert ScreeningPolicyVersion.objects.count() == 2
