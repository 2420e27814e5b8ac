"""The US-coordination approval workflow (DESIGN §4), as data plus one service.

Every change of ``CountryApplication.state`` goes through ``application_transition`` (people)
or ``application_screened`` (the compliance screening task). Guards live here and only here,
for the web views and the API alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerships.models import CountryApplication, Decision, Obligation, Partnership, State
from portal import parse
from portal.audit.record import record_event, record_events
from portal.audit.verbs import Verb
from portal.errors import ConflictError
from portal.tenancy.access import access_for, acts_as_country
from portal.tenancy.dates import tenant_today
from portal.tenancy.roles import Role

#: Sent after commit when an application enters ``screening`` (compliance listens).
application_submitted = Signal()  # kwargs: application_id, version
# Sent inside the transaction of a move (kwargs: moves: [(application, decision)], batch:
# bool): notifications writes its outbox rows in it. A signal, because notifications reads
# this module's tables of states and roles (this module must not import it back).
transitions_recorded = Signal()

# --- States -------------------------------------------------------------------------------


class PublicState(models.TextChoices):
    """What the country is told (DESIGN §4 "Internal vs released"): stable codes, translated
    labels. The internal state never reaches a country's people."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    INFORMATION_REQUESTED = "information_requested", _("Information requested")
    APPROVED = "approved", _("Approved")
    NOT_APPROVED = "not_approved", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: The public state of each internal state.
PUBLIC_STATE_CODE = {
    State.DRAFT: PublicState.DRAFT,
    State.SCREENING: PublicState.SUBMITTED,
    State.SCREENING_HOLD: PublicState.UNDER_REVIEW,
    State.TECHNICAL_REVIEW: PublicState.UNDER_REVIEW,
    State.SECURITY_REVIEW: PublicState.UNDER_REVIEW,
    State.US_COORDINATION: PublicState.UNDER_REVIEW,
    State.FINAL_REVIEW: PublicState.UNDER_REVIEW,
    State.INFO_REQUESTED: PublicState.INFORMATION_REQUESTED,
    State.APPROVED: PublicState.APPROVED,
    State.REJECTED: PublicState.NOT_APPROVED,
    State.WITHDRAWN: PublicState.WITHDRAWN,
}
#: What the country sees instead of the internal state name (the label).
PUBLIC_STATE = {state: code.label for state, code in PUBLIC_STATE_CODE.items()}
REVIEW_STATES = frozenset(
    {State.TECHNICAL_REVIEW, State.SECURITY_REVIEW, State.US_COORDINATION, State.FINAL_REVIEW}
)
FINAL_STATES = frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN})
EDITABLE_STATES = frozenset({State.DRAFT, State.INFO_REQUESTED})
#: The programme role that works an application in each state.
STATE_ROLE = {
    State.SCREENING_HOLD: Role.COMPLIANCE_OFFICER,
    State.TECHNICAL_REVIEW: Role.REVIEWER,
    State.SECURITY_REVIEW: Role.SECURITY_REVIEWER,
    State.US_COORDINATION: Role.US_COORDINATOR,
    State.FINAL_REVIEW: Role.APPROVER,
}
RISK_LEVELS = ("low", "medium", "high", "critical")
RISK_LABELS = {"low": _("Low"), "medium": _("Medium"), "high": _("High"), "critical": _("Critical")}
APPROVABLE_RISK_LEVELS = ("low", "medium", "high")
TENANT = "tenant"  # pseudo-role: an official or country_admin of the application's country


def public_state(state: str) -> str:
    """The public label of an internal state, in the active language."""
    return str(PUBLIC_STATE[State(state)])


def public_state_code(state: str) -> str:
    """The stable public code of an internal state (``technical_review`` → ``under_review``)."""
    return str(PUBLIC_STATE_CODE[State(state)].value)


def internal_states(public_code: str) -> frozenset[str]:
    """The internal states a public code stands for (empty for an unknown code)."""
    return frozenset(s.value for s, code in PUBLIC_STATE_CODE.items() if code == public_code)


