"""What a viewer may see of the workflow: the country sees public states and the decisions
that changed one (DESIGN §4 "Internal vs released")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from partnerships.models import CountryApplication, State
from partnerships.workflow.states import PUBLIC_STATE_CODE, public_state, public_state_code
from portal.tenancy.access import acts_as_country


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
