"""Names instead of codes in the audit pages (the codes stay visible: they are what the
filters and the export use)."""

from __future__ import annotations

from django import template
from django.apps import apps

register = template.Library()


@register.filter
def object_kind(label: str) -> str:
    """``partnerships.countryapplication`` → ``country application`` (reader's language)."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label