def state_for(viewer: Any, application: CountryApplication) -> tuple[str, str]:
    """(code, label) of the application's state as ``viewer`` may see it."""
    if acts_as_country(viewer, application.tenant_id):
        return public_state_code(application.state), public_state(application.state)
    return application.state, str(State(application.state).label)


def decisions_for(
    viewer: Any, application: CountryApplication, decisions: Iterable[Any]
) -> list[Any]:
    """The decisions ``viewer`` may see, oldest first as given. The country's view collapses
    the moves it cannot see: a decision that leaves the public state as it was ("Under
    review → Under review") is dropped unless it carries a message to the country or an
    information request."""
    rows = list(decisions)
    if not acts_as_country(viewer, application.tenant_id):
        return rows
    return [
        d
        for d in rows
        if PUBLIC_STATE_CODE[State(d.from_state)] != PUBLIC_STATE_CODE[State(d.to_state)]
        or d.message_to_country
        or d.action == "request_info"
    ]


# --- Actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    label: Any
    from_states: frozenset[str]
    to_state: str | None  # None: decided by the service (submit after info request …)
    role: str | None  # None: the role of the current state (STATE_ROLE)
    approving: bool = False
    rationale_required: bool = False
    risk_level_required: bool = False
    conditions_allowed: bool = False
    released: bool = True  # the country is told (public state changes or message)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_tenant_action(self) -> bool:
        return self.role == TENANT

    def role_for(self, state: str) -> str | None:
        return self.role if self.role is not None else STATE_ROLE.get(State(state))

    def requirements(self) -> dict[str, bool]:
        return {
            "rationale": self.rationale_required,
            "risk_level": self.risk_level_required,
            "conditions": self.conditions_allowed,
        }


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "submit",
            _("Submit"),
            frozenset({State.DRAFT, State.INFO_REQUESTED}),
            State.SCREENING,
            TENANT,
        ),
        Action(
            "clear_hold",
            _("Clear the hold"),
            frozenset({State.SCREENING_HOLD}),
            State.TECHNICAL_REVIEW,
            Role.COMPLIANCE_OFFICER,
            approving=True,
            rationale_required=True,
        ),
        Action(
            "approve_technical",
            _("Approve technical review"),
            frozenset({State.TECHNICAL_REVIEW}),
            State.SECURITY_REVIEW,
            Role.REVIEWER,
            approving=True,
        ),
        Action(
            "approve_security",
            _("Approve security review"),
            frozenset({State.SECURITY_REVIEW}),
            State.US_COORDINATION,
            Role.SECURITY_REVIEWER,
            approving=True,
            risk_level_required=True,
        ),
        Action(
            "concur",
            _("Concur"),
            frozenset({State.US_COORDINATION}),
            State.FINAL_REVIEW,
            Role.US_COORDINATOR,
            approving=True,
            rationale_required=True,
            conditions_allowed=True,
        ),
        Action(
            "non_concur",
            _("Do not concur"),
            frozenset({State.US_COORDINATION}),
            State.REJECTED,
            Role.US_COORDINATOR,
            rationale_required=True,
        ),
        Action(
            "approve",
            _("Approve partnership"),
            frozenset({State.FINAL_REVIEW}),
            State.APPROVED,
            Role.APPROVER,
            approving=True,
        ),
        Action(
            "request_info",
            _("Request information"),
            REVIEW_STATES,
            State.INFO_REQUESTED,
            None,
            rationale_required=True,
        ),
        Action(
            "reject",
            _("Reject"),
            REVIEW_STATES | {State.SCREENING_HOLD},
            State.REJECTED,
            None,
            rationale_required=True,
        ),
        Action(
            "withdraw",
            _("Withdraw"),
            frozenset(set(State) - FINAL_STATES),
            State.WITHDRAWN,
            TENANT,
        ),
    )
}
APPROVING_ACTIONS = frozenset(name for name, a in ACTIONS.items() if a.approving)
#: Actions that end the application's life: pages ask for a confirmation step first.
IRREVERSIBLE_ACTIONS = frozenset({"approve", "reject", "non_concur", "withdraw"})


