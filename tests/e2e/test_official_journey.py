"""In a real browser (Debian chromium + playwright): an official goes from login to a
submitted application, in each of the five languages; keyboard and right-to-left checks."""

from __future__ import annotations

from typing import Any

import pytest

from partnerships.models import CountryApplication, State
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _login(page: Any, base: str, username: str, lang: str) -> None:
    prefix = "" if lang == "en" else f"/{lang}"
    page.goto(f"{base}{prefix}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")  # keyboard only
    page.wait_for_url(f"{base}{prefix}/")


@pytest.mark.parametrize("lang", ["en", "ja", "fr", "es", "ar"])
def test_official_submits_an_application_in_the_browser(
    page: Any, live_server: Any, lang: str
) -> None:
    from portal.tenancy.models import Tenant

    tenant = Tenant.objects.create(code="JP", name="Japan", languages=["ja"])
    make_user("official", tenant, f"official-{lang}")
    base = live_server.url
    prefix = "" if lang == "en" else f"/{lang}"
    _login(page, base, f"official-{lang}", lang)
    html_dir = page.get_attribute("html", "dir")
    assert html_dir == ("rtl" if lang == "ar" else "ltr")

    page.goto(f"{base}{prefix}/applications/new/")
    page.fill("#id_title", f"Campus {lang}")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/edit/sites/")
    page.fill("#site-0-region", "Kansai")
    page.fill("#site-0-capacity_mw", "120")
    page.fill("#site-0-target_online_date", "2030-04-01")
    page.fill("#site-0-mix-solar", "40")
    page.fill("#site-0-mix-nuclear", "30")
    page.fill("#site-0-mix-gas", "30")
    # The live estimate arrives through htmx while typing.
    # A locator wait, not wait_for_function: the portal's CSP (no 'unsafe-eval') refuses the
    # string evaluation that wait_for_function needs.
    page.locator("#estimate-0", has_text="171").wait_for()
    page.click("button[name=next]")
    page.wait_for_url("**/edit/localization/")
    page.fill("#id_languages", "ja")
    page.check("#sector-healthcare")
    page.click("button[name=next]")
    page.wait_for_url("**/edit/sovereignty/")
    page.check("#res-yes")
    page.click("button[name=next]")
    page.wait_for_url("**/edit/security/")
    for name in ("hardware_security", "zero_trust", "encryption", "personnel_oversight"):
        page.check(f"#{name}-yes")
    page.click("button[name=next]")
    page.wait_for_url("**/edit/fund/")
    page.fill("#id_amount", "50000000000")
    page.fill("#id_currency", "JPY")
    page.click("button[name=next]")
    page.wait_for_url("**/submit/")
    assert page.get_attribute("#completeness", "value") == "100"
    page.check("#confirm")
    page.click("form button.primary")
    page.wait_for_url("**/applications/*/")
    application = CountryApplication.objects.get(title=f"Campus {lang}")
    assert application.state == State.SCREENING
    assert application.sites.get().estimated_annual_co2_tonnes == 171354


def test_inline_errors_are_announced_and_nothing_saved(page: Any, live_server: Any) -> None:
    from portal.tenancy.models import Tenant

    tenant = Tenant.objects.create(code="FR", name="France", languages=["fr"])
    make_user("official", tenant, "official-err")
    _login(page, live_server.url, "official-err", "en")
    page.goto(f"{live_server.url}/applications/new/")
    page.fill("#id_title", "Errors")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/edit/sites/")
    page.fill("#site-0-region", "Paris")
    page.fill("#site-0-capacity_mw", "-3")
    page.fill("#site-0-target_online_date", "2030-01-01")
    page.fill("#site-0-mix-solar", "60")
    page.click("button[name=save]")
    # One announced summary, focused, linking to each field; each error beside its field.
    assert page.locator("[role=alert]").count() == 1
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary a").count() >= 2
    assert page.get_attribute("#site-0-capacity_mw", "aria-invalid") == "true"
    assert "sum to 100" in page.content()
    assert not CountryApplication.objects.get(title="Errors").sites.exists()


def test_skip_link_is_the_first_tab_stop_and_inputs_are_labelled(
    page: Any, live_server: Any
) -> None:
    from portal.tenancy.models import Tenant

    tenant = Tenant.objects.create(code="NO", name="Norway", languages=["no"])
    make_user("official", tenant, "official-kb")
    _login(page, live_server.url, "official-kb", "en")
    page.goto(f"{live_server.url}/applications/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).length"
    )
    assert unlabelled == 0
