"""Screening checks: plain functions from an application and a territory list to findings.

A finding is a dict ``{rule, outcome, subject, roles, fact, source, citation, reason}``:
which rule of the policy applied, what it decided (``clear``/``needs_review``/``blocked``),
about what (a country code, once however many roles it plays, or a section of the
application), the one fact it relied on, the id of the source record that establishes that
fact (``compliance/data/SOURCES.md``; ``application`` for the application's own answers),
that record's ``citation`` (title, URL, date) and why. Which fact gives which outcome is
data: ``compliance/data/screening_policy.json``. The overall outcome is the worst finding.
Nothing here writes to the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from compliance.models import ScreeningPolicyVersion, Territory, TerritoryListVersion
from partnerships.models import CountryApplication

POLICY_FILE = Path(settings.BASE_DIR) / "compliance" / "data" / "screening_policy.json"
OUTCOMES = ("clear", "needs_review", "blocked")
#: The facts of a territory row a rule can rest on (each cites its own source record).
FACTS = ("supported", "groups", "sanctions")
#: The source id of findings about the application's own answers.
APPLICATION_SOURCE = "application"

Finding = dict[str, Any]


class PolicyError(Exception):
    """The policy file is malformed."""


@dataclass(frozen=True)
class Policy:
    name: str
    order: tuple[str, ...]
    territory_rules: tuple[dict[str, Any], ...]
    clear_rule: dict[str, Any]
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
    known_conditions = {
        "listed",
        "supported",
        "basis",
        "comprehensive_sanctions",
        "groups_any",
        "codes",
    }
    for rule in [*policy.territory_rules, policy.clear_rule]:
        extra = set(rule.get("when", {})) - known_conditions
        if extra:
            raise PolicyError(
                f"rule {rule['rule']}: unknown condition(s) {', '.join(sorted(extra))}"
            )
        if rule.get("fact") not in FACTS:
            raise PolicyError(
                f"rule {rule['rule']}: fact must be one of {', '.join(FACTS)}, not {rule.get('fact')!r}"
            )
        if rule.get("when", {}).get("listed") is False and not rule.get("source"):
            raise PolicyError(
                f"rule {rule['rule']}: a rule about unlisted codes names its source id (no row cites one)"
            )
    return policy


def policy_source_ids(data: dict[str, Any]) -> set[str]:
    """The source ids a policy names itself (for codes that are not on the list)."""
    return {
        str(rule["source"])
        for rule in [*data.get("territory_rules", []), data.get("clear_rule", {})]
        if isinstance(rule, dict) and rule.get("source")
    }


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


def citation(list_version: TerritoryListVersion, source_id: str) -> dict[str, Any] | None:
    """Title, URL and date of a source record the list version cites; None for an unknown id."""
    record = list_version.sources.get(source_id)
    if not source_id or record is None:
        return None
    return {
        "id": source_id,
        "title": record["title"],
        "url": record["url"],
        "date": record.get("date"),
        "date_meaning": record.get("date_meaning", ""),
        "date_unknown": record.get("date_unknown", ""),
    }


# --- Checks -----------------------------------------------------------------------------------


def _matches(rule: dict[str, Any], territory: Territory | None) -> tuple[bool, str]:
    """Whether every condition of ``rule`` holds for ``territory``; and the matched groups."""
    when = rule.get("when", {})
    if "listed" in when and (territory is not None) != when["listed"]:
        return False, ""
    if territory is None:
        return "listed" in when, ""
    if "supported" in when and territory.supported != when["supported"]:
        return False, ""
    if "basis" in when and territory.basis != when["basis"]:
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


def _fact(
    fact: str, code: str, territory: Territory | None, list_version: TerritoryListVersion
) -> str:
    """The one fact of the row a rule rests on, as a sentence."""
    where = f"territory list v{list_version.number}"
    if territory is None:
        return f"{code}: not on {where}"
    label = f"{territory.code} {territory.name}"
    if fact == "groups":
        return f"{label}: EAR Country Groups {' '.join(territory.groups) or 'none'} ({where})"
    if fact == "sanctions":
        value = str(territory.comprehensive_sanctions).lower()
        return f"{label}: OFAC comprehensive sanctions={value} ({where})"
    return (
        f"{label}: supported={str(territory.supported).lower()}, basis={territory.basis} ({where})"
    )


def check_territory(
    *,
    code: str,
    roles: list[str],
    territories: dict[str, Territory],
    list_version: TerritoryListVersion,
    policy: Policy,
) -> list[Finding]:
    """Every policy rule that applies to one country (or region) code; a clear finding if none.

    ``roles`` are what the code is to the application (tenant country, site country …): a
    code is screened once, however many roles it has.
    """
    territory = territories.get(code)
    findings = []
    for rule in policy.territory_rules:
        ok, matched = _matches(rule, territory)
        if ok:
            findings.append(_territory_finding(rule, code, roles, territory, matched, list_version))
    if not findings:
        findings.append(
            _territory_finding(policy.clear_rule, code, roles, territory, "", list_version)
        )
    return findings


def _territory_finding(
    rule: dict[str, Any],
    code: str,
    roles: list[str],
    territory: Territory | None,
    matched: str,
    list_version: TerritoryListVersion,
) -> Finding:
    name = territory.name if territory else code
    fact = rule["fact"]
    # The row names the record behind each of its facts; an unlisted code has no row, so the
    # rule names the list whose silence it relies on.
    source = (territory.sources.get(fact) if territory else None) or rule.get("source", "")
    return {
        "rule": rule["rule"],
        "outcome": rule["outcome"],
        "subject": f"{roles[0]} {code}",
        "roles": roles,
        "code": code,
        "fact": _fact(fact, code, territory, list_version),
        "source": source,
        "citation": citation(list_version, source),
        "reason": rule["reason"].format(code=code, name=name, matched=matched),
    }


def territory_subjects(application: CountryApplication, policy: Policy) -> dict[str, list[str]]:
    """Codes to screen, each once, with its roles: the tenant country, each site country and region.

    A site whose region names a listed sub-national territory (Crimea …) is screened
    against that territory's row too: the country can be supported with exceptions. A site
    in the applying country adds a role to that code, not a second screening of it.
    """
    subjects: dict[str, list[str]] = {application.tenant.code: ["tenant country"]}
    for site in application.sites.all():
        roles = subjects.setdefault(site.country, [])
        if "site country" not in roles:
            roles.append("site country")
        region = site.region.lower()
        for sub_code, words in policy.region_territories.get(site.country, {}).items():
            if any(word in region for word in words):
                role = f"site region “{site.region}” in"
                sub_roles = subjects.setdefault(sub_code, [])
                if role not in sub_roles:
                    sub_roles.append(role)
    return subjects


def check_territories(
    *,
    application: CountryApplication,
    list_version: TerritoryListVersion,
    policy: Policy,
    territories: dict[str, Territory] | None = None,
) -> list[Finding]:
    """``territories``: the list's rows by code, when a batch read them once (else read here)."""
    subjects = territory_subjects(application, policy)
    if territories is None:
        territories = {
            t.code: t
            for t in Territory.objects.filter(version=list_version, code__in=list(subjects))
        }
    findings: list[Finding] = []
    for code, roles in subjects.items():
        findings.extend(
            check_territory(
                code=code,
                roles=roles,
                territories=territories,
                list_version=list_version,
                policy=policy,
            )
        )
    return findings


