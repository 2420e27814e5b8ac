"""The one service through which a person moves an application (DESIGN §4): lock, guard,
write, record, run the action's effects. No action is special-cased here: what an action
changes beside the state, which verb it records and what follows are in its row of
``states.ACTIONS`` (``stamps``, ``verb``, ``effects``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerships.models import CountryApplication, Decision, Obligation
from partnerships.workflow.effects import EFFECTS, STAMPS, Move
from partnerships.workflow.guards import ConditionInput, check_may_move, validate_input
from partnerships.workflow.stages import MOVE_FIELDS, enter_state
from partnerships.workflow.states import ACTIONS, Action
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import access_for
from portal.tenancy.dates import tenant_today


def _action(name: str) -> Action:
    spec = ACTIONS.get(name)
    if spec is None:
        raise ValidationError({"action": [str(_("Unknown action %(action)s.") % {"action": name})]})
    return spec


def _lock(application: CountryApplication) -> CountryApplication:
    return (
        CountryApplication.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=application.pk)
    )


def _role_used(action: Action, locked: CountryApplication, actor: Any) -> str:
    """The role the decision names: the stage's, or the actor's role in the country."""
    if action.is_tenant_action:
        return sorted(access_for(actor).tenant_roles.get(locked.tenant_id, {""}))[0]
    return action.role_for(locked.state) or ""


def _write(move: Move) -> None:
    """The new state, the action's stamps and the version, saved."""
    locked = move.application
    for stamp in move.action.stamps:
        STAMPS[stamp](move)
    enter_state(locked, move.action.to_state, move.now)
    locked.version += 1
    locked.updated_by = move.actor
    locked.save(update_fields=[*MOVE_FIELDS, "updated_by", *move.fields])


def _decide(move: Move, *, rationale: str, message: str, risk_level: str) -> Decision:
    """The action's immutable ``Decision`` row (at the application's new version)."""
    return Decision.objects.create(
        application=move.application,
        action=move.action.name,
        from_state=move.from_state,
        to_state=move.action.to_state,
        actor=move.actor,
        actor_label=move.actor.get_username(),
        role=move.role,
        rationale=rationale,
        message_to_country=message,
        risk_level=risk_level,
        application_version=move.application.version,
    )


def _record_obligations(move: Move, decision: Decision, conditions: list[ConditionInput]) -> None:
    """A concurrence's conditions become obligations of the application, each audited."""
    locked = move.application
    for condition in conditions:
        obligation = Obligation.objects.create(
            tenant=locked.tenant,
            application=locked,
            decision=decision,
            text=condition.text.strip(),
            due_date=condition.due_date,
        )
        record_event(
            actor=move.actor,
            verb=Verb.OBLIGATION_CREATED,
            obj=obligation,
            tenant=locked.tenant,
            role=move.role,
            changes={"text": obligation.text, "due_date": obligation.due_date},
        )


def _changes(
    move: Move, *, version: int, risk_level: str, message: str, conditions: list[ConditionInput]
) -> dict[str, Any]:
    """The audit event's ``changes``: the move, and whatever input the action carried."""
    changes: dict[str, Any] = {
        "state": {"before": move.from_state, "after": move.action.to_state},
        "version": {"before": version, "after": move.application.version},
    }
    if risk_level:
        changes["risk_level"] = risk_level
    if message:
        changes["message_to_country"] = message
    if conditions:
        changes["conditions"] = [{"text": c.text, "due_date": c.due_date} for c in conditions]
    return changes


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
) -> CountryApplication:
    """Apply one workflow action taken by a person; returns the updated application.

    Raises ``ValidationError`` (bad input or, for submit, an incomplete application
    ``{"missing": [...]}``: 400), ``PermissionDenied`` (role, four eyes, conflict of
    interest, screening guard: 403) or ``TransitionConflict`` (stale version or a state that
    no longer allows the action: 409). On success the Decision, the audit event, any
    obligations or partnership and the outbox e-mails commit with the state change; side
    effects (screening, e-mail delivery) run after commit.
    """
    spec = _action(action)
    conditions = conditions or []
    # A condition's due date is a date in the country that must meet it.
    validate_input(
        spec,
        rationale=rationale,
        risk_level=risk_level,
        conditions=conditions,
        today=tenant_today(application.tenant),
    )
    with transaction.atomic():
        locked = _lock(application)
        check_may_move(spec, locked, actor=actor, version=version)
        move = Move(
            application=locked,
            action=spec,
            actor=actor,
            from_state=locked.state,
            role=_role_used(spec, locked, actor),
            now=timezone.now(),
        )
        _write(move)
        move.decision = decision = _decide(
            move, rationale=rationale, message=message_to_country, risk_level=risk_level
        )
        _record_obligations(move, decision, conditions)
        record_event(
            actor=actor,
            verb=spec.verb,
            obj=locked,
            role=move.role,
            reason=rationale,
            changes=_changes(
                move, version=version, risk_level=risk_level, message=message_to_country,
                conditions=conditions,
            ),
        )  # fmt: skip
        for effect in spec.effects:
            EFFECTS[effect](move)
    return locked
