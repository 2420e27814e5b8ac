"""Screening checks: plain functions from an application and a territory list to findings.

A finding is a dict ``{rule, outcome, subject, fact, source, reason}``: which rule of the
policy applied, what it decided (``clear``/``needs_review``/``blocked``), about what (a
country code or a section of the application), the fact it relied on, where that fact comes
from (the source line of the territory file's header, or the application itself) and why.
Which fact gives which outcome is data: ``compliance/data/screening_policy.json``.
The overall outcome is the worst finding. Nothing here writes to the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from compliance.models import Territory, TerritoryListVersion
from partnerships.models import CountryApplication

POLICY_FILE = Path(settings.BASE_DIR) / "compliance" / "data" / "screening_policy.json"
OUTCOMES = ("clear", "needs_review", "blocked")

Finding = dict[str, Any]


class PolicyError(Exception):
    """The policy file is malformed."""


@dataclass(frozen=True)
class Policy:
    name: str
    order: tuple[str, ...]
    territory_rules: tuple[dict[str, Any], ...]
    clear_rule: dict[str, Any]
    fact_sources: dict[str, list[str]]
    region_territories: dict[str, dict[str, list[str]]]
    security: dict[str, Any]
    residency: dict[str, Any]

    def rank(self, outcome: str) -> int:
        return self.order.index(outcome)


def parse_policy(data: dict[str, Any]) -> Policy:
    """Validate the policy's shape and outcomes; raise ``PolicyError`` naming the problem."""
    try:
        order = tuple(data["outcome_order"])
        if sorted(order) != sorted(OUTCOMES):
            raise PolicyError(f"outcome_order must list {', '.join(OUTCOMES)}")
        policy = Policy(
            name=str(data["policy"]),
            order=order,
            territory_rules=tuple(data["territory_rules"]),
            clear_rule=data["clear_rule"],
            fact_sources=data["fact_sources"],
            region_territories=data.get("region_territories", {}),
            security=data["security_commitments"],
            residency=data["data_residency"],
        )
    except (KeyError, TypeError) as exc:
        raise PolicyError(f"screening policy is missing {exc}") from exc
    outcomes = [r["outcome"] for r in policy.territory_rules] + [
        policy.clear_rule["outcome"],
        policy.security["answered_no"],
        policy.security["unanswered"],
        policy.residency["site_outside_country"],
        policy.residency["unanswered"],
    ]
    unknown = sorted({o for o in outcomes if o not in OUTCOMES})
    if unknown:
        raise PolicyError(f"unknown outcome(s) in the policy: {', '.join(unknown)}")
    known_conditions = {"listed", "supported", "comprehensive_sanctions", "groups_any", "codes"}
    for rule in policy.territory_rules:
        extra = set(rule["when"]) - known_conditions
        if extra:
            raise PolicyError(
                f"rule {rule['rule']}: unknown condition(s) {', '.join(sorted(extra))}"
            )
    return policy


def load_policy(path: Path | str = POLICY_FILE) -> Policy:
    return _load_policy(str(path))


@lru_cache(maxsize=4)
def _load_policy(path: str) -> Policy:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"cannot read the screening policy {path}: {exc}") from exc
    return parse_policy(data)


# --- Sources ----------------------------------------------------------------------------------


def cite(list_version: TerritoryListVersion, policy: Policy, fact: str) -> str:
    """The territory file's header lines that back ``fact`` (per the policy's fact_sources)."""
    keywords = policy.fact_sources.get(fact, [])
    lines = [
        line
        for line in list_version.source.splitlines()
        if line.startswith("SOURCE") and any(k.lower() in _topic(line).lower() for k in keywords)
    ]
    retrieved = next(
        (line for line in list_version.source.splitlines() if line.startswith("Retrieved:")), ""
    )
    prefix = f"territories.csv v{list_version.number} ({list_version.effective_date})"
    if retrieved:
        prefix += f", {retrieved.split('.')[0]}"
    return f"{prefix}: " + " | ".join(lines) if lines else prefix


def _topic(line: str) -> str:
    # "SOURCE 3 (groups): https://…" → "groups"
    start, end = line.find("("), line.find(")")
    return line[start + 1 : end] if 0 <= start < end else line


# --- Checks -----------------------------------------------------------------------------------


def _matches(rule: dict[str, Any], territory: Territory | None) -> tuple[bool, str]:
    """Whether every condition of ``rule`` holds for ``territory``; and the matched groups."""
    when = rule["when"]
    if "listed" in when and (territory is not None) != when["listed"]:
        return False, ""
    if territory is None:
        return "listed" in when, ""
    if "supported" in when and territory.supported != when["supported"]:
        return False, ""
    if (
        "comprehensive_sanctions" in when
        and territory.comprehensive_sanctions != when["comprehensive_sanctions"]
    ):
        return False, ""
    if "codes" in when and territory.code not in when["codes"]:
        return False, ""
    matched = ""
    if "groups_any" in when:
        hits = [g for g in territory.groups if g in when["groups_any"]]
        if not hits:
            return False, ""
        matched = ", ".join(hits)
    return True, matched


def _fact(code: str, territory: Territory | None) -> str:
    if territory is None:
        return f"{code}: not on the territory list"
    groups = " ".join(territory.groups) or "none recorded"
    return (
        f"{territory.code} {territory.name}: supported={str(territory.supported).lower()}, "
        f"EAR groups={groups}, comprehensive_sanctions={str(territory.comprehensive_sanctions).lower()}"
        + (f"; notes: {territory.notes}" if territory.notes else "")
    )


