from __future__ import annotations

import pytest
from django.test import Client

from compliance.services import application_screen
from compliance.territories import territory_list_load
from partnerships.models import CountryApplication, Decision, State
from tests.compliance.conftest import submit, write_list
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db


def site(country: str) -> dict:
    return {
        "country": country,
        "region": "R",
        "capacity_mw": "10",
        "target_online_date": "2030-01-01",
        "energy_mix": {"solar": 100},
    }


def screened(official, tenant, country: str):
    application = submit(
        create_application(official, tenant, sites=[site(country)], data_residency_required=False),
        official,
    )
    application_screen(application_id=application.pk, version=application.version)
    application.refresh_from_db()
    return application


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_hold_queue_shows_findings_and_sources(territory_list, official_jp, jp, compliance_officer):
    blocked = screened(official_jp, jp, "KP")
    clear = screened(official_jp, jp, "JP")
    page = browser(compliance_officer).get("/compliance/holds/")
    assert page.status_code == 200
    html = page.content.decode()
    assert blocked.reference in html and clear.reference not in html
    assert "ofac.comprehensive_sanctions" in html
    assert "is under OFAC comprehensive sanctions" in html
    # Each finding links to the public text behind its fact, with its date; never a path.
    assert (
        '<a href="https://www.treasury.gov/resource-center/sanctions/Programs/pages/nkorea.aspx"'
        in html
    )
    assert '<time datetime="2026-07-23">2026-07-23</time>' in html  # the eCFR issue (groups)
    assert "/work/" not in html and "DOMAIN.md" not in html
    assert "screening policy v1 (screening-policy-2026-11-28)" in html
    # A blocked screening offers rejection only.
    assert 'value="reject"' in html and 'value="clear_hold"' not in html
    assert f'for="id_a{blocked.pk}-rationale"' in html  # every field has a label


def test_clear_hold_needs_a_rationale_and_shows_the_workflows_error(
    territory_list, official_jp, jp, compliance_officer
):
    held = screened(official_jp, jp, "IQ")  # D:5: needs review
    client = browser(compliance_officer)
    prefix = f"a{held.pk}"
    page = client.post(
        f"/compliance/holds/{held.pk}/decide/",
        {
            f"{prefix}-action": "clear_hold",
            f"{prefix}-version": held.version,
            f"{prefix}-rationale": "",
        },
        follow=True,
    )
    assert "A rationale is required for this action." in page.content.decode()
    assert CountryApplication.objects.get(pk=held.pk).state == State.SCREENING_HOLD
    page = client.post(
        f"/compliance/holds/{held.pk}/decide/",
        {
            f"{prefix}-action": "clear_hold",
            f"{prefix}-version": held.version,
            f"{prefix}-rationale": "End user verified; licence on file.",
        },
        follow=True,
    )
    assert "hold cleared" in page.content.decode()
    held.refresh_from_db()
    assert held.state == State.TECHNICAL_REVIEW and held.screening_hold_cleared
    assert Decision.objects.get(application=held, action="clear_hold").rationale.startswith(
        "End user verified"
    )


def test_a_blocked_application_cannot_be_cleared_but_can_be_rejected(
    territory_list, official_jp, jp, compliance_officer
):
    held = screened(official_jp, jp, "CU")
    client = browser(compliance_officer)
    prefix = f"a{held.pk}"
    page = client.post(
        f"/compliance/holds/{held.pk}/decide/",
        {
            f"{prefix}-action": "clear_hold",
            f"{prefix}-version": held.version,
            f"{prefix}-rationale": "please",
        },
        follow=True,
    )
    assert "A blocked screening cannot be cleared" in page.content.decode()
    page = client.post(
        f"/compliance/holds/{held.pk}/decide/",
        {
            f"{prefix}-action": "reject",
            f"{prefix}-version": held.version,
            f"{prefix}-rationale": "Site in Cuba (E:2, OFAC).",
        },
        follow=True,
    )
    assert "rejected" in page.content.decode()
    assert CountryApplication.objects.get(pk=held.pk).state == State.REJECTED


def test_a_stale_version_is_reported(territory_list, official_jp, jp, compliance_officer):
    held = screened(official_jp, jp, "IQ")
    prefix = f"a{held.pk}"
    page = browser(compliance_officer).post(
        f"/compliance/holds/{held.pk}/decide/",
        {
            f"{prefix}-action": "clear_hold",
            f"{prefix}-version": held.version - 1,
            f"{prefix}-rationale": "x",
        },
        follow=True,
    )
    assert "The application changed" in page.content.decode()


@pytest.mark.parametrize("role", ["reviewer", "auditor", "approver"])
def test_holds_are_for_compliance_officers_only(territory_list, official_jp, jp, role):
    held = screened(official_jp, jp, "IQ")
    client = browser(make_user(role, username=role))
    assert client.get("/compliance/holds/").status_code == 403
    response = client.post(f"/compliance/holds/{held.pk}/decide/", {})
    assert response.status_code == 403
    assert CountryApplication.objects.get(pk=held.pk).state == State.SCREENING_HOLD


