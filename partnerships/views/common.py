"""What the application and review pages share: the steps, error flattening, the posted
version and who is the country's official.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail

from partnerships.models import CountryApplication
from portal import parse
from portal.tenancy.access import access_for

# Lazy: the labels are read per request, in the reader's language.
STEPS = [
    ("general", gettext_lazy("General")),
    ("sites", gettext_lazy("Data-centre sites")),
    ("localization", gettext_lazy("Localization")),
    ("sovereignty", gettext_lazy("Data sovereignty")),
    ("security", gettext_lazy("Security commitments")),
    ("fund", gettext_lazy("Start-up fund")),
]
STEP_NAMES = [name for name, _label in STEPS]


def flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"sites.0.capacity_mw": [...]}`` for templates."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str | ErrorDetail):
        for index, value in enumerate(errors):
            flat.update(flatten(value, f"{prefix}.{index}"))
    elif isinstance(errors, dict | list) and not errors:
        pass
    elif isinstance(errors, list):
        flat[prefix or "detail"] = [str(e) for e in errors]
    else:
        flat[prefix or "detail"] = [str(errors)]
    return flat


def posted_version(request: HttpRequest) -> int | None:
    """The version the form was rendered at; None when missing or not a number."""
    return parse.lenient_integer(request.POST.get("version"), minimum=1)


def changed_since_loaded() -> str:
    """The message for a page whose version is missing or stale (the person reloads)."""
    # An unreadable version is a page we cannot match to the application: say what a stale
    # one would, so the person reloads and tries again.
    return _("This application changed since you loaded it; reload it and try again.")


def is_country_official(user: Any, application: CountryApplication) -> bool:
    """Whether ``user`` is an official of the application's country (may edit and submit)."""
    return access_for(user).is_official_of(application.tenant_id)
