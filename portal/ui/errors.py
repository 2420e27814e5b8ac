"""How form errors are presented on every page (GOV.UK's error pattern).

Each error sits next to its field (``err-<key>``), the field says ``aria-invalid`` and
``aria-describedby``, and a summary at the top of the form names every error at once with a
link to its field; static/js/portal.js moves the focus to that summary. Errors arrive as
``{"key": [messages]}`` with dotted keys for nested values (``sites.0.capacity_mw``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: ``key -> (id of the input to link to, the field's label in the reader's language)``
FieldRef = Callable[[str], tuple[str, str]]


@dataclass(frozen=True)
class SummaryItem:
    key: str
    field_id: str
    label: str
    message: str


def error_id(key: str) -> str:
    """The id of the element holding ``key``'s messages (what ``aria-describedby`` names)."""
    return "err-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in key)


def summary(errors: Mapping[str, list[str]], ref: FieldRef) -> list[SummaryItem]:
    """One line per message, in the order of the form (the order of ``errors``)."""
    items: list[SummaryItem] = []
    for key, messages in errors.items():
        field_id, label = ref(key)
        items.extend(SummaryItem(key, field_id, label, str(m)) for m in messages)
    return items
