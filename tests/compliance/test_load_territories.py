from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from compliance.models import Territory, TerritoryListVersion
from compliance.territories import territory_list_load
from partnerships.models import CountryApplication, State
from portal.audit.models import AuditEvent
from tests.compliance.conftest import submit, write_list
from tests.factories import create_application

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_territories", *args, stdout=out)
    return out.getvalue()


def test_shipped_file_loads_as_version_one_with_its_sources():
    output = load()
    version = TerritoryListVersion.objects.get()
    assert version.number == 1
    assert "Loaded territory list v1" in output and "253 territories" in output
    assert Territory.objects.filter(version=version).count() == 253
    kp = Territory.objects.get(version=version, code="KP")
    assert (kp.supported, kp.comprehensive_sanctions) == (False, True)
    assert kp.groups == ["D:1", "D:3", "D:4", "D:5", "E:1"]
    assert Territory.objects.get(version=version, code="UA-43").comprehensive_sanctions is True
    assert Territory.objects.filter(version=version, supported=True).count() == 219
    # The header's retrieval line is the version's source text; the records its rows cite
    # are stored with it, each with a title, a public URL and a date (or why there is none).
    assert version.source.startswith("Retrieved: 2026-11-28")
    assert set(version.sources) == {
        "openai-countries-current",
        "openai-countries-older",
        "ear-740-supp1",
        "ofac-cuba",
        "ofac-iran",
        "ofac-north-korea",
        "eo-13685",
        "eo-14065",
        "eo-14312",
    }
    assert version.sources["eo-14312"]["date"] == "2025-06-30"
    assert version.sources["ear-740-supp1"]["date"] == "2026-07-23"
    assert version.sources["openai-countries-older"]["date"] is None
    assert "cannot be told" in version.sources["openai-countries-older"]["date_unknown"]
    assert kp.sources == {
        "supported": "openai-countries-current",
        "groups": "ear-740-supp1",
        "sanctions": "ofac-north-korea",
    }
    gu = Territory.objects.get(version=version, code="GU")
    assert (gu.supported, gu.basis, gu.sources["supported"]) == (
        True,
        "older_list_only",
        "openai-countries-older",
    )
    assert "Screening policy v1 “screening-policy-2026-11-28”" in output
    assert version.effective_date == dt.date.today()
    event = AuditEvent.objects.get(verb="territory_list.loaded")
    assert event.changes["number"] == 1 and len(event.changes["diff"]["added"]) == 253
    assert event.actor_label == "command:load_territories"


def test_loading_the_same_rows_again_is_a_no_op():
    load()
    output = load()
    assert "Unchanged: territory list v1" in output
    assert TerritoryListVersion.objects.count() == 1
    assert Territory.objects.count() == 253
    assert AuditEvent.objects.filter(verb="territory_list.loaded").count() == 1


def test_comment_only_edit_makes_no_new_version(tmp_path):
    load()
    load(str(write_list(tmp_path / "t.csv", extra_header=["# a reviewer's note, no data change"])))
    assert TerritoryListVersion.objects.count() == 1


def test_a_change_makes_version_two_with_a_diff_printed_and_audited(tmp_path):
    load()
    path = write_list(
        tmp_path / "t.csv",
        extra_header=["# effective: 2027-01-15"],
        replace={
            "JP": "JP,Japan,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,test change",
            "KP": "",  # removed below
        },
        extra_rows=[],
    )
    # Drop KP entirely and add UA-40 (Sevastopol).
    text = (
        "\n".join(line for line in path.read_text().splitlines() if line)
        + "\nUA-40,Sevastopol,false,not_listed,,true,eo-13685,ear-740-supp1,eo-13685,test\n"
    )
    path.write_text(text)
    output = load(str(path))
    version = TerritoryListVersion.objects.get(number=2)
    assert version.effective_date == dt.date(2027, 1, 15)
    assert version.diff["added"] == ["UA-40"]
    assert version.diff["removed"] == ["KP"]
    assert version.diff["changed"]["JP"]["groups"] == {"before": [], "after": ["D:5"]}
    assert "added (1): UA-40" in output and "removed (1): KP" in output
    assert "changed JP: groups [] → [D:5]" in output
    event = AuditEvent.objects.filter(verb="territory_list.loaded").order_by("-id").first()
    assert event.changes["diff"]["removed"] == ["KP"] and event.changes["previous"] == 1
    # Version 1 is kept unchanged, for history and for old screening results.
    assert Territory.objects.filter(version__number=1, code="KP").exists()


