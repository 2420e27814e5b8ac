"""The US-coordination approval workflow (DESIGN §4), as data plus one service.

Every change of ``CountryApplication.state`` goes through ``application_transition`` (people)
or the screening services (the compliance screening task). Guards live here and only here,
for the web views and the API alike.

- ``states``: states, public states, roles and the table of actions (pure data);
- ``visibility``: what a viewer may see of states and decisions;
- ``guards``: who may act and when, the input an action needs, completeness for submit;
- ``effects``: what follows an action (row stamps, mail, screening, the partnership);
- ``transition``: the one service for a person's action (lock, guard, write, record, effects);
- ``screening``: the screening's word (outcome columns, moves, batch), its own service;
- ``stages``, ``signals``: entering a state; what the workflow tells the modules above it.
"""

from partnerships.workflow.effects import EFFECTS, STAMPS, Move
from partnerships.workflow.guards import (
    ConditionInput,
    TransitionConflict,
    available_actions,
    check_may_move,
    missing_for_submit,
    require_may_act,
    screening_is_clear,
    validate_transition_input,
)
from partnerships.workflow.screening import (
    SCREENING_FIELDS,
    ScreeningOutcome,
    application_hold_after_rescreen,
    application_screened,
    applications_screened,
    concerns,
    screening_outcomes_reset,
)
from partnerships.workflow.signals import application_submitted, transitions_recorded
from partnerships.workflow.states import (
    ACTIONS,
    APPROVABLE_RISK_LEVELS,
    APPROVING_ACTIONS,
    EDITABLE_STATES,
    FINAL_STATES,
    IRREVERSIBLE_ACTIONS,
    PUBLIC_STATE,
    PUBLIC_STATE_CODE,
    REVIEW_STATES,
    RISK_LABELS,
    RISK_LEVELS,
    STATE_ROLE,
    TENANT,
    Action,
    PublicState,
    ScreeningGuard,
    internal_states,
    public_state,
    public_state_code,
)
from partnerships.workflow.transition import application_transition
from partnerships.workflow.visibility import decisions_for, state_for

__all__ = [
    "ACTIONS",
    "APPROVABLE_RISK_LEVELS",
    "APPROVING_ACTIONS",
    "EDITABLE_STATES",
    "EFFECTS",
    "FINAL_STATES",
    "IRREVERSIBLE_ACTIONS",
    "PUBLIC_STATE",
    "PUBLIC_STATE_CODE",
    "REVIEW_STATES",
    "RISK_LABELS",
    "RISK_LEVELS",
    "SCREENING_FIELDS",
    "STAMPS",
    "STATE_ROLE",
    "TENANT",
    "Action",
    "ConditionInput",
    "Move",
    "PublicState",
    "ScreeningGuard",
    "ScreeningOutcome",
    "TransitionConflict",
    "application_hold_after_rescreen",
    "application_screened",
    "application_submitted",
    "application_transition",
    "applications_screened",
    "available_actions",
    "check_may_move",
    "concerns",
    "decisions_for",
    "internal_states",
    "missing_for_submit",
    "public_state",
    "public_state_code",
    "require_may_act",
    "screening_is_clear",
    "screening_outcomes_reset",
    "state_for",
    "transitions_recorded",
    "validate_transition_input",
]