def test_officials_get_403_or_404(territory_list, official_jp, jp, official_fr):
    held = screened(official_jp, jp, "IQ")
    assert browser(official_jp).get("/compliance/holds/").status_code == 403
    assert browser(official_fr).post(f"/compliance/holds/{held.pk}/decide/", {}).status_code == 404
    assert browser(official_fr).get("/compliance/territories/").status_code == 403


def test_anonymous_is_sent_to_login(territory_list):
    response = Client().get("/compliance/holds/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_territory_browser_search_filter_and_history(tmp_path, compliance_officer, auditor):
    territory_list_load()
    territory_list_load(
        path=write_list(
            tmp_path / "v2.csv",
            replace={
                "JP": "JP,Japan,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,test"
            },
        )
    )
    for user in (compliance_officer, auditor):
        client = browser(user)
        page = client.get("/compliance/territories/?q=korea&flag=unsupported")
        assert page.status_code == 200
        html = page.content.decode()
        assert "<code>KP</code>" in html and "<code>KR</code>" not in html
        assert "changed JP:" in html and "groups [] → [D:5]" in html  # the history shows the diff
        assert "Current version: v2" in html
        group = client.get("/compliance/territories/?group=E:2").content.decode()
        assert "<code>CU</code>" in group and "<code>KP</code>" not in group
        old = client.get("/compliance/territories/?version=1&q=JP").content.decode()
        assert "in list v1" in old
        # Each fact links to its source record, and the records to the public text.
        guam = client.get("/compliance/territories/?q=guam").content.decode()
        assert "Only on the provider&#x27;s older list" in guam
        assert '<a href="#src-openai-countries-older"' in guam
        assert '<tr id="src-openai-countries-older">' in guam
        assert '<a href="https://platform.openai.com/docs/supported-countries"' in guam
        assert "Screening policy: v1 (screening-policy-2026-11-28" in guam
        assert "/work/" not in guam and "DOMAIN.md" not in guam


def test_rescreen_progress_fragment_polls_until_done(tmp_path, compliance_officer):
    from compliance.models import TerritoryListVersion

    territory_list_load()
    territory_list_load(
        path=write_list(
            tmp_path / "v2.csv",
            replace={
                "JP": "JP,Japan,true,current_list,D:5,false,openai-countries-current,ear-740-supp1,,test"
            },
        )
    )
    from django.utils import timezone

    TerritoryListVersion.objects.filter(number=2).update(
        rescreen_total=10, rescreen_done=3, rescreen_started_at=timezone.now()
    )
    client = browser(compliance_officer)
    fragment = client.get("/compliance/territories/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "3 of 10 applications" in fragment
    TerritoryListVersion.objects.filter(number=2).update(rescreen_done=10)
    fragment = client.get("/compliance/territories/progress/").content.decode()
    assert "hx-trigger" not in fragment and "is complete" in fragment


def test_dashboard_panel_counts_holds_for_compliance_officers(
    territory_list, official_jp, jp, compliance_officer, reviewer
):
    screened(official_jp, jp, "IQ")
    screened(official_jp, jp, "KP")
    html = browser(compliance_officer).get("/").content.decode()
    assert "Screening holds" in html and '<span class="count">2</span>' in html
    assert "Screening holds" not in browser(reviewer).get("/").content.decode()


def test_review_page_links_each_finding_and_labels_the_systems_decision(
    territory_list, official_jp, jp, compliance_officer, auditor
):
    held = screened(official_jp, jp, "GU")
    assert held.state == State.SCREENING_HOLD
    for user in (compliance_officer, auditor):
        html = browser(user).get(f"/review/{held.pk}/").content.decode()
        assert "territory.older_list_only" in html
        assert '<a href="https://platform.openai.com/docs/supported-countries"' in html
        assert "date unknown" in html  # the older list's record says its date is not known
        assert f'<a href="/review/{held.pk}/"' in html  # the application's own answers
        assert "The system (automatic screening)" in html
        assert "needs_review against territory list v1" in html
        assert "/work/" not in html and "DOMAIN.md" not in html
    # The country's officials see the public state, labelled as the system's, not the reasons.
    page = browser(official_jp).get(f"/applications/{held.pk}/").content.decode()
    assert "by the system: automatic screening" in page
    assert "older_list_only" not in page and "platform.openai.com" not in page


def test_a_site_in_the_applying_country_shows_one_finding_for_the_country(
    territory_list, official_jp, jp, compliance_officer
):
    application = screened(official_jp, jp, "JP")
    html = browser(compliance_officer).get(f"/review/{application.pk}/").content.decode()
    assert html.count("tenant country JP") == 1
    assert "site country JP" not in html
    assert "tenant country, site country" in html
