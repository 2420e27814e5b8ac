"""Service errors as a page shows them: the one home of "except ValidationError / ConflictError"
in the views (issue #13, item 3).

A view wraps its service call::

    with service_errors(request, form=form) as outcome:
        services.invitation_create(actor=request.user, ...)
    if outcome.ok:
        messages.success(request, ...)
        return redirect(...)
    return render(request, ..., status=outcome.status)

What the block raised becomes ``outcome``:

- ``ValidationError`` (a field dict, or plain messages under ``"detail"``) and
  ``portal.parse.ParseError`` (under ``parse_key``, ``"detail"`` by default): kind ``"invalid"``, status 400;
- ``ConflictError`` (stale version, state moved on): kind ``"conflict"``, status 409;
- ``PermissionDenied``, only when ``catch_denied=True``: kind ``"denied"``, status 403.

Each kind named in ``to_messages`` (by default only conflicts) is also shown as one
``messages.error`` (its messages joined, after ``prefix``); with ``form``, the errors are
added to the form (``rename`` maps a service's key to the form's field; an unknown key
becomes a non-field error). Anything else propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from portal import parse
from portal.errors import ConflictError

Kind = Literal["invalid", "conflict", "denied"]
#: Every kind: for views that answer every error with a message and a redirect.
ALL: frozenset[Kind] = frozenset({"invalid", "conflict", "denied"})
#: The default: a conflict is a message; invalid input is the form's (``outcome.errors``).
CONFLICTS: frozenset[Kind] = frozenset({"conflict"})
STATUS: dict[Kind, int] = {"invalid": 400, "conflict": 409, "denied": 403}


@dataclass
class ServiceOutcome:
    """What a ``service_errors`` block raised: nothing (``ok``), or a kind, its HTTP status
    and its messages keyed by field (``"detail"`` for messages that name none)."""

    kind: Kind | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the block raised no service error."""
        return self.kind is None

    @property
    def status(self) -> int:
        """200 when nothing was raised, else 400 (invalid), 409 (conflict) or 403 (denied)."""
        return 200 if self.kind is None else STATUS[self.kind]

    @property
    def messages(self) -> list[str]:
        """Every message, in the order of the errors."""
        return [m for ms in self.errors.values() for m in ms]


def error_dict(exc: ValidationError) -> dict[str, list[str]]:
    """A ``ValidationError`` as ``{key: [messages]}``; plain messages go under ``"detail"``."""
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for m in value] for key, value in exc.message_dict.items()}
    return {"detail": [str(m) for m in exc.messages]}


def _classify(exc: Exception, parse_key: str) -> tuple[Kind, dict[str, list[str]]]:
    if isinstance(exc, ValidationError):
        return "invalid", error_dict(exc)
    if isinstance(exc, parse.ParseError):
        return "invalid", {parse_key: [str(exc)]}
    if isinstance(exc, ConflictError):
        return "conflict", {"detail": [str(exc)]}
    return "denied", {"detail": [str(exc)]}


@contextmanager
def service_errors(
    request: HttpRequest | None = None,
    *,
    form: forms.BaseForm | None = None,
    to_messages: Collection[Kind] = CONFLICTS,
    prefix: str = "",
    rename: Mapping[str, str] | None = None,
    catch_denied: bool = False,
    parse_key: str = "detail",
) -> Iterator[ServiceOutcome]:
    """Run the block; turn the service errors it raises into ``outcome`` (see the module's
    docstring), form errors and messages. ``request`` is needed when ``to_messages`` is not
    empty. A ``ParseError`` is keyed ``parse_key`` (the field the block parses, if one).
    Keys are renamed (``rename``) before they reach ``outcome.errors`` and the form."""
    outcome = ServiceOutcome()
    caught: tuple[type[Exception], ...] = (ValidationError, parse.ParseError, ConflictError)
    if catch_denied:
        caught = (*caught, PermissionDenied)
    try:
        yield outcome
    except caught as exc:
        kind, errors = _classify(exc, parse_key)
        names = rename or {}
        outcome.kind = kind
        for key, values in errors.items():
            outcome.errors.setdefault(names.get(key, key), []).extend(values)
        if form is not None:
            for key, values in outcome.errors.items():
                form.add_error(key if key in form.fields else None, values)
        if kind in to_messages and request is not None:
            messages.error(request, prefix + " ".join(outcome.messages))
