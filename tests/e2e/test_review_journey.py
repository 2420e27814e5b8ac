"""In a real browser: the five programme roles take a submitted application to approval,
with a condition the country then sees; and a reviewer's request for information reaches
the country."""

from __future__ import annotations

from typing import Any

import pytest

from partnerships import workflow
from partnerships.models import CountryApplication, Obligation, State
from tests.factories import PASSWORD, create_application, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")
    return page


def _screened_application(username: str) -> CountryApplication:
    from portal.tenancy.models import Tenant

    tenant = Tenant.objects.create(code="NO", name="Norway", languages=["no"])
    official = make_user("official", tenant, username)
    application = create_application(official, tenant, title="Narvik campus")
    application = workflow.application_transition(
        application=application,
        actor=official,
        action="submit",
        version=1,
    )
    workflow.application_screened(
        application_id=application.pk,
        expected_version=application.version,
        outcome="clear",
        list_version=1,
        summary=[],
    )
    application.refresh_from_db()
    return application


def test_programme_roles_take_an_application_to_approval(browser: Any, live_server: Any) -> None:
    application = _screened_application("official-no")
    steps = [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"#risk": "low"}),
        (
            "us_coordinator",
            "concur",
            {
                "#rationale": "Coordinated.",
                "#cond-1": "No 3A090 chips before VEU approval",
                "#cond-due-1": "2030-06-30",
            },
        ),
        ("approver", "approve", {"#message": "Welcome to the programme."}),
    ]
    for role, action, fields in steps:
        make_user(role, username=role)
        page = _sign_in(browser, live_server.url, role)
        page.goto(f"{live_server.url}/review/")
        page.click(f"text={application.reference}")
        page.check(f"#action-{action}")
        for selector, value in fields.items():
            if selector == "#risk":
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        page.click("form[action$='/act/'] button[type=submit].primary")
        if action in workflow.IRREVERSIBLE_ACTIONS:
            # What cannot be undone asks for a confirmation step first.
            assert "This cannot be undone." in page.content()
            page.click("button[name=confirmed]")
        page.wait_for_url(f"{live_server.url}/review/")
        assert "Decision recorded." in page.content()
        page.context.close()
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert (
        Obligation.objects.get(application=application).text == "No 3A090 chips before VEU approval"
    )

    page = _sign_in(browser, live_server.url, "official-no")
    page.goto(f"{live_server.url}/applications/{application.pk}/")
    html = page.content()
    assert "Approved" in html and "Welcome to the programme." in html
    assert "No 3A090 chips before VEU approval" in html
    assert "approve_security" not in html  # internal deliberation stays internal


def test_four_eyes_refusal_is_explained_in_the_browser(browser: Any, live_server: Any) -> None:
    application = _screened_application("official-no2")
    both = make_user("reviewer", username="double-hat")
    make_user("security_reviewer", username="double-hat")
    page = _sign_in(browser, live_server.url, "double-hat")
    page.goto(f"{live_server.url}/review/{application.pk}/")
    page.check("#action-approve_technical")
    page.click("form[action$='/act/'] button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/review/")
    page.goto(f"{live_server.url}/review/{application.pk}/")
    # The second approving action is not even offered to the same person.
    assert page.locator("#action-approve_security").count() == 0
    assert page.locator("#action-request_info").count() == 1
    assert both.username == "double-hat"
