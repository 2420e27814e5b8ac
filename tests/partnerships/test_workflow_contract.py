"""The workflow table in the code says what DESIGN §4 says (an independent transcription)."""

from __future__ import annotations

from partnerships import workflow
from partnerships.models import State
from tests.partnerships import design_workflow as design


def test_the_code_has_exactly_the_contracts_actions():
    assert set(workflow.ACTIONS) == set(design.TABLE)


def test_each_action_moves_from_and_to_the_contracts_states():
    for name, (from_states, to_state, _who) in design.TABLE.items():
        action = workflow.ACTIONS[name]
        assert {str(s) for s in action.from_states} == from_states, name
        assert str(action.to_state) == to_state, name


def test_each_action_is_taken_by_the_contracts_role_in_every_state():
    for name, (from_states, _to, _who) in design.TABLE.items():
        action = workflow.ACTIONS[name]
        for state in from_states:
            for role in (*design.TENANT_ROLES, *design.STATE_ROLE.values(), "auditor"):
                code_says = (
                    role in design.TENANT_ROLES
                    if action.is_tenant_action
                    else action.role_for(state) == role
                )
                assert code_says is design.allowed(name, state, role), (name, state, role)


def test_the_approving_actions_are_the_contracts():
    assert set(workflow.APPROVING_ACTIONS) == design.APPROVING


def test_the_contract_names_every_state():
    mentioned = set(design.NON_FINAL_STATES) | {"approved", "rejected", "withdrawn"}
    assert mentioned == {str(s) for s in State}