def test_reverting_to_earlier_content_is_a_new_version(tmp_path):
    load()
    load(
        str(
            write_list(
                tmp_path / "t.csv",
                replace={
                    "JP": "JP,Japan,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,x"
                },
            )
        )
    )
    load()
    assert list(
        TerritoryListVersion.objects.order_by("number").values_list("number", flat=True)
    ) == [1, 2, 3]
    v1, v3 = TerritoryListVersion.objects.get(number=1), TerritoryListVersion.objects.get(number=3)
    assert v1.checksum == v3.checksum


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "replace": {
                    "JP": "ZZ,Nowhere,true,current_list,,false,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "unknown territory code 'ZZ'",
        ),
        (
            {
                "replace": {
                    "JP": "UA-99,Nowhere,true,current_list,,false,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "unknown territory code 'UA-99'",
        ),
        (
            {
                "replace": {
                    "JP": "jp,Japan,true,current_list,,false,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "unknown territory code 'jp'",
        ),
        (
            {
                "extra_rows": [
                    "FR,France again,true,current_list,,false,openai-countries-current,ear-740-supp1,,x"
                ]
            },
            "duplicate code FR",
        ),
        (
            {
                "replace": {
                    "JP": "JP,Japan,true,current_list,D:9,false,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "unknown EAR country group(s) D:9",
        ),
        (
            {
                "replace": {
                    "JP": "JP,Japan,true,current_list,Tier1,false,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "unknown EAR country group(s) Tier1",
        ),
        (
            {
                "replace": {
                    "JP": "JP,Japan,yes,current_list,,false,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "supported must be 'true' or 'false', not 'yes'",
        ),
        (
            {
                "replace": {
                    "JP": "JP,Japan,true,current_list,,1,openai-countries-current,ear-740-supp1,,x"
                }
            },
            "comprehensive_sanctions must be 'true' or 'false'",
        ),
        ({"replace": {"JP": "JP,Japan,true"}}, "expected 10 columns, found 3"),
        ({"replace": {"code": "code,name,supported,groups,notes"}}, "header must be"),
        (
            {"extra_header": ["# effective: tomorrow"]},
            "effective date 'tomorrow' is not YYYY-MM-DD",
        ),
    ],
)
def test_bad_file_is_rejected_with_a_clear_error_and_nothing_loaded(tmp_path, change, message):
    path = write_list(tmp_path / "bad.csv", **change)
    with pytest.raises(CommandError) as excinfo:
        load(str(path))
    assert message in str(excinfo.value)
    assert "nothing was loaded" in str(excinfo.value)
    assert not TerritoryListVersion.objects.exists()
    assert not Territory.objects.exists()
    assert not AuditEvent.objects.filter(verb="territory_list.loaded").exists()


def test_bad_file_does_not_replace_the_current_version(tmp_path):
    load()
    with pytest.raises(CommandError):
        load(
            str(
                write_list(
                    tmp_path / "bad.csv",
                    replace={
                        "JP": "JP,Japan,maybe,current_list,,false,openai-countries-current,ear-740-supp1,,x"
                    },
                )
            )
        )
    assert TerritoryListVersion.objects.count() == 1


def test_a_file_in_the_old_format_without_source_columns_is_refused(tmp_path):
    path = tmp_path / "nosource.csv"
    path.write_text(
        "code,name,supported,groups,comprehensive_sanctions,notes\nJP,Japan,true,,false,x\n"
    )
    with pytest.raises(CommandError, match="header must be"):
        load(str(path))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "JP,Japan,true,current_list,,false,/work/shared/DOMAIN.md,ear-740-supp1,,x",
            "supported_source of JP is '/work/shared/DOMAIN.md', which no record of SOURCES.md defines",
        ),
        (
            "JP,Japan,true,current_list,,false,,ear-740-supp1,,x",
            "JP has no supported_source",
        ),
        (
            "JP,Japan,true,current_list,,true,openai-countries-current,ear-740-supp1,,x",
            "JP has no sanctions_source",
        ),
        (
            "JP,Japan,true,not_listed,,false,openai-countries-current,ear-740-supp1,,x",
            "JP has basis not_listed but supported=true",
        ),
        (
            "JP,Japan,true,silent,,false,openai-countries-current,ear-740-supp1,,x",
            "basis of JP must be one of current_list, older_list_only, not_listed",
        ),
    ],
)
def test_a_fact_without_a_known_public_source_or_basis_is_refused(tmp_path, row, message):
    with pytest.raises(CommandError) as excinfo:
        load(str(write_list(tmp_path / "t.csv", replace={"JP": row})))
    assert message in str(excinfo.value)
    assert not TerritoryListVersion.objects.exists()


SOURCE_BLOCK = """# Sources

```toml
[sources.openai-countries-current]
title = "OpenAI API: Supported countries and territories"
url = "{url}"
{date}
```
"""


@pytest.mark.parametrize(
    ("url", "date", "message"),
    [
        (
            "/work/shared/DOMAIN.md",
            "date = 2026-08-05\ndate_meaning = 'x'",
            "url must be a public http(s) address",
        ),
        (
            "file:///work/shared/DOMAIN.md",
            "date = 2026-08-05\ndate_meaning = 'x'",
            "url must be a public http(s) address",
        ),
        ("https://help.openai.com/x", "", "no date, and no date_unknown saying why"),
        ("https://help.openai.com/x", "date = 2026-08-05", "a date needs its date_meaning"),
        (
            "https://help.openai.com/x",
            "date = 'last year'\ndate_meaning = 'x'",
            "date must be a date",
        ),
    ],
)
def test_a_source_record_that_is_a_path_or_has_no_date_is_refused(tmp_path, url, date, message):
    sources = tmp_path / "SOURCES.md"
    sources.write_text(SOURCE_BLOCK.format(url=url, date=date))
    with pytest.raises(CommandError) as excinfo:
        load("--sources", str(sources))
    assert message in str(excinfo.value)
    assert not TerritoryListVersion.objects.exists()


def test_a_changed_source_record_makes_a_new_version_naming_it(tmp_path):
    load()
    text = (settings.BASE_DIR / "compliance" / "data" / "SOURCES.md").read_text(encoding="utf-8")
    sources = tmp_path / "SOURCES.md"
    sources.write_text(text.replace("date = 2025-06-30", "date = 2025-07-01"), encoding="utf-8")
    output = load("--sources", str(sources))
    version = TerritoryListVersion.objects.get(number=2)
    assert version.diff["sources"]["changed"] == ["eo-14312"]
    assert version.sources["eo-14312"]["date"] == "2025-07-01"
    assert "sources changed (1): eo-14312" in output


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        load(str(tmp_path / "nope.csv"))


def test_new_version_resets_outcomes_of_applications_not_yet_final(
    tmp_path, official_jp, jp, compliance_officer
):
    from compliance.services import application_screen

    territory_list_load()
    live = submit(create_application(official_jp, jp), official_jp)
    application_screen(application_id=live.pk, version=live.version)
    live.refresh_from_db()
    assert (live.state, live.screening_outcome, live.screening_list_version) == (
        State.TECHNICAL_REVIEW,
        "clear",
        1,
    )
    withdrawn = submit(create_application(official_jp, jp), official_jp)
    application_screen(application_id=withdrawn.pk, version=withdrawn.version)
    withdrawn.refresh_from_db()
    from partnerships.workflow import application_transition

    application_transition(
        application=withdrawn, actor=official_jp, action="withdraw", version=withdrawn.version
    )

    territory_list_load(
        path=write_list(
            tmp_path / "t.csv",
            replace={
                "FR": "FR,France,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,x"
            },
        )
    )
    live.refresh_from_db()
    assert (live.screening_outcome, live.screening_list_version, live.screening_summary) == (
        "",
        None,
        [],
    )
    assert live.state == State.TECHNICAL_REVIEW  # state and version untouched until re-screened
    final = CountryApplication.objects.get(pk=withdrawn.pk)
    assert final.screening_outcome == "clear"  # final applications keep their history


def test_a_list_without_the_record_the_policy_cites_is_refused():
    import json

    from compliance.models import ScreeningPolicyVersion
    from compliance.screening import POLICY_FILE

    content = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    content["territory_rules"][0]["source"] = "nowhere-list"
    ScreeningPolicyVersion.objects.create(number=1, name="p", checksum="c", content=content)
    with pytest.raises(CommandError) as excinfo:
        load()
    assert "the screening policy cites 'nowhere-list'" in str(excinfo.value)
    assert not TerritoryListVersion.objects.exists()


def test_a_policy_citing_an_unknown_source_is_refused(tmp_path):
    import json

    from compliance.models import ScreeningPolicyVersion
    from compliance.screening import POLICY_FILE

    load()
    content = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    content["territory_rules"][0]["source"] = "nowhere-list"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(CommandError, match="cites source id"):
        load("--policy", str(path))
    assert ScreeningPolicyVersion.objects.count() == 1
