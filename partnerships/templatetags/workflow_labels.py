"""Labels in the reader's language for the workflow's codes (no raw ``screen_clear`` on a page)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from partnerships import emissions, workflow
from partnerships.models import State

register = template.Library()

#: Decisions recorded by the screening task rather than a person's action.
SYSTEM_ACTIONS = {
    "screen_clear": _("Screening: clear"),
    "screen_hold": _("Screening: held for compliance"),
}


@register.filter
def action_label(code: str) -> str:
    action = workflow.ACTIONS.get(code)
    if action is not None:
        return str(action.label)
    return str(SYSTEM_ACTIONS.get(code, code))


@register.filter
def state_label(code: str) -> str:
    try:
        return str(State(code).label)
    except ValueError:
        return code


@register.filter
def risk_label(code: str) -> str:
    return str(workflow.RISK_LABELS.get(code, code))


@register.filter
def source_label(code: str) -> str:
    return emissions.source_label(code)
