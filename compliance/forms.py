from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

HOLD_ACTIONS = [("clear_hold", _("Clear the hold")), ("reject", _("Reject"))]


class HoldDecisionForm(forms.Form):
    """A compliance officer's decision on a held application; the workflow checks the rest."""

    action = forms.ChoiceField(choices=HOLD_ACTIONS, label=_("Decision"))
    # Not required here: the workflow's own message says why a rationale is needed.
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        label=_("Rationale"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TerritoryFilterForm(forms.Form):
    FLAGS = [
        ("", _("Any")),
        ("supported", _("Supported")),
        ("unsupported", _("Not supported")),
        ("sanctioned", _("Comprehensive sanctions")),
    ]
    q = forms.CharField(
        required=False,
        label=_("Search code or name"),
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )
    group = forms.ChoiceField(required=False, label=_("EAR country group"))
    flag = forms.ChoiceField(required=False, choices=FLAGS, label=_("Status"))
    version = forms.IntegerField(required=False, min_value=1, label=_("List version"))

    def __init__(self, *args: object, groups: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        group = self.fields["group"]
        assert isinstance(group, forms.ChoiceField)
        group.choices = [("", _("Any")), *[(g, g) for g in groups]]
