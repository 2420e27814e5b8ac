"""Text a person types in their own script is laid out by its own direction (``dir="auto"``):
an Arabic rationale in an English page, or a Latin title in an Arabic one, reads correctly
while it is typed, as it does once shown (``<bdi>``). Codes, numbers, usernames and one-time
codes are left-to-right by nature and keep the page's direction."""

from __future__ import annotations

import re
from pathlib import Path

from django import forms

from compliance.forms import HoldDecisionForm, TerritoryFilterForm
from portal.accounts.forms import CountryForm

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TAG = re.compile(r"<(textarea|input)\b[^>]*>", re.S)
#: Inputs holding codes, numbers or identifiers: ``name`` -> why they are not free text.
NOT_FREE_TEXT = {
    "tenant": "ISO 3166 code",
    "currency": "ISO 4217 code",
    "languages": "ISO 639 codes",
    "payment_reference": "a bank's reference",
    "token": "a one-time code",
    "username": "an identifier",
}
TYPES_NOT_TEXT = {"hidden", "checkbox", "radio", "file", "number", "date", "email", "password",
                  "submit", "datetime-local", "url"}  # fmt: skip


def _free_text_tags() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for match in TAG.finditer(path.read_text()):
            tag = match.group(0)
            kind = re.search(r'\btype="([^"]+)"', tag)
            name = re.search(r'\bname="([^"]+)"', tag)
            if kind and kind.group(1) in TYPES_NOT_TEXT:
                continue
            if "inputmode=" in tag or (name and name.group(1).split("-")[-1] in NOT_FREE_TEXT):
                continue
            if name and re.search(r"-country$", name.group(1)):
                continue  # a site's ISO 3166 code
            found.append((str(path.relative_to(TEMPLATES)), tag))
    return found


def test_every_free_text_field_in_a_template_takes_its_own_direction():
    tags = _free_text_tags()
    assert len(tags) >= 13  # the scan sees the templates' text fields
    missing = [(path, tag[:80]) for path, tag in tags if 'dir="auto"' not in tag]
    assert not missing, missing


def test_form_text_widgets_take_their_own_direction():
    for form, field in ((HoldDecisionForm, "rationale"), (TerritoryFilterForm, "q"),
                        (CountryForm, "name")):  # fmt: skip
        widget = form.base_fields[field].widget
        assert isinstance(widget, forms.TextInput | forms.Textarea), (form, field)
        assert widget.attrs.get("dir") == "auto", (form, field)
