"""The audit filter, shared by the explorer page and the API (same names, same meaning)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from portal import parse
from portal.audit.verbs import Verb
from portal.tenancy.models import Tenant

#: The query parameters that make up a filter (the explorer, the API and the export).
FILTER_PARAMS = ("tenant", "actor", "verb", "object_type", "object_id", "since", "until")


class DateOrDateTimeField(forms.Field):
    """``YYYY-MM-DD`` (a whole day) or an ISO 8601 date-time (naive means the site's zone)."""

    def to_python(self, value: Any) -> dt.date | dt.datetime | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            # A bare date first: parse_datetime would read it as midnight.
            parsed: dt.date | dt.datetime | None = parse_date(text) or parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(
                _("Enter a date (YYYY-MM-DD) or an ISO 8601 date and time.")
            )
        if isinstance(parsed, dt.datetime) and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed


class CountryField(forms.ModelChoiceField):
    """A tenant by its ISO code, in either case."""

    def to_python(self, value: Any) -> Tenant | None:
        return super().to_python(value.strip().upper() if isinstance(value, str) else value)


def day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def end_of_day(day: dt.date) -> dt.datetime | None:
    """The first instant after ``day``; None for the calendar's last day (open-ended)."""
    following = parse.add_days(day, 1)
    return day_start(following) if following is not None else None


def object_type_choices() -> list[tuple[str, str]]:
    """Every model an event can name (``app_label.model``), by its name in the reader's
    language: a select, so nobody has to know the internal spelling."""
    models = sorted(
        ((m._meta.label_lower, str(m._meta.verbose_name).capitalize()) for m in apps.get_models()),
        key=lambda choice: choice[1],
    )
    return [("", str(_("All object types"))), *models]


class AuditFilterForm(forms.Form):
    tenant = CountryField(
        queryset=Tenant.objects.order_by("code"), to_field_name="code", required=False,
        label=_("Country"), empty_label=_("All countries"),
    )  # fmt: skip
    actor = forms.CharField(required=False, max_length=150, label=_("Actor (username)"))
    verb = forms.ChoiceField(
        required=False,
        label=_("Event"),
        choices=[("", _("All events")), *[(v, v) for v in Verb.values]],
    )
    object_type = forms.ChoiceField(
        required=False, label=_("Object type"), choices=object_type_choices
    )
    object_id = forms.CharField(required=False, max_length=64, label=_("Object id"))
    # Browsers send a day; the API also takes an ISO 8601 date-time.
    since = DateOrDateTimeField(
        required=False, label=_("From"), widget=forms.TextInput(attrs={"type": "date"})
    )
    until = DateOrDateTimeField(
        required=False, label=_("Until"), widget=forms.TextInput(attrs={"type": "date"})
    )

    def full_clean(self) -> None:
        super().full_clean()
        # Tie each error to its input for screen readers (the explorer shows it by id).
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}-error"}
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = self.lookups_bounds(data)
        if since and until and since >= until:
            self.add_error("until", _("The end of the range must come after its start."))
        return data

    @staticmethod
    def lookups_bounds(data: dict[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
        """``[since, until)``: a date as ``until`` includes that whole day."""
        since, until = data.get("since"), data.get("until")
        if isinstance(since, dt.date) and not isinstance(since, dt.datetime):
            since = day_start(since)
        # An end at the calendar's edge (9999-12-31) has no instant after it: open-ended.
        if isinstance(until, dt.date) and not isinstance(until, dt.datetime):
            until = end_of_day(until)
        elif isinstance(until, dt.datetime):
            until = parse.shift(until, dt.timedelta(microseconds=1))
        return since, until

    def lookups(self) -> dict[str, Any]:
        """ORM lookups for the cleaned filter (each one served by an index)."""
        data = self.cleaned_data
        found: dict[str, Any] = {}
        if data.get("tenant") is not None:
            found["tenant_id"] = data["tenant"].pk
        for name, column in (("actor", "actor_username"), ("verb", "verb"),
                             ("object_type", "object_type"), ("object_id", "object_id")):  # fmt: skip
            if data.get(name):
                found[column] = data[name].strip()
        since, until = self.lookups_bounds(data)
        if since is not None:
            found["occurred_at__gte"] = since
        if until is not None:
            found["occurred_at__lt"] = until
        return found

    def as_query(self) -> dict[str, str]:
        """The filter as given (non-empty parameters only): recorded with each export."""
        return {
            name: self.data[name].strip()
            for name in FILTER_PARAMS
            if self.data.get(name, "").strip()
        }


class ExportForm(AuditFilterForm):
    """The explorer's export button: the filter plus the format (a POST, with CSRF)."""

    format = forms.ChoiceField(choices=[("csv", "CSV"), ("jsonl", "JSONL")])