def check_territory(
    *,
    code: str,
    role: str,
    territories: dict[str, Territory],
    list_version: TerritoryListVersion,
    policy: Policy,
) -> list[Finding]:
    """Every policy rule that applies to one country (or region) code; a clear finding if none."""
    territory = territories.get(code)
    findings = []
    for rule in policy.territory_rules:
        ok, matched = _matches(rule, territory)
        if ok:
            findings.append(
                _territory_finding(rule, code, role, territory, matched, list_version, policy)
            )
    if not findings:
        findings.append(
            _territory_finding(policy.clear_rule, code, role, territory, "", list_version, policy)
        )
    return findings


def _territory_finding(
    rule: dict[str, Any],
    code: str,
    role: str,
    territory: Territory | None,
    matched: str,
    list_version: TerritoryListVersion,
    policy: Policy,
) -> Finding:
    name = territory.name if territory else code
    return {
        "rule": rule["rule"],
        "outcome": rule["outcome"],
        "subject": f"{role} {code}",
        "fact": _fact(code, territory),
        "source": cite(list_version, policy, rule.get("fact_source", "supported")),
        "reason": rule["reason"].format(code=code, name=name, matched=matched),
    }


def territory_subjects(application: CountryApplication, policy: Policy) -> list[tuple[str, str]]:
    """(role, code) pairs to screen: the tenant country, each site country and region.

    A site whose region names a listed sub-national territory (Crimea …) is screened
    against that territory's row too: the country can be supported with exceptions.
    """
    subjects = [("tenant country", application.tenant.code)]
    for site in application.sites.all():
        subjects.append(("site country", site.country))
        region = site.region.lower()
        for sub_code, words in policy.region_territories.get(site.country, {}).items():
            if any(word in region for word in words):
                subjects.append((f"site region “{site.region}” in", sub_code))
    unique: dict[tuple[str, str], None] = dict.fromkeys(subjects)
    return list(unique)


def check_territories(
    *, application: CountryApplication, list_version: TerritoryListVersion, policy: Policy
) -> list[Finding]:
    subjects = territory_subjects(application, policy)
    codes = {code for _, code in subjects}
    territories = {
        t.code: t for t in Territory.objects.filter(version=list_version, code__in=codes)
    }
    findings: list[Finding] = []
    for role, code in subjects:
        findings.extend(
            check_territory(
                code=code,
                role=role,
                territories=territories,
                list_version=list_version,
                policy=policy,
            )
        )
    return findings


def _application_source(application: CountryApplication, section: str) -> str:
    return f"application {application.reference} version {application.version}, section: {section}"


def check_security_commitments(*, application: CountryApplication, policy: Policy) -> list[Finding]:
    """Every security commitment answered yes."""
    spec = policy.security
    answers = {name: getattr(application, name) for name in spec["fields"]}
    unanswered = [n for n, v in answers.items() if v is None]
    refused = [n for n, v in answers.items() if v is False]
    fact = ", ".join(
        f"{n}={'unanswered' if v is None else ('yes' if v else 'no')}" for n, v in answers.items()
    )
    base = {
        "rule": spec["rule"],
        "subject": "security commitments",
        "fact": fact,
        "source": _application_source(application, "security commitments"),
    }
    if unanswered:
        return [
            {
                **base,
                "outcome": spec["unanswered"],
                "reason": f"Security commitments not answered: {', '.join(unanswered)}.",
            }
        ]
    if refused:
        return [
            {
                **base,
                "outcome": spec["answered_no"],
                "reason": f"Security commitments answered no: {', '.join(refused)}.",
            }
        ]
    return [{**base, "outcome": "clear", "reason": "Every security commitment is answered yes."}]


def check_data_residency(*, application: CountryApplication, policy: Policy) -> list[Finding]:
    """A residency requirement means every site is in the applying country."""
    spec = policy.residency
    country = application.tenant.code
    sites = list(application.sites.all())
    site_countries = [s.country for s in sites]
    fact = f"data_residency_required={application.data_residency_required}; site countries: {' '.join(site_countries) or 'none'}"
    base = {
        "rule": spec["rule"],
        "subject": "data sovereignty",
        "fact": fact,
        "source": _application_source(application, "data sovereignty and infrastructure"),
    }
    if application.data_residency_required is None:
        return [
            {
                **base,
                "outcome": spec["unanswered"],
                "reason": "The data-residency question is not answered.",
            }
        ]
    abroad = sorted({c for c in site_countries if c != country})
    if application.data_residency_required and abroad:
        return [
            {
                **base,
                "outcome": spec["site_outside_country"],
                "reason": f"Data residency in {country} is required but sites are in {', '.join(abroad)}.",
            }
        ]
    return [
        {
            **base,
            "outcome": "clear",
            "reason": "The data-residency answer is consistent with the sites.",
        }
    ]


@dataclass(frozen=True)
class Screening:
    outcome: str
    findings: list[Finding]
    policy: str


def worst(outcomes: list[str], policy: Policy) -> str:
    return max(outcomes, key=policy.rank, default="clear")


def screen(
    *,
    application: CountryApplication,
    list_version: TerritoryListVersion,
    policy: Policy | None = None,
) -> Screening:
    """Run every check; the overall outcome is the worst finding's."""
    policy = policy or load_policy()
    findings = [
        *check_territories(application=application, list_version=list_version, policy=policy),
        *check_security_commitments(application=application, policy=policy),
        *check_data_residency(application=application, policy=policy),
    ]
    return Screening(
        outcome=worst([f["outcome"] for f in findings], policy),
        findings=findings,
        policy=policy.name,
    )


def concerns(findings: list[Finding]) -> set[tuple[str, str]]:
    """The (rule, subject) pairs that were not clear: what a person had to look at."""
    return {
        (f.get("rule", ""), f.get("subject", "")) for f in findings if f.get("outcome") != "clear"
    }
