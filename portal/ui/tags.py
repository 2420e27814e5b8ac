"""Template tags available on every page (``TEMPLATES[...]['OPTIONS']['builtins']``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from portal.tenancy.roles import role_label
from portal.ui import formats
from portal.ui.errors import error_id

register = template.Library()

#: ``{{ event.role|role_label }}``: a role's name in the reader's language (audit, decisions).
register.filter("role_label", role_label)


@register.filter
def num(value: Any, places: Any = None) -> str:
    """``{{ x|num }}``, ``{{ x|num:2 }}``: a number in the reader's language."""
    return formats.number(value, places=None if places in (None, "") else int(places))


@register.filter
def money(value: Any, currency: str) -> str:
    """``{{ amount|money:currency }}``."""
    return formats.money(value, currency) if currency else formats.number(value)


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    """``{{ when|day }}``: a calendar date in the reader's language."""
    return formats.date(value)


@register.filter
def moment(value: dt.datetime | None) -> str:
    """``{{ when|moment }}``: a date and time in the reader's language."""
    return formats.datetime(value)


@register.filter
def country(code: str | None) -> str:
    """``{{ "JP"|country }}`` → ``Japan``/``日本``/``اليابان``."""
    return formats.country_name(code)


@register.filter
def language(code: str | None) -> str:
    return formats.language_name(code)


@register.simple_tag
def invalid(errors: Mapping[str, Any] | None, key: str, prefix: str = "") -> SafeString:
    """`` aria-invalid="true" aria-describedby="err-key"`` when ``key`` has errors.

    ``prefix`` names a repeated block (``sites.0.``) whose ``errors`` hold bare field keys.
    """
    if errors and errors.get(key):
        return format_html(' aria-invalid="true" aria-describedby="{}"', error_id(prefix + key))
    return SafeString("")


@register.simple_tag
def errors_for(errors: Mapping[str, Any] | None, key: str, prefix: str = "") -> SafeString:
    """The messages of ``key`` right under its field, with the id the field points to."""
    messages = (errors or {}).get(key)
    if not messages:
        return SafeString("")
    return format_html(
        '<div class="field-error" id="{}">{}</div>',
        error_id(prefix + key),
        format_html_join(
            "",
            '<p><span class="visually-hidden">{}: </span>{}</p>',
            ((_("Error"), str(m)) for m in messages),
        ),
    )
