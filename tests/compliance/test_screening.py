"""The screening checks, called directly: findings name the rule, the fact and its source."""

from __future__ import annotations

import json

import pytest

from compliance.screening import POLICY_FILE, PolicyError, load_policy, parse_policy, screen
from tests.factories import create_application

pytestmark = pytest.mark.django_db


def site(country: str, region: str = "Region") -> dict:
    return {
        "country": country,
        "region": region,
        "capacity_mw": "10",
        "target_online_date": "2030-01-01",
        "energy_mix": {"solar": 100},
    }


def by_rule(result, rule: str) -> list[dict]:
    return [f for f in result.findings if f["rule"] == rule]


def test_supported_country_with_complete_answers_is_clear(territory_list, official_jp, jp):
    result = screen(application=create_application(official_jp, jp), list_version=territory_list)
    assert result.outcome == "clear"
    assert {f["outcome"] for f in result.findings} == {"clear"}
    [tenant] = [f for f in result.findings if f["subject"] == "tenant country JP"]
    assert tenant["rule"] == "territory.supported"
    assert "SOURCE 1 (supported, primary)" in tenant["source"]
    assert "territories.csv v1" in tenant["source"] and "Retrieved: 2026-11-28" in tenant["source"]


def test_site_in_north_korea_is_blocked_naming_rules_and_sources(territory_list, official_jp, jp):
    application = create_application(
        official_jp, jp, sites=[site("JP"), site("KP")], data_residency_required=False
    )
    result = screen(application=application, list_version=territory_list)
    assert result.outcome == "blocked"
    rules = {f["rule"] for f in result.findings if f["subject"] == "site country KP"}
    assert rules == {
        "territory.not_supported",
        "ofac.comprehensive_sanctions",
        "ear.country_group_e",
        "ear.country_group_d",
    }
    [group_e] = by_rule(result, "ear.country_group_e")
    assert group_e["outcome"] == "blocked"
    assert "E:1" in group_e["reason"]
    assert "EAR groups=D:1 D:3 D:4 D:5 E:1" in group_e["fact"]
    assert (
        "SOURCE 3 (groups): https://github.com/seelpeed-debug/export-controls-agent-mcp"
        in group_e["source"]
    )
    [sanctions] = by_rule(result, "ofac.comprehensive_sanctions")
    assert "SOURCE 4" in sanctions["source"] and "OFAC" in sanctions["source"]


def test_site_in_cuba_is_blocked_by_group_e2(territory_list, official_jp, jp):
    application = create_application(
        official_jp, jp, sites=[site("CU")], data_residency_required=False
    )
    result = screen(application=application, list_version=territory_list)
    assert result.outcome == "blocked"
    [group_e] = by_rule(result, "ear.country_group_e")
    assert "E:2" in group_e["reason"]


def test_supported_d5_country_needs_review(territory_list, official_jp, jp):
    # Iraq is supported but in D:4/D:5: a person decides.
    application = create_application(
        official_jp, jp, sites=[site("IQ")], data_residency_required=False
    )
    result = screen(application=application, list_version=territory_list)
    assert result.outcome == "needs_review"
    [group_d] = by_rule(result, "ear.country_group_d")
    assert "D:4, D:5" in group_d["reason"]


def test_macau_needs_review_besides_being_unsupported(territory_list, official_jp, jp):
    application = create_application(
        official_jp, jp, sites=[site("MO")], data_residency_required=False
    )
    result = screen(application=application, list_version=territory_list)
    assert {f["rule"] for f in result.findings if f["subject"] == "site country MO"} >= {
        "ear.macau",
        "territory.not_supported",
    }
    assert result.outcome == "blocked"


def test_site_region_in_crimea_is_screened_against_the_region_row(territory_list, official_jp, jp):
    application = create_application(
        official_jp, jp, sites=[site("UA", "Crimea, Simferopol")], data_residency_required=False
    )
    result = screen(application=application, list_version=territory_list)
    assert result.outcome == "blocked"
    region = [f for f in result.findings if f["subject"].endswith(" UA-43")]
    assert {f["rule"] for f in region} == {
        "territory.not_supported",
        "ofac.comprehensive_sanctions",
    }


def test_a_no_on_a_security_commitment_needs_review(territory_list, official_jp, jp):
    application = create_application(
        official_jp,
        jp,
        security_commitments={
            "hardware_security": True,
            "zero_trust": False,
            "encryption": True,
            "personnel_oversight": True,
        },
    )
    result = screen(application=application, list_version=territory_list)
    assert result.outcome == "needs_review"
    [finding] = by_rule(result, "security.commitments")
    assert finding["outcome"] == "needs_review" and "zero_trust" in finding["reason"]
    assert finding["source"].startswith(f"application {application.reference}")


def test_residency_required_with_a_site_abroad_needs_review(territory_list, official_jp, jp):
    application = create_application(
        official_jp, jp, sites=[site("JP"), site("FR")], data_residency_required=True
    )
    result = screen(application=application, list_version=territory_list)
    [finding] = by_rule(result, "data_residency.sites")
    assert finding["outcome"] == "needs_review" and "FR" in finding["reason"]
    assert result.outcome == "needs_review"


def test_residency_not_required_allows_sites_abroad(territory_list, official_jp, jp):
    application = create_application(
        official_jp, jp, sites=[site("FR")], data_residency_required=False
    )
    assert screen(application=application, list_version=territory_list).outcome == "clear"


def test_the_policy_is_data(territory_list, official_jp, jp, tmp_path):
    """Making D groups blocking is an edit of the policy file, not of code."""
    data = json.loads(POLICY_FILE.read_text())
    for rule in data["territory_rules"]:
        if rule["rule"] == "ear.country_group_d":
            rule["outcome"] = "blocked"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    application = create_application(
        official_jp, jp, sites=[site("IQ")], data_residency_required=False
    )
    assert screen(application=application, list_version=territory_list).outcome == "needs_review"
    assert (
        screen(
            application=application, list_version=territory_list, policy=load_policy(path)
        ).outcome
        == "blocked"
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["territory_rules"][0].update(outcome="maybe"), "unknown outcome"),
        (lambda d: d["territory_rules"][0]["when"].update(colour="red"), "unknown condition"),
        (lambda d: d.pop("clear_rule"), "missing"),
    ],
)
def test_a_malformed_policy_is_refused(mutate, message):
    data = json.loads(POLICY_FILE.read_text())
    mutate(data)
    with pytest.raises(PolicyError, match=message):
        parse_policy(data)
