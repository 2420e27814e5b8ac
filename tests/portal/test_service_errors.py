"""The one view helper that turns service errors into form errors and messages
(``portal/ui/service_errors.py``, issue #13 item 3), and the views that no longer catch them
one by one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from portal import parse
from portal.errors import ConflictError
from portal.ui.service_errors import ALL, service_errors

ROOT = Path(__file__).resolve().parents[2]


def _request():  # type: ignore[no-untyped-def]
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


class _Form(forms.Form):
    email = forms.CharField(required=False)
    role = forms.CharField(required=False)


def test_nothing_raised_is_ok_with_status_200():
    with service_errors(_request()) as outcome:
        pass
    assert outcome.ok and outcome.kind is None and outcome.status == 200 and outcome.errors == {}


def test_validation_dict_becomes_form_errors_and_400():
    form = _Form(data={})
    form.is_valid()
    with service_errors(_request(), form=form) as outcome:
        raise ValidationError({"email": ["Taken."], "other": ["Not a field."]})
    assert (outcome.kind, outcome.status) == ("invalid", 400)
    assert outcome.errors == {"email": ["Taken."], "other": ["Not a field."]}
    assert form.errors["email"] == ["Taken."]
    assert form.non_field_errors() == ["Not a field."]


def test_plain_messages_and_parse_errors_are_keyed():
    with service_errors() as outcome:
        raise ValidationError("Plain.")
    assert outcome.errors == {"detail": ["Plain."]}
    with service_errors(parse_key="text") as outcome:
        raise parse.ParseError("Bad text.")
    assert (outcome.kind, outcome.errors) == ("invalid", {"text": ["Bad text."]})


def test_conflict_is_a_message_and_409_by_default():
    request = _request()
    with service_errors(request) as outcome:
        raise ConflictError("Changed since you loaded it.")
    assert (outcome.kind, outcome.status) == ("conflict", 409)
    assert [str(m) for m in get_messages(request)] == ["Changed since you loaded it."]


def test_all_kinds_to_messages_with_prefix_and_rename():
    request = _request()
    with service_errors(request, to_messages=ALL, prefix="JP-1: ") as outcome:
        raise ValidationError({"a": ["One."], "b": ["Two."]})
    assert [str(m) for m in get_messages(request)] == ["JP-1: One. Two."]
    with service_errors(catch_denied=True, rename={"detail": "role"}) as outcome:
        raise PermissionDenied("Not yours.")
    assert (outcome.kind, outcome.status, outcome.errors) == (
        "denied",
        403,
        {"role": ["Not yours."]},
    )


def test_other_errors_propagate():
    with pytest.raises(PermissionDenied), service_errors():
        raise PermissionDenied("uncaught unless asked")
    with pytest.raises(KeyError), service_errors():
        raise KeyError("x")


VIEWS = sorted(
    str(path.relative_to(ROOT))
    for package in ("portal", "partnerships", "compliance")
    for path in (ROOT / package).rglob("*.py")
    if path.name == "views.py" or path.parent.name == "views"  # a views package
)
SERVICE_ERRORS = {"ValidationError", "ConflictError", "TransitionConflict"}


def test_views_catch_no_service_error_by_hand():
    """A view's ``except ValidationError/ConflictError`` around a service call belongs to
    ``service_errors``; what remains catches a field's own parse (``form.fields[...].clean``)."""
    allowed = {
        # A form field's own clean() of a query value, not a service call.
        ("portal/accounts/views.py", "_invite_form"),
        ("portal/audit/views.py", "object_timeline"),
    }
    assert {
        "partnerships/views/review.py",
        "partnerships/views/steps.py",
        "partnerships/commitments/views.py",
    } <= set(VIEWS)
    found = []
    for name in VIEWS:
        tree = ast.parse((ROOT / name).read_text())
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                    names |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
                    if names & SERVICE_ERRORS and (name, func.name) not in allowed:
                        found.append(f"{name}::{func.name}:{node.lineno}")
    assert found == []
