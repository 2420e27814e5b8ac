"""A step form's POST as the API-shaped payload the serializer validates."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from partnerships import emissions
from partnerships.models import CountryApplication
from portal import parse
from portal.ui import formats


def form_data(step: str, post: Any, *, tenant_code: str = "") -> dict[str, Any]:
    """The API-shaped payload of one form step."""
    if step == "general":
        return {"title": post.get("title", "")}
    if step == "sites":
        sites = []
        count = parse.lenient_integer(post.get("site_count"), maximum=100) or 0
        for i in range(count):
            if post.get(f"site-{i}-delete"):
                continue
            fields = {
                k: post.get(f"site-{i}-{k}", "").strip()
                for k in (
                    "country",
                    "region",
                    "capacity_mw",
                    "target_online_date",
                    "pue",
                    "utilisation",
                )
            }
            mix = {
                source: post.get(f"site-{i}-mix-{source}", "").strip()
                for source in emissions.emission_factors()
            }
            mix = {source: value for source, value in mix.items() if value not in ("", "0")}
            if not any(fields.values()) and not mix:
                continue  # an untouched blank block
            site: dict[str, Any] = {**fields, "energy_mix": mix}
            # An empty country means the applying country (the hint under the field says so).
            site["country"] = site["country"] or tenant_code
            for decimal_field in ("capacity_mw", "pue", "utilisation"):
                if site[decimal_field]:
                    site[decimal_field] = formats.canonical_decimal(site[decimal_field])
            for optional in ("pue", "utilisation"):
                if not site[optional]:
                    site[optional] = None
            sites.append(site)
        return {"sites": sites}
    if step == "localization":
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
    if step == "sovereignty":
        answer = post.get("data_residency_required", "")
        return {
            "data_residency_required": {"yes": True, "no": False}.get(answer),
            "data_categories": [
                c.strip() for c in post.get("data_categories", "").split(",") if c.strip()
            ],
        }
    if step == "security":
        return {
            "security_commitments": {
                name: {"yes": True, "no": False}.get(post.get(name, ""))
                for name in CountryApplication.SECURITY_FIELDS
            }
        }
    if step == "fund":
        amount, currency = post.get("amount", "").strip(), post.get("currency", "").strip()
        return {
            "startup_fund": {
                "amount": formats.canonical_decimal(amount) if amount else amount,
                "currency": currency,
            }
            if amount or currency
            else None
        }
    raise Http404