def _application_source(application: CountryApplication, section: str) -> dict[str, Any]:
    """The application's own answers are the fact: cite its page, version and date."""
    when = application.submitted_at or application.updated_at
    return {
        "source": APPLICATION_SOURCE,
        "citation": {
            "id": APPLICATION_SOURCE,
            "title": f"Application {application.reference} version {application.version}, section: {section}",
            "url": reverse("review-detail", args=[application.pk]),
            "date": when.date().isoformat() if when else None,
            "date_meaning": "submitted" if application.submitted_at else "last changed",
            "date_unknown": "" if when else "not yet saved",
        },
    }


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
        **_application_source(application, "security commitments"),
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
        **_application_source(application, "data sovereignty and infrastructure"),
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


def policy_of(version: ScreeningPolicyVersion) -> Policy:
    """The parsed policy of a recorded version (cached by checksum: versions never change)."""
    return _policy_of_content(version.checksum, json.dumps(version.content, sort_keys=True))


@lru_cache(maxsize=8)
def _policy_of_content(checksum: str, content: str) -> Policy:
    return parse_policy(json.loads(content))


def decision_rationale(
    *,
    outcome: str,
    findings: list[Finding],
    list_version: TerritoryListVersion,
    policy_version: ScreeningPolicyVersion,
) -> str:
    """What a decision taken on the screening's word says: who decided, what, against what.

    For example "Automatic screening by the system: clear against territory list v3
    (effective 2026-08-05), screening policy v2 “screening-policy-2026-11-28” (checksum
    1a2b3c4d5e6f)." followed by the reasons of every finding that is not clear.
    """
    text = (
        f"Automatic screening by the system: {outcome} against territory list "
        f"v{list_version.number} (effective {list_version.effective_date.isoformat()}), "
        f"screening policy v{policy_version.number} “{policy_version.name}” "
        f"(checksum {policy_version.checksum[:12]})."
    )
    reasons = [f"{f['reason']}" for f in findings if f.get("outcome") != "clear"]
    if reasons:
        text += " Not clear: " + " ".join(reasons)
    return text


def worst(outcomes: list[str], policy: Policy) -> str:
    return max(outcomes, key=policy.rank, default="clear")


def screen(
    *,
    application: CountryApplication,
    list_version: TerritoryListVersion,
    policy: Policy | None = None,
    territories: dict[str, Territory] | None = None,
) -> Screening:
    """Run every check; the overall outcome is the worst finding's. ``territories``: see
    ``check_territories``."""
    policy = policy or load_policy()
    findings = [
        *check_territories(
            application=application,
            list_version=list_version,
            policy=policy,
            territories=territories,
        ),
        *check_security_commitments(application=application, policy=policy),
        *check_data_residency(application=application, policy=policy),
    ]
    return Screening(
        outcome=worst([f["outcome"] for f in findings], policy),
        findings=findings,
        policy=policy.name,
    )
