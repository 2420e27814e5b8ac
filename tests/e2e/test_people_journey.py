"""In a real browser: a platform admin starts Kenya, its admin and an official join through
their invitation links, the official submits an application, and the admin deactivates
them; nobody touches a shell or /admin/ (DESIGN §5b)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command

from partnerships.models import CountryApplication, OutboxEmail, State
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Kenya onboarding passphrase 2026"


def _sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(f"{base}/")


def _sign_out(page: Any) -> None:
    page.click("header form[action$='/accounts/logout/'] button")
    page.wait_for_url("**/accounts/login/")


def _invite(page: Any, base: str, email: str, role: str) -> str:
    """Send an invitation from /people/; return the link the e-mail carries."""
    page.goto(f"{base}/people/")
    page.fill("#id_email", email)
    page.select_option("#id_role", role)
    page.select_option("#id_tenant", "KE")
    page.click("form[action$='/people/invite/'] button[type=submit]")
    page.wait_for_url(f"{base}/people/")
    assert email in page.content()
    body = OutboxEmail.objects.filter(to=email).latest("id").body
    return re.search(r"https?://\S+/accounts/invitation/[\w-]+/", body).group(0)


def _accept(page: Any, base: str, link: str, username: str) -> None:
    page.goto(base + link[link.index("/accounts/") :])
    page.fill("#id_username", username)
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    page.click("form button.primary")
    page.wait_for_url(f"{base}/")


def test_kenya_is_started_joined_worked_and_left_in_the_browser(
    browser: Any, page: Any, live_server: Any
) -> None:
    call_command("load_territories", verbosity=0)
    make_user("platform_admin", username="platform-admin")
    base = live_server.url

    # The platform admin adds Kenya and invites its first country admin.
    _sign_in(page, base, "platform-admin", PASSWORD)
    page.goto(f"{base}/countries/")
    page.fill("#id_code", "KE")
    page.fill("#id_name", "Kenya")
    page.fill("#id_languages", "en, sw")
    page.select_option("#id_time_zone", "Africa/Nairobi")
    page.click("form button.primary")
    page.wait_for_url(f"{base}/people/?tenant=KE")
    admin_link = _invite(page, base, "wanjiru@example.ke", "country_admin")
    _sign_out(page)

    # Kenya's admin joins and invites an official.
    _accept(page, base, admin_link, "wanjiru")
    official_link = _invite(page, base, "otieno@example.ke", "official")
    _sign_out(page)

    # The official joins (in a browser of their own) and submits an application.
    context = browser.new_context(viewport={"width": 375, "height": 800})
    official = context.new_page()
    _accept(official, base, official_link, "otieno")
    official.goto(f"{base}/applications/new/")
    official.fill("#id_title", "Nairobi sovereign compute")
    official.click("form.card button[type=submit]")
    official.wait_for_url("**/edit/sites/")
    official.fill("#site-0-region", "Nairobi")
    official.fill("#site-0-capacity_mw", "40")
    official.fill("#site-0-target_online_date", "2030-04-01")
    official.fill("#site-0-mix-geothermal", "60")
    official.fill("#site-0-mix-hydro", "40")
    official.click("button[name=next]")
    official.wait_for_url("**/edit/localization/")
    official.fill("#id_languages", "en, sw")
    official.check("#sector-healthcare")
    official.click("button[name=next]")
    official.wait_for_url("**/edit/sovereignty/")
    official.check("#res-yes")
    official.click("button[name=next]")
    official.wait_for_url("**/edit/security/")
    for name in ("hardware_security", "zero_trust", "encryption", "personnel_oversight"):
        official.check(f"#{name}-yes")
    official.click("button[name=next]")
    official.wait_for_url("**/edit/fund/")
    official.fill("#id_amount", "1000000000")
    official.fill("#id_currency", "KES")
    official.click("button[name=next]")
    official.wait_for_url("**/submit/")
    official.check("#confirm")
    official.click("form button.primary")
    official.wait_for_url("**/applications/*/")
    application = CountryApplication.objects.get(title="Nairobi sovereign compute")
    assert application.tenant.code == "KE" and application.state == State.SCREENING

    # Kenya's admin deactivates the official: their open session ends at once.
    _sign_in(page, base, "wanjiru", NEW_PASSWORD)
    page.goto(f"{base}/people/")
    page.click("a[href$='/deactivate/']")
    page.click("form button.danger")
    page.wait_for_url(f"{base}/people/")
    assert "Deactivated" in page.content()
    official.goto(f"{base}/applications/")
    assert "/accounts/login/" in official.url
    context.close()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_people_pages_pass_axe_and_fit_a_phone(browser: Any, live_server: Any, lang: str) -> None:
    """The people pages, with and without form errors, at 375 px: axe-core finds nothing
    and nothing is wider than the screen (the walk of tests/e2e/test_walk.py)."""
    from portal.accounts import services
    from portal.tenancy.models import Tenant
    from tests.e2e.test_walk import AXE, Walk

    call_command("load_territories", verbosity=0)
    kenya = Tenant.objects.create(code="KE", name="Kenya", languages=["en"])
    admin = make_user("platform_admin", username="platform-admin")
    official = make_user("official", kenya, "otieno")
    _, token = services.invitation_create(
        actor=admin, email="wanjiru@example.ke", role="country_admin", tenant=kenya
    )
    for user in (admin, official):
        user.set_password("demo-walk-password")
        user.save()
    walk = Walk(browser, live_server.url, lang, 375)
    try:
        walk.sign_in("platform-admin")
        walk.go("/countries/", "countries")
        walk.page.click("form button.primary")
        walk.check("countries with errors")
        walk.go("/people/", "people")
        walk.page.click("form[action$='/people/invite/'] button[type=submit]")
        walk.check("people with errors")
        walk.go(f"/people/{official.pk}/deactivate/", "deactivate confirmation")
        walk.go(f"/people/{official.pk}/reset-device/", "reset device confirmation")
        walk.go("/accounts/security/", "own security")
        walk.go("/accounts/password/change/", "password change")
        walk.page.context.close()
        # Signed out, set up like Walk.sign_in's contexts (axe-core loaded with each page).
        anonymous = walk.browser.new_context(
            viewport={"width": 375, "height": 900}, bypass_csp=True
        )
        anonymous.add_init_script(AXE)
        walk.page = anonymous.new_page()
        walk.go(f"/accounts/invitation/{token}/", "invitation")
        walk.page.click("form button.primary")
        walk.check("invitation with errors")
        walk.go("/accounts/invitation/made-up/", "invalid invitation")
        walk.go("/accounts/password/reset/", "password reset")
    finally:
        walk.close()
    problems = [p for p in walk.problems if "invalid invitation" not in p or "answered" not in p]
    assert not problems, "\n".join(problems)
