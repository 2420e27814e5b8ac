"""The workflow as data (DESIGN §4): states, public states, roles and the table of actions.

Pure data: this module imports no other module of the workflow, so anything may read it.
Each ``Action`` names what it needs (role, input, guards), the audit verb it records and
its effects, by name: ``stamps`` change the application row before it is saved, ``effects``
run after the decision and audit event are written (both registered in ``effects.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from partnerships.models import State
from portal.audit.verbs import Verb
from portal.tenancy.roles import Role


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


class ScreeningGuard(models.TextChoices):
    """What an action asks of the application's screening (``guards.screening_error``)."""

    NONE = "", "no requirement"
    NOT_BLOCKED = "not_blocked", "the screening did not block it"
    CLEAR = "clear", "a clear screening against the current list"


@dataclass(frozen=True)
class Action:
    """One row of DESIGN §4's table: who takes it from which states, what it needs, what it
    records (``verb``) and what follows (``stamps``, ``effects``: names in ``effects.py``)."""

    name: str
    label: Any
    from_states: frozenset[str]
    to_state: str
    role: str | None  # None: the role of the current state (STATE_ROLE)
    verb: Verb
    approving: bool = False
    rationale_required: bool = False
    risk_level_required: bool = False
    conditions_allowed: bool = False
    complete_required: bool = False  # the application must have every section filled in
    screening: ScreeningGuard = ScreeningGuard.NONE
    released: bool = True  # the country is told (public state changes or message)
    stamps: tuple[str, ...] = ()  # changes of the row beside the state, before it is saved
    effects: tuple[str, ...] = ("notify",)  # after the decision and its audit event

    @property
    def is_tenant_action(self) -> bool:
        """Taken by the application's country (an official or country admin)."""
        return self.role == TENANT

    def role_for(self, state: str) -> str | None:
        """The role that takes this action in ``state`` (None: nobody)."""
        return self.role if self.role is not None else STATE_ROLE.get(State(state))

    def requirements(self) -> dict[str, bool]:
        """Which inputs the action asks for (what a page shows)."""
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
            Verb.APPLICATION_SUBMITTED,
            complete_required=True,
            stamps=("stamp_submitted",),
            effects=("notify", "announce_submitted"),
        ),
        Action(
            "clear_hold",
            _("Clear the hold"),
            frozenset({State.SCREENING_HOLD}),
            State.TECHNICAL_REVIEW,
            Role.COMPLIANCE_OFFICER,
            Verb.WORKFLOW_CLEAR_HOLD,
            approving=True,
            rationale_required=True,
            screening=ScreeningGuard.NOT_BLOCKED,
            stamps=("mark_hold_cleared",),
        ),
        Action(
            "approve_technical",
            _("Approve technical review"),
            frozenset({State.TECHNICAL_REVIEW}),
            State.SECURITY_REVIEW,
            Role.REVIEWER,
            Verb.WORKFLOW_APPROVE_TECHNICAL,
            approving=True,
        ),
        Action(
            "approve_security",
            _("Approve security review"),
            frozenset({State.SECURITY_REVIEW}),
            State.US_COORDINATION,
            Role.SECURITY_REVIEWER,
            Verb.WORKFLOW_APPROVE_SECURITY,
            approving=True,
            risk_level_required=True,
        ),
        Action(
            "concur",
            _("Concur"),
            frozenset({State.US_COORDINATION}),
            State.FINAL_REVIEW,
            Role.US_COORDINATOR,
            Verb.WORKFLOW_CONCUR,
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
            Verb.WORKFLOW_NON_CONCUR,
            rationale_required=True,
        ),
        Action(
            "approve",
            _("Approve partnership"),
            frozenset({State.FINAL_REVIEW}),
            State.APPROVED,
            Role.APPROVER,
            Verb.WORKFLOW_APPROVE,
            approving=True,
            screening=ScreeningGuard.CLEAR,
            effects=("create_partnership", "notify"),
        ),
        Action(
            "request_info",
            _("Request information"),
            REVIEW_STATES,
            State.INFO_REQUESTED,
            None,
            Verb.WORKFLOW_REQUEST_INFO,
            rationale_required=True,
            stamps=("remember_stage",),
        ),
        Action(
            "reject",
            _("Reject"),
            REVIEW_STATES | {State.SCREENING_HOLD},
            State.REJECTED,
            None,
            Verb.WORKFLOW_REJECT,
            rationale_required=True,
        ),
        Action(
            "withdraw",
            _("Withdraw"),
            frozenset(set(State) - FINAL_STATES),
            State.WITHDRAWN,
            TENANT,
            Verb.APPLICATION_WITHDRAWN,
        ),
    )
}
APPROVING_ACTIONS = frozenset(name for name, a in ACTIONS.items() if a.approving)
#: Actions that end the application's life: pages ask for a confirmation step first.
IRREVERSIBLE_ACTIONS = frozenset({"approve", "reject", "non_concur", "withdraw"})
