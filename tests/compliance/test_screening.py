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
    assert tenant["source"] == "openai-countries-current"
    assert tenant["citation"] == {
        "id": "openai-countries-current",
        "title": "OpenAI API: Supported countries and territories (help-center list, 188 countries)",
        "url": "https://help.openai.com/en/articles/5347006-openai-api-supported-countries-and-territories",
        "date": "2026-08-05",
        "date_meaning": "retrieved: the mirror of the list was synced on this date (2026-08-05T06:02:59Z)",
        "date_unknown": "",
    }
    assert tenant["fact"] == "JP Japan: supported=true, basis=current_list (territory list v1)"


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
    # Each finding cites the record behind its own fact, not the file's whole header.
    assert group_e["fact"] == (
        "KP Korea, Democratic People's Republic of: EAR Country Groups D:1 D:3 D:4 D:5 E:1 "
        "(territory list v1)"
    )
    assert group_e["source"] == "ear-740-supp1"
    assert group_e["citation"]["date"] == "2026-07-23"
    assert "15 CFR Part 740, Supplement No. 1" in group_e["citation"]["title"]
    [sanctions] = by_rule(result, "ofac.comprehensive_sanctions")
    assert sanctions["source"] == "ofac-north-korea"
    assert sanctions["citation"]["url"].startswith("https://www.treasury.gov/")
    assert sanctions["citation"]["date"] is None and sanctions["citation"]["date_unknown"]
    [supported] = by_rule(result, "territory.not_supported")
    assert supported["source"] == "openai-countries-current"


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
    # Both facts of the region rest on the executive order that set the sanctions.
    assert {f["source"] for f in region} == {"eo-13685"}
    assert {f["citation"]["date"] for f in region} == {"2014-12-19"}


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
    # The application's own answer is the fact: the finding cites the application's page.
    assert finding["source"] == "application"
    assert finding["citation"]["title"].startswith(f"Application {application.reference} version")
    assert finding["citation"]["url"] == f"/review/{application.pk}/"


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


def test_a_territory_only_on_the_older_list_needs_a_person(territory_list, official_jp, jp):
    """Guam: the current list is silent, only the older list names it; silence is not a yes."""
    application = create_application(
        official_jp, jp, sites=[site("GU")], data_residency_required=False
    )
    result = screen(application=application, list_version=territory_list)
    assert result.outcome == "needs_review"
    [older] = by_rule(result, "territory.older_list_only")
    assert older["subject"] == "site country GU" and older["outcome"] == "needs_review"
    assert "basis=older_list_only" in older["fact"]
    assert "older platform list" in older["reason"] and "does not name it" in older["reason"]
    assert older["source"] == "openai-countries-older"
    assert older["citation"]["url"] == "https://platform.openai.com/docs/supported-countries"
    assert older["citation"]["date"] is None
    assert "cannot be told" in older["citation"]["date_unknown"]


def test_a_site_in_the_applying_country_is_screened_once(territory_list, official_jp, jp):
    application = create_application(
        official_jp,
        jp,
        sites=[site("JP"), site("JP", "Osaka"), site("FR")],
        data_residency_required=False,
    )
    result = screen(application=application, list_version=territory_list)
    territory = [f for f in result.findings if f.get("code")]
    assert [(f["code"], f["rule"]) for f in territory] == [
        ("JP", "territory.supported"),
        ("FR", "territory.supported"),
    ]
    [japan] = [f for f in territory if f["code"] == "JP"]
    assert japan["subject"] == "tenant country JP"
    assert japan["roles"] == ["tenant country", "site country"]


SENSITIVE = ["KP", "CU", "IR", "SY", "GU", "MO", "IQ", "RU", "HK", "UA", "AE"]


def test_no_finding_cites_a_path_and_every_source_resolves(territory_list, official_jp, jp):
    """Over every kind of finding: a public record with a URL and a date, never a path."""
    application = create_application(
        official_jp,
        jp,
        sites=[site(code) for code in SENSITIVE]
        + [site("UA", "Crimea"), site("UA", "Donetsk"), site("UA", "Luhansk")],
        data_residency_required=True,
        security_commitments={
            "hardware_security": True,
            "zero_trust": None,
            "encryption": False,
            "personnel_oversight": True,
        },
    )
    result = screen(application=application, list_version=territory_list)
    rules = {f["rule"] for f in result.findings}
    assert rules >= {
        "territory.supported",
        "territory.not_supported",
        "territory.older_list_only",
        "ofac.comprehensive_sanctions",
        "ear.country_group_e",
        "ear.country_group_d",
        "ear.macau",
        "security.commitments",
        "data_residency.sites",
    }
    for finding in result.findings:
        assert_cites_public_record(finding, territory_list)


def assert_cites_public_record(finding: dict, list_version) -> None:
    text = json.dumps(finding)
    assert "/work" not in text and "DOMAIN.md" not in text and "file:" not in text, finding
    citation = finding["citation"]
    assert citation["id"] == finding["source"]
    assert citation["title"]
    assert citation["date"] or citation["date_unknown"], finding
    if finding["source"] == "application":
        assert citation["url"].startswith("/review/")
        return
    record = list_version.sources[finding["source"]]
    assert citation["url"] == record["url"]
    assert citation["url"].startswith(("https://", "http://")), finding


def test_every_row_cites_a_public_record_for_each_fact(territory_list):
    from compliance.models import Territory

    rows = list(Territory.objects.filter(version=territory_list))
    assert len(rows) == 253
    for row in rows:
        for fact in ("supported", "groups"):
            assert row.sources[fact] in territory_list.sources, (row.code, fact)
        if row.comprehensive_sanctions:
            assert row.sources["sanctions"] in territory_list.sources, row.code
        assert "DOMAIN" not in row.notes and "/work" not in row.notes, row.code
    for key, record in territory_list.sources.items():
        assert record["url"].startswith("https://"), key
        assert record["title"] and (record["date"] or record["date_unknown"]), key
        assert "/work" not in json.dumps(record), key
    assert "/work" not in territory_list.source and "DOMAIN" not in territory_list.source


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
        (lambda d: d["territory_rules"][1].update(fact="rumour"), "fact must be one of"),
        (lambda d: d["territory_rules"][0].pop("source"), "names its source id"),
    ],
)
def test_a_malformed_policy_is_refused(mutate, message):
    data = json.loads(POLICY_FILE.read_text())
    mutate(data)
    with pytest.raises(PolicyError, match=message):
        parse_policy(data)
