"""Who may take an action, and when (DESIGN §4 guards): the one place for UI and API alike.

Role and conflict of interest, four eyes, the screening an action needs, the input it
needs, the application's completeness for submit, and the version and state it was seen in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from partnerships.models import Attachment, CountryApplication, Decision
from partnerships.workflow.states import (
    ACTIONS,
    APPROVABLE_RISK_LEVELS,
    APPROVING_ACTIONS,
    RISK_LEVELS,
    STATE_ROLE,
    Action,
    ScreeningGuard,
)
from partnerships.workflow.visibility import state_for
from portal import parse
from portal.errors import ConflictError
from portal.tenancy.access import access_for
from portal.tenancy.dates import tenant_today


class TransitionConflict(ConflictError):
    """Stale version, or the state no longer allows the action (API: 409)."""


@dataclass(frozen=True)
class ConditionInput:
    """A condition a concurrence attaches (it becomes an ``Obligation``)."""

    text: str
    due_date: dt.date


# --- Completeness ---------------------------------------------------------------------------


def missing_for_submit(application: CountryApplication) -> list[str]:
    """What is still missing before the application can be submitted (empty when complete)."""
    missing = []
    if parse.is_blank(application.title):
        missing.append(gettext_now("a title"))
    sites = list(application.sites.all())
    if not sites:
        missing.append(gettext_now("at least one data-centre site"))
    today = tenant_today(application.tenant)
    if any(s.target_online_date < today for s in sites):
        missing.append(gettext_now("target online dates that are not in the past"))
    if not application.languages:
        missing.append(gettext_now("the assistant's languages"))
    if not application.sectors:
        missing.append(gettext_now("at least one sector"))
    if application.data_residency_required is None:
        missing.append(gettext_now("the data-residency answer"))
    labels = dict(Attachment.Evidence.choices)
    missing.extend(
        gettext_now("an answer on %(commitment)s") % {"commitment": labels[name]}
        for name in CountryApplication.SECURITY_FIELDS
        if getattr(application, name) is None
    )
    if application.startup_fund_amount is None:
        missing.append(gettext_now("the start-up fund size and currency"))
    return missing


# --- Who and when ---------------------------------------------------------------------------


def role_error(action: Action, application: CountryApplication, actor: Any) -> str | None:
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


def four_eyes_error(action: Action, application: CountryApplication, actor: Any) -> str | None:
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


def screening_is_clear(application: CountryApplication) -> bool:
    """Clear against the current list: compliance resets the outcome when a new list loads."""
    return application.screening_outcome == "clear" or (
        application.screening_outcome == "needs_review" and application.screening_hold_cleared
    )


def screening_error(action: Action, application: CountryApplication) -> str | None:
    """Why the application's screening does not allow ``action`` (``Action.screening``)."""
    if action.screening == ScreeningGuard.NOT_BLOCKED:
        if application.screening_outcome == "blocked":
            return str(_("A blocked screening cannot be cleared; reject the application instead."))
    elif action.screening == ScreeningGuard.CLEAR and not screening_is_clear(application):
        return str(_("Final approval needs a clear screening against the current territory list."))
    return None


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
        and role_error(action, application, actor) is None
        and four_eyes_error(action, application, actor) is None
        and screening_error(action, application) is None
    ]


def check_may_move(action: Action, locked: CountryApplication, *, actor: Any, version: int) -> None:
    """The guards on the locked row: version and state (``TransitionConflict``), role,
    conflict of interest, four eyes, screening (``PermissionDenied``), then completeness
    (``ValidationError`` ``{"missing": [...]}``)."""
    if locked.version != version:
        raise TransitionConflict(
            str(_("The application changed (version %(now)s, you saw %(seen)s); reload it."))
            % {"now": locked.version, "seen": version}
        )
    if locked.state not in action.from_states:
        # The country's people are told the public state only, never the internal one.
        raise TransitionConflict(
            str(_("“%(action)s” is not possible now: the application is “%(state)s”."))
            % {"action": action.label, "state": state_for(actor, locked)[1]}
        )
    for error in (
        role_error(action, locked, actor),
        four_eyes_error(action, locked, actor),
        screening_error(action, locked),
    ):
        if error:
            raise PermissionDenied(error)
    if action.complete_required and (missing := missing_for_submit(locked)):
        raise ValidationError({"missing": missing})


# --- Input ----------------------------------------------------------------------------------


def _risk_level_errors(action: Action, risk_level: str) -> list[str]:
    if action.risk_level_required:
        if risk_level not in RISK_LEVELS:
            return [str(_("Choose a risk level: low, medium, high or critical."))]
        if risk_level not in APPROVABLE_RISK_LEVELS:
            return [str(_("A critical risk cannot be approved; reject or request information."))]
        return []
    return [str(_("This action takes no risk level."))] if risk_level else []


def _condition_errors(
    action: Action, conditions: list[ConditionInput], today: dt.date
) -> list[str]:
    errors = []
    if conditions and not action.conditions_allowed:
        errors.append(str(_("Only a concurrence can carry conditions.")))
    for condition in conditions:
        if parse.is_blank(condition.text):
            errors.append(str(_("A condition needs a text.")))
        if condition.due_date < today:
            errors.append(str(_("A condition's due date cannot be in the past.")))
    return errors


def validate_input(
    action: Action,
    *,
    rationale: str,
    risk_level: str,
    conditions: list[ConditionInput],
    today: dt.date,
) -> None:
    """Raise ``ValidationError`` keyed by field when the input does not fit ``action``;
    condition due dates are compared with ``today`` (the country's)."""
    errors: dict[str, list[str]] = {}
    if action.rationale_required and parse.is_blank(rationale):
        errors["rationale"] = [str(_("A rationale is required for this action."))]
    if risk := _risk_level_errors(action, risk_level):
        errors["risk_level"] = risk
    if condition_errors := _condition_errors(action, conditions, today):
        errors["conditions"] = condition_errors
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
    validate_input(
        spec,
        rationale=rationale,
        risk_level=risk_level,
        conditions=conditions,
        today=tenant_today(tenant),
    )
    return spec