# --- Errors -------------------------------------------------------------------------------


class TransitionConflict(ConflictError):
    """Stale version, or the state no longer allows the action (API: 409)."""


# --- Guards -------------------------------------------------------------------------------


def _role_error(action: Action, application: CountryApplication, actor: Any) -> str | None:
    """Why ``actor`` may not take ``action`` on ``application`` in its current state, or None."""
    access = access_for(actor)
    if action.is_tenant_action:
        if not access.is_official_of(application.tenant_id):
            return str(_("Only the country's officials can do this."))
        return None
    role = action.role_for(application.state)
    if role is None or not access.has_programme_role(role):
        return str(_("Your role cannot take this action at this stage."))
    # Conflict of interest: a person who belongs to the country never reviews it.
    if access.conflicted(application.tenant_id):
        return str(_("Conflict of interest: you hold a role in this application's country."))
    return None


def _four_eyes_error(action: Action, application: CountryApplication, actor: Any) -> str | None:
    """One person takes at most one kind of approving action on an application.

    Repeating the *same* approval (after an information request sent the application back
    through the same stage) is allowed; approving at a second stage is not.
    """
    if not action.approving:
        return None
    earlier = (
        Decision.objects.filter(application=application, actor=actor, action__in=APPROVING_ACTIONS)
        .exclude(action=action.name)
        .values_list("action", flat=True)
        .first()
    )
    if earlier:
        return str(
            _("Four eyes: you already took the approving action “%(action)s” here.")
            % {"action": earlier}
        )
    return None


def _screening_error(action: Action, application: CountryApplication) -> str | None:
    if action.name == "clear_hold" and application.screening_outcome == "blocked":
        return str(_("A blocked screening cannot be cleared; reject the application instead."))
    if action.name == "approve" and not screening_is_clear(application):
        return str(_("Final approval needs a clear screening against the current territory list."))
    return None


def screening_is_clear(application: CountryApplication) -> bool:
    """Clear against the current list: compliance resets the outcome when a new list loads."""
    return application.screening_outcome == "clear" or (
        application.screening_outcome == "needs_review" and application.screening_hold_cleared
    )


def require_may_act(application: CountryApplication, actor: Any) -> None:
    """Refuse (403) someone who could take no action on the application in any state: checked
    before a request body is read, so an auditor gets 403 rather than a validation error."""
    access = access_for(actor)
    if access.is_official_of(application.tenant_id):
        return
    if not access.conflicted(application.tenant_id) and access.has_programme_role(
        *STATE_ROLE.values()
    ):
        return
    raise PermissionDenied(_("Your role takes no actions on applications."))


def available_actions(application: CountryApplication, actor: Any) -> list[Action]:
    """The actions ``actor`` may take on ``application`` now (no input checks)."""
    return [
        action
        for action in ACTIONS.values()
        if application.state in action.from_states
        and _role_error(action, application, actor) is None
        and _four_eyes_error(action, application, actor) is None
        and _screening_error(action, application) is None
    ]


# --- The service --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionInput:
    text: str
    due_date: dt.date


def _validate_input(
    action: Action,
    *,
    rationale: str,
    risk_level: str,
    conditions: list[ConditionInput],
    today: dt.date,
) -> None:
    errors: dict[str, list[str]] = {}
    if action.rationale_required and parse.is_blank(rationale):
        errors["rationale"] = [str(_("A rationale is required for this action."))]
    if action.risk_level_required:
        if risk_level not in RISK_LEVELS:
            errors["risk_level"] = [str(_("Choose a risk level: low, medium, high or critical."))]
        elif risk_level not in APPROVABLE_RISK_LEVELS:
            errors["risk_level"] = [
                str(_("A critical risk cannot be approved; reject or request information."))
            ]
    elif risk_level:
        errors["risk_level"] = [str(_("This action takes no risk level."))]
    if conditions and not action.conditions_allowed:
        errors["conditions"] = [str(_("Only a concurrence can carry conditions."))]
    for condition in conditions:
        if parse.is_blank(condition.text):
            errors.setdefault("conditions", []).append(str(_("A condition needs a text.")))
        if condition.due_date < today:
            errors.setdefault("conditions", []).append(
                str(_("A condition's due date cannot be in the past."))
            )
    if errors:
        raise ValidationError(errors)


