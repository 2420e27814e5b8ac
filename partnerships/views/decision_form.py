"""The reviewer's decision form: what was typed, its texts and conditions, and the error
summary's field references.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerships import workflow
from portal import parse

#: Decision-form field -> (id of its input, label); for the error summary's links.
DECISION_FIELDS = {
    "action": ("decide-h", gettext_lazy("Action")),
    "rationale": ("rationale", gettext_lazy("Rationale")),
    "message_to_country": ("message", gettext_lazy("Message to the country")),
    "risk_level": ("risk", gettext_lazy("Risk level")),
    "conditions": ("cond-1", gettext_lazy("Conditions of concurrence")),
}


def decision_field_ref(key: str) -> tuple[str, str]:
    field_id, label = DECISION_FIELDS.get(key, ("decide-h", ""))
    return field_id, str(label)


def decision_form_values(post: Any) -> dict[str, Any]:
    """What the reviewer typed, as the form shows it again (nothing is dropped on error)."""
    texts = post.getlist("condition_text")
    dues = post.getlist("condition_due")
    rows = [(t, d) for t, d in zip(texts, dues, strict=False)]
    rows += [("", "")] * max(0, 2 - len(rows))
    return {
        "action": post.get("action", ""),
        "rationale": post.get("rationale", ""),
        "message_to_country": post.get("message_to_country", ""),
        "risk_level": post.get("risk_level", ""),
        "conditions": [{"n": i + 1, "text": t, "due": d} for i, (t, d) in enumerate(rows)],
    }


# The decision form's text fields and their limits (as the API's TransitionSerializer).
DECISION_TEXTS = {"action": 30, "rationale": 20000, "message_to_country": 20000, "risk_level": 10}


def decision_texts(form: dict[str, Any]) -> dict[str, str]:
    """The typed texts through the strict parser; ValidationError keyed by field (NUL …)."""
    cleaned, errors = {}, {}
    for name, limit in DECISION_TEXTS.items():
        try:
            cleaned[name] = parse.text(form[name], max_length=limit)
        except parse.ParseError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return cleaned


def decision_conditions(form: dict[str, Any]) -> list[workflow.ConditionInput]:
    """Raises ValidationError (``conditions``) when a filled row has no valid due date."""
    conditions = []
    for row in form["conditions"]:
        if parse.is_blank(row["text"]) and parse.is_blank(row["due"]):
            continue
        try:
            conditions.append(
                workflow.ConditionInput(
                    parse.text(row["text"], max_length=2000), parse.iso_date(row["due"])
                )
            )
        except parse.ParseError:
            raise ValidationError(
                {"conditions": [_("Give each condition a text and a due date (YYYY-MM-DD).")]}
            ) from None
    return conditions
