"""The workflow table, its guards and its race safety (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from partnerships import workflow
from partnerships.models import (
    CountryApplication,
    Decision,
    Obligation,
    OutboxEmail,
    Partnership,
    State,
)
from partnerships.notifications import deliver_pending
from portal.audit.models import AuditEvent
from portal.tenancy.roles import TENANT_ROLES, Role
from tests.factories import create_application, make_user
from tests.partnerships import design_workflow

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def _put_in_state(application: CountryApplication, state: str) -> CountryApplication:
    CountryApplication.objects.filter(pk=application.pk).update(
        state=state,
        submitted_at=None if state == State.DRAFT else timezone.now(),
        screening_outcome="clear",
        screening_list_version=1,
    )
    application.refresh_from_db()
    return application


def _inputs(action: workflow.Action) -> dict:
    return {
        "rationale": "because" if action.rationale_required else "",
        "risk_level": "low" if action.risk_level_required else "",
    }


def _expected(action: workflow.Action, state: str, role: str) -> bool:
    # From the hand-written contract table, not from the ACTIONS table under test.
    return design_workflow.allowed(action.name, str(state), str(role))


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action_name", list(workflow.ACTIONS))
def test_matrix_every_action_role_and_state_through_service_and_api(
    action_name, state, jp, official_jp, api
):
    """Generated from the workflow table: allowed exactly where the table says, 403/409 elsewhere."""
    action = workflow.ACTIONS[action_name]
    application = _put_in_state(create_application(official_jp, jp), state)
    for role in Role:
        actor = make_user(role, jp if role in TENANT_ROLES else None, username=f"{role}-matrix")
        expected = _expected(action, state, role)
        # Through the service …
        try:
            with transaction.atomic():
                workflow.application_transition(
                    application=application,
                    actor=actor,
                    action=action_name,
                    version=application.version,
                    **_inputs(action),
                )
                raise Rollback
        except Rollback:
            allowed = True
        except (PermissionDenied, workflow.TransitionConflict):
            allowed = False
        assert allowed is expected, (action_name, state, role, "service")
        # … and through the API.
        try:
            with transaction.atomic():
                response = api.as_user(actor).post(
                    f"/api/v1/applications/{application.pk}/transitions/",
                    {"action": action_name, "version": application.version, **_inputs(action)},
                    format="json",
                )
                raise Rollback
        except Rollback:
            pass
        if expected:
            assert response.status_code == 200, (action_name, state, role, response.json())
        elif role == Role.PLATFORM_ADMIN or (state == State.DRAFT and role not in TENANT_ROLES):
            # Platform admins manage people, not applications; programme staff never see drafts.
            assert response.status_code == 404, (role, response.json())
        else:
            assert response.status_code in (403, 409), (
                action_name,
                state,
                role,
                response.status_code,
            )
    application.refresh_from_db()
    assert application.state == state  # everything above was rolled back
    assert not Decision.objects.filter(application=application).exists()


def _walk(application, *steps):
    for actor, action, extra in steps:
        application.refresh_from_db()
        application = workflow.application_transition(
            application=application,
            actor=actor,
            action=action,
            version=application.version,
            **extra,
        )
    return application


def _screen_clear(application):
    application.refresh_from_db()
    workflow.application_screened(
        application_id=application.pk,
        expected_version=application.version,
        outcome="clear",
        list_version=1,
        summary=[],
    )
    application.refresh_from_db()
    return application


@pytest.fixture
def staff(jp):
    return {
        role: make_user(role, username=role)
        for role in (
            "reviewer",
            "security_reviewer",
            "compliance_officer",
            "us_coordinator",
            "approver",
            "auditor",
        )
    }


def test_full_path_to_approval_creates_partnership_and_audit(official_jp, jp, staff):
    application = create_application(official_jp, jp)
    _walk(application, (official_jp, "submit", {}))
    application = _screen_clear(application)
    assert application.state == State.TECHNICAL_REVIEW
    tomorrow = timezone.localdate() + dt.timedelta(days=30)
    application = _walk(
        application,
        (staff["reviewer"], "approve_technical", {}),
        (staff["security_reviewer"], "approve_security", {"risk_level": "medium"}),
        (
            staff["us_coordinator"],
            "concur",
            {
                "rationale": "coordinated",
                "conditions": [workflow.ConditionInput("No 3A090 chips before VEU", tomorrow)],
            },
        ),
        (staff["approver"], "approve", {"message_to_country": "Welcome to the programme."}),
    )
    assert application.state == State.APPROVED
    partnership = Partnership.objects.get(application=application)
    obligation = Obligation.objects.get(application=application)
    assert obligation.partnership == partnership and obligation.status == "open"
    verbs = list(
        AuditEvent.objects.filter(
            object_id=str(application.pk), object_type="partnerships.countryapplication"
        ).values_list("verb", flat=True)
    )
    assert verbs == [
        "application.created",
        "application.submitted",
        "workflow.screened",
        "workflow.approve_technical",
        "workflow.approve_security",
        "workflow.concur",
        "workflow.approve",
    ]
    decision = Decision.objects.get(application=application, action="approve_security")
    assert (decision.actor, decision.role, decision.risk_level) == (
        staff["security_reviewer"],
        "security_reviewer",
        "medium",
    )


def test_four_eyes_one_person_two_roles_cannot_approve_twice(official_jp, jp, staff):
    both = make_user("reviewer", username="both")
    make_user("security_reviewer", username="both")
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    application = _walk(application, (both, "approve_technical", {}))
    assert application.state == State.SECURITY_REVIEW
    assert [a.name for a in workflow.available_actions(application, both)] == [
        "request_info",
        "reject",
    ]
    with pytest.raises(PermissionDenied, match="Four eyes"):
        _walk(application, (both, "approve_security", {"risk_level": "low"}))
    application.refresh_from_db()
    assert application.state == State.SECURITY_REVIEW


def test_conflict_of_interest(official_jp, jp):
    insider = make_user("reviewer", username="insider")
    make_user("official", jp, username="insider")
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    with pytest.raises(PermissionDenied, match="Conflict of interest"):
        _walk(application, (insider, "approve_technical", {}))


def test_critical_risk_cannot_be_approved_and_rationale_is_required(official_jp, jp, staff):
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    application = _walk(application, (staff["reviewer"], "approve_technical", {}))
    with pytest.raises(ValidationError, match="critical"):
        _walk(
            application,
            (staff["security_reviewer"], "approve_security", {"risk_level": "critical"}),
        )
    with pytest.raises(ValidationError):
        _walk(application, (staff["security_reviewer"], "approve_security", {}))
    with pytest.raises(ValidationError, match="rationale"):
        _walk(application, (staff["security_reviewer"], "reject", {}))


def test_approve_refused_unless_screening_is_clear_against_current_list(official_jp, jp, staff):
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    application = _walk(
        application,
        (staff["reviewer"], "approve_technical", {}),
        (staff["security_reviewer"], "approve_security", {"risk_level": "low"}),
        (staff["us_coordinator"], "concur", {"rationale": "ok"}),
    )
    # A new list version loaded: compliance reset the outcome until re-screened.
    CountryApplication.objects.filter(pk=application.pk).update(screening_outcome="")
    with pytest.raises(PermissionDenied, match="clear screening"):
        _walk(application, (staff["approver"], "approve", {}))
    CountryApplication.objects.filter(pk=application.pk).update(screening_outcome="clear")
    assert _walk(application, (staff["approver"], "approve", {})).state == State.APPROVED


def test_info_request_round_trip_rescreens_and_returns_to_the_asking_stage(official_jp, jp, staff):
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    application = _walk(
        application,
        (staff["reviewer"], "approve_technical", {}),
        (staff["security_reviewer"], "request_info", {"rationale": "Evidence of zero trust?"}),
    )
    assert application.state == State.INFO_REQUESTED
    from partnerships.services import application_update

    application = application_update(
        application=application,
        actor=official_jp,
        version=application.version,
        data={"customization_notes": "Zero-trust evidence attached"},
    )
    application = _walk(application, (official_jp, "submit", {}))
    assert application.state == State.SCREENING
    application = _screen_clear(application)
    assert application.state == State.SECURITY_REVIEW  # back to the stage that asked
    # The same security reviewer may now approve (same approving action, not a second stage).
    assert (
        _walk(
            application, (staff["security_reviewer"], "approve_security", {"risk_level": "low"})
        ).state
        == State.US_COORDINATION
    )


def test_screening_hold_then_clear_or_reject(official_jp, jp, staff):
    application = _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    application.refresh_from_db()
    workflow.application_screened(
        application_id=application.pk,
        expected_version=application.version,
        outcome="needs_review",
        list_version=1,
        summary=[
            {"rule": "ear_group", "outcome": "needs_review", "reason": "D:1", "source": "eCFR"}
        ],
    )
    application.refresh_from_db()
    assert application.state == State.SCREENING_HOLD
    application = _walk(
        application, (staff["compliance_officer"], "clear_hold", {"rationale": "VEU in place"})
    )
    assert application.state == State.TECHNICAL_REVIEW and workflow.screening_is_clear(application)


def test_duplicate_screening_moves_once(official_jp, jp):
    application = _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    application.refresh_from_db()
    args = {
        "application_id": application.pk,
        "expected_version": application.version,
        "outcome": "clear",
        "list_version": 1,
        "summary": [],
    }
    assert workflow.application_screened(**args) == State.TECHNICAL_REVIEW
    assert workflow.application_screened(**args) is None
    assert Decision.objects.filter(application=application, action="screen_clear").count() == 1


def test_stale_version_is_a_conflict_and_changes_nothing(official_jp, jp):
    application = create_application(official_jp, jp)
    with pytest.raises(workflow.TransitionConflict):
        workflow.application_transition(
            application=application, actor=official_jp, action="submit", version=7
        )
    application.refresh_from_db()
    assert application.state == State.DRAFT and application.version == 1


def test_transitions_get_lists_what_the_caller_may_do(api, official_jp, jp, staff):
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    body = (
        api.as_user(staff["reviewer"])
        .get(f"/api/v1/applications/{application.pk}/transitions/")
        .json()
    )
    assert [a["action"] for a in body["actions"]] == ["approve_technical", "request_info", "reject"]
    assert body["actions"][2]["requires"]["rationale"] is True
    assert (
        api.as_user(staff["auditor"])
        .get(f"/api/v1/applications/{application.pk}/transitions/")
        .json()["actions"]
        == []
    )
    official_view = (
        api.as_user(official_jp).get(f"/api/v1/applications/{application.pk}/transitions/").json()
    )
    assert [a["action"] for a in official_view["actions"]] == ["withdraw"]
    assert official_view["state"] == "under_review"


def test_transition_api_bad_input(api, official_jp, jp, staff):
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    api.as_user(staff["reviewer"])
    url = f"/api/v1/applications/{application.pk}/transitions/"
    assert (
        api.post(url, {"action": "fly", "version": application.version}, format="json").status_code
        == 400
    )
    assert api.post(url, {"action": "reject"}, format="json").status_code == 400
    assert (
        api.post(
            url, {"action": "reject", "version": application.version}, format="json"
        ).status_code
        == 400
    )
    assert (
        api.post(
            url,
            {"action": "approve_technical", "version": application.version, "extra": 1},
            format="json",
        ).status_code
        == 400
    )
    assert (
        api.post(url, {"action": "approve_technical", "version": 999}, format="json").status_code
        == 409
    )
    application.refresh_from_db()
    assert application.state == State.TECHNICAL_REVIEW


def test_decisions_api_hides_internal_rationale_from_the_country(api, official_jp, jp, staff):
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    _walk(
        application,
        (
            staff["reviewer"],
            "reject",
            {
                "rationale": "internal: weak energy plan",
                "message_to_country": "Not approved at this time.",
            },
        ),
    )
    official_view = (
        api.as_user(official_jp).get(f"/api/v1/applications/{application.pk}/decisions/").json()
    )
    text = str(official_view)
    assert "weak energy plan" not in text and "Not approved at this time." in text
    staff_view = (
        api.as_user(staff["auditor"])
        .get(f"/api/v1/applications/{application.pk}/decisions/")
        .json()
    )
    assert "weak energy plan" in str(staff_view)


def test_emails_are_written_to_the_outbox_and_not_sent_on_rollback(
    official_jp, jp, staff, django_capture_on_commit_callbacks
):
    application = create_application(official_jp, jp)
    with pytest.raises(Rollback), transaction.atomic():
        _walk(application, (official_jp, "submit", {}))
        assert OutboxEmail.objects.exists()
        raise Rollback
    assert not OutboxEmail.objects.exists()
    assert deliver_pending() == 0 and mail.outbox == []
    _walk(application, (official_jp, "submit", {}))
    application = _screen_clear(application)
    sent = deliver_pending()
    assert sent == len(mail.outbox) > 0
    assert any(official_jp.email in m.to for m in mail.outbox)
    assert deliver_pending() == 0  # each row is delivered once


def test_assignment_grants_object_permission_and_reassignment_revokes(official_jp, jp, staff):
    from partnerships.services import application_assign

    other = make_user("reviewer", username="reviewer-2")
    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    application_assign(application=application, actor=staff["reviewer"], assignee=staff["reviewer"])
    assert staff["reviewer"].has_perm("partnerships.review_application", application)
    application_assign(application=application, actor=staff["reviewer"], assignee=other)
    reviewer = type(staff["reviewer"]).objects.get(pk=staff["reviewer"].pk)
    assert not reviewer.has_perm("partnerships.review_application", application)
    assert (
        type(other)
        .objects.get(pk=other.pk)
        .has_perm("partnerships.review_application", application)
    )
    with pytest.raises(PermissionDenied):
        application_assign(
            application=application, actor=staff["approver"], assignee=staff["approver"]
        )


def test_overdue_task_marks_and_notifies_once(official_jp, jp, staff):
    from partnerships.services import application_assign, mark_overdue_work

    application = _screen_clear(
        _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    )
    application_assign(application=application, actor=staff["reviewer"], assignee=staff["reviewer"])
    later = timezone.now() + dt.timedelta(days=30)
    assert mark_overdue_work(later)["applications"] == 1
    assert mark_overdue_work(later)["applications"] == 0
    assert AuditEvent.objects.filter(verb="workflow.overdue").count() == 1
    assert (
        OutboxEmail.objects.filter(to=staff["reviewer"].email, subject__contains="overdue").count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_transitions_exactly_one_wins(jp):
    from rest_framework.test import APIClient

    official = make_user("official", jp, "official-race")
    application = create_application(official, jp)
    application = _walk(application, (official, "submit", {}))
    application = _screen_clear(application)
    reviewers = [make_user("reviewer", username=f"racer-{i}") for i in range(6)]
    barrier = threading.Barrier(len(reviewers))
    statuses: list[int] = []

    def attempt(user):
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            response = client.post(
                f"/api/v1/applications/{application.pk}/transitions/",
                {"action": "approve_technical", "version": application.version},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * (len(reviewers) - 1)
    assert Decision.objects.filter(application=application, action="approve_technical").count() == 1


@pytest.mark.django_db(transaction=True)
def test_locking_an_application_does_not_lock_its_country(jp):
    """Regression: FOR UPDATE with select_related("tenant") also locked the Tenant row, so every
    insert referencing the country (its FK check) waited, and deadlocked with the audit lock."""
    from portal.tenancy.models import Membership

    official = make_user("official", jp, "official-lock")
    other = make_user(username="joining-official")
    application = create_application(official, jp)
    errors: list[Exception] = []

    def insert_referencing_the_country():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            Membership.objects.create(user=other, tenant=jp, role="official")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        workflow.application_transition(
            application=application, actor=official, action="withdraw", version=1
        )
        thread = threading.Thread(target=insert_referencing_the_country)
        thread.start()
        thread.join()
    assert errors == []
    assert Membership.objects.filter(user=other, tenant=jp).exists()


def test_rescreen_keeps_a_clearance_when_nothing_new_is_found(official_jp, jp, staff):
    """Regression: a cleared needs_review hold was held again by every new list version."""
    concern = {
        "rule": "ear_group",
        "subject": "site IQ",
        "outcome": "needs_review",
        "reason": "D:5",
        "source": "eCFR",
    }
    application = _walk(create_application(official_jp, jp), (official_jp, "submit", {}))
    application.refresh_from_db()
    workflow.application_screened(
        application_id=application.pk,
        expected_version=application.version,
        outcome="needs_review",
        list_version=1,
        summary=[concern],
    )
    application = _walk(
        application, (staff["compliance_officer"], "clear_hold", {"rationale": "VEU approved"})
    )
    assert application.state == State.TECHNICAL_REVIEW
    # List v2: the same concern only → stays in review, clearance kept.
    assert (
        workflow.application_hold_after_rescreen(
            application_id=application.pk, outcome="needs_review", list_version=2, summary=[concern]
        )
        is None
    )
    application.refresh_from_db()
    assert application.state == State.TECHNICAL_REVIEW and workflow.screening_is_clear(application)
    # List v3: a new concern → held again, clearance gone.
    new = {**concern, "subject": "tenant JP", "reason": "D:1"}
    assert (
        workflow.application_hold_after_rescreen(
            application_id=application.pk,
            outcome="needs_review",
            list_version=3,
            summary=[concern, new],
        )
        == State.SCREENING_HOLD
    )
    application.refresh_from_db()
    assert not application.screening_hold_cleared
