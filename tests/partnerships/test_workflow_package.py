"""The workflow as data with its effects (issue #13, item 1): each action names its verb and
effects; the transition has no per-action branches; the workflow checks completeness itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from partnerships import workflow
from partnerships.models import CountryApplication, Decision, State
from portal.audit.models import AuditEvent
from portal.audit.verbs import Verb
from tests.factories import create_application

PACKAGE = Path(workflow.__file__).resolve().parent


def test_every_action_names_a_verb_and_registered_effects():
    for action in workflow.ACTIONS.values():
        assert isinstance(action.verb, Verb), action.name
        assert all(name in workflow.STAMPS for name in action.stamps), action.name
        assert all(name in workflow.EFFECTS for name in action.effects), action.name
        assert "notify" in action.effects, action.name  # every move tells someone


def test_the_table_names_what_design_section_4_asks_of_each_action():
    # Hand-written from DESIGN §4's notes column, not derived from the table under test.
    assert workflow.ACTIONS["submit"].verb == Verb.APPLICATION_SUBMITTED
    assert workflow.ACTIONS["withdraw"].verb == Verb.APPLICATION_WITHDRAWN
    assert workflow.ACTIONS["approve"].verb == Verb.WORKFLOW_APPROVE
    assert "announce_submitted" in workflow.ACTIONS["submit"].effects  # enqueues screening
    assert "create_partnership" in workflow.ACTIONS["approve"].effects
    assert workflow.ACTIONS["approve"].screening == workflow.ScreeningGuard.CLEAR
    assert workflow.ACTIONS["clear_hold"].screening == workflow.ScreeningGuard.NOT_BLOCKED
    assert [a for a, spec in workflow.ACTIONS.items() if spec.complete_required] == ["submit"]


def _compares_an_action_name(path: Path) -> list[str]:
    names = set(workflow.ACTIONS)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            for part in (node.left, *node.comparators):
                if isinstance(part, ast.Constant) and part.value in names:
                    found.append(f"{path.name}:{node.lineno} {part.value!r}")
    return found


@pytest.mark.parametrize("module", ["transition.py", "guards.py", "effects.py"])
def test_no_branch_on_an_action_name(module):
    assert _compares_an_action_name(PACKAGE / module) == []


def _function_lengths() -> dict[str, int]:
    lengths = {}
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                lengths[f"{path.name}::{node.name}"] = (node.end_lineno or 0) - node.lineno + 1
    return lengths


def test_no_function_in_the_workflow_package_is_over_60_lines():
    assert {name: n for name, n in _function_lengths().items() if n > 60} == {}


def test_no_import_inside_a_function_in_the_workflow_package():
    found = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                found += [
                    f"{path.name}:{n.lineno}"
                    for n in ast.walk(node)
                    if isinstance(n, ast.Import | ast.ImportFrom)
                ]
    assert found == []


@pytest.mark.django_db
def test_submit_checks_completeness_without_being_told(official_jp, jp):
    application = create_application(official_jp, jp)
    CountryApplication.objects.filter(pk=application.pk).update(languages=[], sectors=[])
    application.refresh_from_db()
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        workflow.application_transition(
            application=application, actor=official_jp, action="submit", version=1
        )
    assert set(refused.value.message_dict) == {"missing"}
    assert len(refused.value.message_dict["missing"]) == 2
    application.refresh_from_db()
    assert application.state == State.DRAFT and application.version == 1
    assert not Decision.objects.filter(application=application).exists()
    assert AuditEvent.objects.count() == events