def validate_transition_input(
    *,
    action: str,
    rationale: str,
    risk_level: str,
    conditions: list[ConditionInput],
    tenant: Any = None,
) -> Action:
    """The input checks of ``application_transition`` alone (no state, role or lock), so a
    page can report them before it asks for a confirmation. Returns the action; raises
    ``ValidationError`` keyed by field (``action``, ``rationale``, ``risk_level``,
    ``conditions``). Condition due dates are checked against the ``tenant``'s today."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationError({"action": [str(_("Choose an action."))]})
    _validate_input(
        spec,
        rationale=rationale,
        risk_level=risk_level,
        conditions=conditions,
        today=tenant_today(tenant),
    )
    return spec


def _stage_due(state: str, now: dt.datetime) -> dt.datetime | None:
    days = settings.PORTAL_SLA_DAYS.get(state)
    return now + dt.timedelta(days=days) if days else None


def _enter_state(application: CountryApplication, state: str, now: dt.datetime) -> None:
    application.state = state
    application.stage_entered_at = now
    application.stage_due_at = _stage_due(state, now)
    application.overdue_notified = False
    application.assigned_to = None


def _after_commit(callback: Callable[[], None]) -> None:
    transaction.on_commit(callback, robust=False)


def application_transition(
    *,
    application: CountryApplication,
    actor: Any,
    action: str,
    version: int,
    rationale: str = "",
    message_to_country: str = "",
    risk_level: str = "",
    conditions: list[ConditionInput] | None = None,
    completeness_check: Callable[[CountryApplication], list[str]] | None = None,
) -> CountryApplication:
    """Apply one workflow action taken by a person; returns the updated application.

    Raises ``ValidationError`` (bad input, 400), ``PermissionDenied`` (role, four eyes,
    conflict of interest, screening guard: 403) or ``TransitionConflict`` (stale version or
    a state that no longer allows the action: 409). On success the Decision, the audit event,
    any obligations or partnership and the outbox e-mails commit with the state change;
    side effects (screening, e-mail delivery) run after commit.
    """
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationError(
            {"action": [str(_("Unknown action %(action)s.") % {"action": action})]}
        )
    conditions = conditions or []
    # A condition's due date is a date in the country that must meet it.
    _validate_input(
        spec,
        rationale=rationale,
        risk_level=risk_level,
        conditions=conditions,
        today=tenant_today(application.tenant),
    )

    with transaction.atomic():
        locked = (
            CountryApplication.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .get(pk=application.pk)
        )
        if locked.version != version:
            raise TransitionConflict(
                str(_("The application changed (version %(now)s, you saw %(seen)s); reload it."))
                % {"now": locked.version, "seen": version}
            )
        if locked.state not in spec.from_states:
            # The country's people are told the public state only, never the internal one.
            raise TransitionConflict(
                str(_("“%(action)s” is not possible now: the application is “%(state)s”."))
                % {"action": spec.label, "state": state_for(actor, locked)[1]}
            )
        for error in (
            _role_error(spec, locked, actor),
            _four_eyes_error(spec, locked, actor),
            _screening_error(spec, locked),
        ):
            if error:
                raise PermissionDenied(error)
        if action == "submit" and completeness_check is not None:
            missing = completeness_check(locked)
            if missing:
                raise ValidationError({"missing": missing})

        now = timezone.now()
        from_state = locked.state
        to_state = spec.to_state
        assert to_state is not None
        role_used = spec.role_for(from_state) or ""
        if spec.is_tenant_action:
            role_used = sorted(access_for(actor).tenant_roles.get(locked.tenant_id, {""}))[0]

        update_fields = [
            "state",
            "stage_entered_at",
            "stage_due_at",
            "overdue_notified",
            "assigned_to",
            "version",
            "updated_at",
            "updated_by",
        ]
        if action == "request_info":
            locked.info_requested_from = from_state
            update_fields.append("info_requested_from")
        if action == "submit":
            locked.submitted_at, locked.submitted_by = now, actor
            update_fields += ["submitted_at", "submitted_by"]
        if action == "clear_hold":
            locked.screening_hold_cleared = True
            update_fields.append("screening_hold_cleared")
        _enter_state(locked, to_state, now)
        locked.version += 1
        locked.updated_by = actor
        locked.save(update_fields=update_fields)

        decision = Decision.objects.create(
            application=locked,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            actor_label=actor.get_username(),
            role=role_used,
            rationale=rationale,
            message_to_country=message_to_country,
            risk_level=risk_level,
            application_version=locked.version,
        )
        for condition in conditions:
            obligation = Obligation.objects.create(
                tenant=locked.tenant,
                application=locked,
                decision=decision,
                text=condition.text.strip(),
                due_date=condition.due_date,
            )
            record_event(
                actor=actor,
                verb=Verb.OBLIGATION_CREATED,
                obj=obligation,
                tenant=locked.tenant,
                role=role_used,
                changes={"text": obligation.text, "due_date": obligation.due_date},
            )
        record_event(
            actor=actor,
            verb=Verb(f"workflow.{action}")
            if action not in ("submit", "withdraw")
            else (Verb.APPLICATION_SUBMITTED if action == "submit" else Verb.APPLICATION_WITHDRAWN),
            obj=locked,
            role=role_used,
            reason=rationale,
            changes={
                "state": {"before": from_state, "after": to_state},
                "version": {"before": version, "after": locked.version},
                **({"risk_level": risk_level} if risk_level else {}),
                **({"message_to_country": message_to_country} if message_to_country else {}),
                **(
                    {"conditions": [{"text": c.text, "due_date": c.due_date} for c in conditions]}
                    if conditions
                    else {}
                ),
            },
        )
        if action == "approve":
            partnership = Partnership.objects.create(
                tenant=locked.tenant,
                application=locked,
                effective_date=tenant_today(locked.tenant),
            )
            Obligation.objects.filter(application=locked).update(partnership=partnership)
            record_event(
                actor=actor,
                verb=Verb.PARTNERSHIP_CREATED,
                obj=partnership,
                tenant=locked.tenant,
                role=role_used,
            )
        transitions_recorded.send(sender=CountryApplication, moves=[(locked, decision)])
        if action == "submit":
            app_id, app_version = locked.pk, locked.version

            def announce() -> None:
                application_submitted.send(
                    sender=CountryApplication, application_id=app_id, version=app_version
                )

            _after_commit(announce)
    return locked


def concerns(summary: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """The (rule, subject) pairs a screening did not find clear: what a person had to look at.

    The one home of this rule: compliance compares a new screening's concerns with the ones an
    officer already cleared through it.
    """
    return {
        (f.get("rule", ""), f.get("subject", "")) for f in summary if f.get("outcome") != "clear"
    }


def _record_screening(
    locked: CountryApplication, outcome: str, list_version: int, summary: list[dict[str, Any]]
) -> list[str]:
    # A compliance officer's clearance survives a re-screen that finds nothing new: the same
    # needs_review concerns (or fewer) were already weighed. Anything else needs a new decision.
    keep_clearance = (
        locked.screening_hold_cleared
        and outcome == "needs_review"
        and concerns(summary) <= concerns(locked.screening_summary or [])
    )
    locked.screening_outcome = outcome
    locked.screening_list_version = list_version
    locked.screening_summary = summary
    locked.screening_hold_cleared = keep_clearance
    return [
        "screening_outcome",
        "screening_list_version",
        "screening_summary",
        "screening_hold_cleared",
    ]


def _screening_record(
    application: CountryApplication,
    *,
    from_state: str,
    to_state: str,
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str,
) -> tuple[Decision, dict[str, Any]]:
    """The screening's move of ``application`` (already at its new version) as an unsaved
    ``Decision`` and the keyword arguments of its audit event; one home for both the
    one-at-a-time and the batch path. Without a ``rationale``, the reasons of the findings
    that are not clear."""
    reasons = rationale or "; ".join(f["reason"] for f in summary if f.get("outcome") != "clear")
    action = "screen_clear" if to_state != State.SCREENING_HOLD else "screen_hold"
    decision = Decision(
        application=application,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=None,
        actor_label="system",
        role="screening",
        rationale=reasons,
        application_version=application.version,
    )
    event = {
        "verb": Verb.WORKFLOW_SCREENED if action == "screen_clear" else Verb.WORKFLOW_HOLD,
        "obj": application,
        "role": "screening",
        "reason": reasons,
        "changes": {
            "state": {"before": from_state, "after": to_state},
            "outcome": outcome,
            "list_version": list_version,
        },
    }
    return decision, event


def _system_move(
    locked: CountryApplication,
    *,
    to_state: str,
    fields: list[str],
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str = "",
) -> str:
    """Move an application on the screening's word: Decision, audit event, e-mails.

    ``rationale`` is the screening's own account (outcome, list and policy versions, reasons);
    without one, the reasons of the findings that are not clear.
    """
    from_state = locked.state
    _enter_state(locked, to_state, timezone.now())
    locked.info_requested_from = "" if from_state == State.SCREENING else locked.info_requested_from
    locked.version += 1
    locked.save(
        update_fields=[
            *fields,
            "state",
            "stage_entered_at",
            "stage_due_at",
            "overdue_notified",
            "assigned_to",
            "info_requested_from",
            "version",
            "updated_at",
        ]
    )
    decision, event = _screening_record(
        locked, from_state=from_state, to_state=to_state, outcome=outcome,
        list_version=list_version, summary=summary, rationale=rationale,
    )  # fmt: skip
    decision.save()
    record_event(**event)
    transitions_recorded.send(sender=CountryApplication, moves=[(locked, decision)])
    return to_state


@transaction.atomic
def application_screened(
    *,
    application_id: int,
    expected_version: int,
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str = "",
) -> str | None:
    """Record a screening outcome on the application and move it on (the Celery task calls this).

    Only an application still in ``screening`` at ``expected_version`` moves: clear →
    the review stage (or the stage that asked for information), otherwise →
    ``screening_hold``. Returns the new state, or None when nothing moved (idempotent: a
    duplicate or late task changes nothing). Joins the caller's transaction, if any.
    """
    locked = (
        CountryApplication.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=application_id)
    )
    fields = _record_screening(locked, outcome, list_version, summary)
    if locked.state != State.SCREENING or locked.version != expected_version:
        locked.save(update_fields=fields)
        return None
    to_state = (
        (locked.info_requested_from or State.TECHNICAL_REVIEW)
        if outcome == "clear"
        else State.SCREENING_HOLD
    )
    return _system_move(
        locked,
        to_state=to_state,
        fields=fields,
        outcome=outcome,
        list_version=list_version,
        summary=summary,
        rationale=rationale,
    )


@dataclass(frozen=True)
class ScreeningOutcome:
    """One application's screening, as ``applications_screened`` takes it."""

    application_id: int
    expected_version: int
    outcome: str
    summary: list[dict[str, Any]]
    rationale: str = ""


