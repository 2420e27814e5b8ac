"""A step form's POST as the API-shaped payload the serializer validates."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from partnerships import emissions
from partnerships.models import CountryApplication
from portal import parse
from portal.ui import formats

#: A site row's text fields, as the form names them (``site-<i>-<field>``).
SITE_FIELDS = ("country", "region", "capacity_mw", "target_online_date", "pue", "utilisation")
_YES_NO = {"yes": True, "no": False}


def form_data(step: str, post: Any, *, tenant_code: str = "") -> dict[str, Any]:
    """The API-shaped payload of one form step; Http404 for an unknown step."""
    if step == "general":
        return {"title": post.get("title", "")}
    if step == "sites":
        return {"sites": _sites(post, tenant_code=tenant_code)}
    if step == "localization":
        return _localization(post)
    if step == "sovereignty":
        return _sovereignty(post)
    if step == "security":
        return _security(post)
    if step == "fund":
        return _fund(post)
    raise Http404


def _sites(post: Any, *, tenant_code: str) -> list[dict[str, Any]]:
    """The posted site rows, without deleted rows and untouched blank blocks."""
    sites = []
    count = parse.lenient_integer(post.get("site_count"), maximum=100) or 0
    for i in range(count):
        if post.get(f"site-{i}-delete"):
            continue
        site = _site(post, i, tenant_code=tenant_code)
        if site is not None:
            sites.append(site)
    return sites


def _site(post: Any, i: int, *, tenant_code: str) -> dict[str, Any] | None:
    """Site row ``i`` in the API's shape; None for an untouched blank block."""
    fields = {k: post.get(f"site-{i}-{k}", "").strip() for k in SITE_FIELDS}
    mix = {
        source: post.get(f"site-{i}-mix-{source}", "").strip()
        for source in emissions.emission_factors()
    }
    mix = {source: value for source, value in mix.items() if value not in ("", "0")}
    if not any(fields.values()) and not mix:
        return None  # an untouched blank block
    site: dict[str, Any] = {**fields, "energy_mix": mix}
    # An empty country means the applying country (the hint under the field says so).
    site["country"] = site["country"] or tenant_code
    for decimal_field in ("capacity_mw", "pue", "utilisation"):
        if site[decimal_field]:
            site[decimal_field] = formats.canonical_decimal(site[decimal_field])
    for optional in ("pue", "utilisation"):
        if not site[optional]:
            site[optional] = None
    return site


def _localization(post: Any) -> dict[str, Any]:
    return {
        "languages": [
            code.strip()
            for code in post.get("languages", "").replace(",", " ").split()
            if code.strip()
        ],
        "sectors": post.getlist("sectors"),
        "other_sector": post.get("other_sector", ""),
        "customization_notes": post.get("customization_notes", ""),
    }


def _sovereignty(post: Any) -> dict[str, Any]:
    answer = post.get("data_residency_required", "")
    return {
        "data_residency_required": _YES_NO.get(answer),
        "data_categories": [
            c.strip() for c in post.get("data_categories", "").split(",") if c.strip()
        ],
    }


def _security(post: Any) -> dict[str, Any]:
    return {
        "security_commitments": {
            name: _YES_NO.get(post.get(name, "")) for name in CountryApplication.SECURITY_FIELDS
        }
    }


def _fund(post: Any) -> dict[str, Any]:
    amount, currency = post.get("amount", "").strip(), post.get("currency", "").strip()
    return {
        "startup_fund": {
            "amount": formats.canonical_decimal(amount) if amount else amount,
            "currency": currency,
        }
        if amount or currency
        else None
    }