_SCREENED_FIELDS = [
    "state",
    "stage_entered_at",
    "stage_due_at",
    "overdue_notified",
    "assigned_to",
    "info_requested_from",
    "version",
    "updated_at",
]


def _save_rows(rows: list[CountryApplication], fields: list[str]) -> None:
    """``save(update_fields=fields)`` of many rows as one pipelined ``executemany``.

    Why not ``bulk_update``: its CASE expressions took Django longer to build than the
    database to run (1.2 s for 50 applications × 12 fields, bench/README.md); psycopg sends
    these plain UPDATEs in one pipeline, so the batch is still one round trip.
    """
    model_fields = [CountryApplication._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in model_fields)  # type: ignore[union-attr]
    # Identifiers from the model's own metadata, quoted; every value is a parameter.
    sql = (
        f"UPDATE {quote(CountryApplication._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(str(CountryApplication._meta.pk.column))} = %s"  # type: ignore[union-attr]
    )
    params = [
        [
            f.get_db_prep_save(getattr(row, f.attname), connection)  # type: ignore[union-attr]
            for f in model_fields
        ]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


@transaction.atomic
def applications_screened(
    *, outcomes: list[ScreeningOutcome], list_version: int
) -> dict[int, str | None]:
    """``application_screened`` for a batch, in one transaction and a constant number of
    statements (one lock query, two updates, one insert of decisions, one append of audit
    events, the e-mails' recipients and one insert of them). Same rules, same records, same results:
    application id → new state, or None when it did not move. Joins the caller's transaction.
    """
    locked = {
        a.pk: a
        for a in CountryApplication.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(pk__in=[o.application_id for o in outcomes])
        .order_by("pk")
    }
    now = timezone.now()
    results: dict[int, str | None] = {}
    stayed: list[CountryApplication] = []
    moved: list[tuple[CountryApplication, Decision]] = []
    events: list[dict[str, Any]] = []
    fields: list[str] = []
    for item in outcomes:
        application = locked.get(item.application_id)
        results[item.application_id] = None
        if application is None:
            continue
        fields = _record_screening(application, item.outcome, list_version, item.summary)
        if application.state != State.SCREENING or application.version != item.expected_version:
            stayed.append(application)
            continue
        to_state = (
            (application.info_requested_from or State.TECHNICAL_REVIEW)
            if item.outcome == "clear"
            else State.SCREENING_HOLD
        )
        from_state = application.state
        _enter_state(application, to_state, now)
        application.info_requested_from = ""
        application.version += 1
        application.updated_at = now  # bulk_update does not run auto_now
        decision, event = _screening_record(
            application, from_state=from_state, to_state=to_state, outcome=item.outcome,
            list_version=list_version, summary=item.summary, rationale=item.rationale,
        )  # fmt: skip
        moved.append((application, decision))
        events.append(event)
        results[item.application_id] = to_state
    if stayed:
        _save_rows(stayed, fields)
    if moved:
        _save_rows([a for a, _ in moved], [*fields, *_SCREENED_FIELDS])
        Decision.objects.bulk_create([d for _, d in moved])
        record_events(events=events)
        transitions_recorded.send(sender=CountryApplication, moves=moved, batch=True)
    return results


@transaction.atomic
def application_hold_after_rescreen(
    *,
    application_id: int,
    outcome: str,
    list_version: int,
    summary: list[dict[str, Any]],
    rationale: str = "",
) -> str | None:
    """A new list version found a not-yet-final application no longer clear: hold it.

    Applications in review states move to ``screening_hold`` with the reasons; drafts,
    applications waiting on the country and those already held only get the new outcome.
    Joins the caller's transaction, if any.
    """
    locked = (
        CountryApplication.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=application_id)
    )
    fields = _record_screening(locked, outcome, list_version, summary)
    if screening_is_clear(locked) or locked.state not in REVIEW_STATES:
        locked.save(update_fields=fields)
        return None
    return _system_move(
        locked,
        to_state=State.SCREENING_HOLD,
        fields=fields,
        outcome=outcome,
        list_version=list_version,
        summary=summary,
        rationale=rationale,
    )
