"""Issue #14, through Django's test client: the sites step, error presentation, the decision
form (keeps what was typed, no default, confirmation), the reply to an information request,
labels and locale formatting. The browser walk with axe-core is tests/e2e/test_walk.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from partnerships import workflow
from partnerships.models import CountryApplication, InformationReply, State
from portal.audit.models import AuditEvent
from portal.ui import formats
from tests.factories import REAL_PDF, create_application, make_user

pytestmark = pytest.mark.django_db

PDF = REAL_PDF


def _in_review(official: Any, tenant: Any, state: str = State.TECHNICAL_REVIEW) -> Any:
    application = create_application(official, tenant)
    application = workflow.application_transition(
        application=application,
        actor=official,
        action="submit",
        version=application.version,
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


# --- Sites step --------------------------------------------------------------------------------


def test_revisited_sites_step_has_no_phantom_block_and_saves(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    url = f"/applications/{application.pk}/edit/sites/"
    html = client.get(url).content.decode()
    # One saved site, no pre-filled blank block; an explicit button adds one.
    assert 'name="site_count" value="1"' in html
    assert 'name="add_site"' in html
    added = client.post(url, {"site_count": "1", "add_site": "1", **_site(0)}).content.decode()
    assert 'name="site_count" value="2"' in added
    assert (
        'id="site-1-country" name="site-1-country" maxlength="2" size="3" autocomplete="off" value=""'
        in added
    )
    assert CountryApplication.objects.get().version == application.version  # nothing saved
    # Saving with the untouched new block saves the one site, no errors.
    response = client.post(
        url, {"site_count": "2", "next": "1", "version": application.version, **_site(0)}
    )
    assert response.status_code == 302
    assert application.sites.count() == 1


def test_removing_a_site_leaves_one_blank_block_not_an_error(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    url = f"/applications/{application.pk}/edit/sites/"
    response = client.post(
        url,
        {
            "site_count": "1",
            "site-0-delete": "1",
            "save": "1",
            "version": application.version,
            **_site(0),
        },
    )
    assert response.status_code == 302
    assert application.sites.count() == 0
    html = client.get(url).content.decode()
    assert 'name="site_count" value="1"' in html and "error-summary" not in html


def test_empty_country_means_the_applying_country(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    site = _site(0)
    site["site-0-country"] = ""
    client.post(
        f"/applications/{application.pk}/edit/sites/",
        {"site_count": "1", "save": "1", "version": application.version, **site},
    )
    assert application.sites.get().country == "JP"


def _site(i: int, **overrides: str) -> dict[str, str]:
    data = {
        f"site-{i}-country": "JP",
        f"site-{i}-region": "Kansai",
        f"site-{i}-capacity_mw": "120",
        f"site-{i}-target_online_date": "2030-04-01",
        f"site-{i}-mix-solar": "40",
        f"site-{i}-mix-nuclear": "30",
        f"site-{i}-mix-gas": "30",
    }
    data.update({f"site-{i}-{k}": v for k, v in overrides.items()})
    return data


# --- Error presentation -------------------------------------------------------------------------


def test_all_site_errors_at_once_next_to_their_fields_with_a_summary(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    translation.activate("ja")
    response = client.post(
        f"/ja/applications/{application.pk}/edit/sites/",
        {
            "site_count": "1",
            "save": "1",
            "version": application.version,
            **_site(0, capacity_mw="abc", country="ZZ", **{"mix-solar": "10"}),
        },
    )
    html = response.content.decode()
    assert application.sites.get().region == "Kansai"  # nothing changed
    # Each field says it is invalid and points at its own message.
    for field in ("capacity_mw", "country"):
        assert (
            f'id="site-0-{field}"' in html
            and f'aria-invalid="true" aria-describedby="err-sites-0-{field}"' in html
        ), field
        assert f'<div class="field-error" id="err-sites-0-{field}">' in html
    assert 'aria-describedby="err-sites-0-energy_mix"' in html
    # The summary links to each field, names it in the reader's language, no raw key.
    start = html.index('<div class="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    assert summary.count("<li>") == 3
    assert 'href="#site-0-capacity_mw"' in summary and "容量" not in "capacity_mw"
    assert "capacity_mw" not in re.sub(r'href="[^"]*"', "", summary)
    assert 'role="alert"' in summary and "errorlist" not in html
    translation.deactivate()


def test_amounts_are_accepted_as_the_locale_writes_them(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    for prefix, text, expected in (
        ("", "1,000,000", 1000000),
        ("/fr", "2 500 000", 2500000),
        ("/es", "3.000.000", 3000000),
    ):
        application.refresh_from_db()
        response = client.post(
            f"{prefix}/applications/{application.pk}/edit/fund/",
            {"amount": text, "currency": "JPY", "save": "1", "version": application.version},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        application.refresh_from_db()
        assert application.startup_fund_amount == expected


def test_fund_error_is_next_to_the_amount_with_a_hint(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    html = client.post(
        f"/applications/{application.pk}/edit/fund/",
        {"amount": "1.000.000", "currency": "XXQ", "save": "1", "version": application.version},
    ).content.decode()
    assert 'aria-describedby="err-startup_fund-amount"' in html
    assert 'aria-describedby="err-startup_fund-currency"' in html  # both at once
    assert "for example 1,000,000" in html
    assert 'href="#id_amount"' in html and 'href="#id_currency"' in html


def test_parse_decimal_refuses_what_is_not_a_number() -> None:
    for text in ("", "abc", "NaN", "Infinity", "١٢٣", "1,00,0", "1e5"):
        with pytest.raises(ValueError):
            formats.parse_decimal(text)


# --- Decision form ------------------------------------------------------------------------------


@pytest.fixture
def reviewer(db: None) -> Any:
    return make_user("reviewer", username="rev")


def test_decision_form_has_no_default_action_and_keeps_typed_text(
    client, official_jp, jp, reviewer
):
    application = _in_review(official_jp, jp)
    client.force_login(reviewer)
    html = client.get(f"/review/{application.pk}/").content.decode()
    assert " checked" not in html[html.index('name="action"') - 200 : html.index("Record decision")]
    # Reject without a rationale: the form comes back with what was typed.
    response = client.post(
        f"/review/{application.pk}/act/",
        {
            "action": "reject",
            "rationale": "",
            "message_to_country": "Sorry, not now.",
            "version": application.version,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Sorry, not now.</textarea>" in html
    assert 'id="action-reject" value="reject" checked' in html
    assert 'aria-describedby="err-rationale"' in html and 'href="#rationale"' in html
    # No action chosen at all is an error too, not a silent approval.
    response = client.post(f"/review/{application.pk}/act/", {"version": application.version})
    assert (
        response.status_code == 400
        and 'href="#action-approve_technical"' in response.content.decode()
    )
    application.refresh_from_db()
    assert application.state == State.TECHNICAL_REVIEW


def test_reject_asks_for_confirmation_then_records(client, official_jp, jp, reviewer):
    application = _in_review(official_jp, jp)
    client.force_login(reviewer)
    data = {"action": "reject", "rationale": "Out of scope.", "version": application.version}
    response = client.post(f"/review/{application.pk}/act/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This cannot be undone." in html and 'name="confirmed" value="1"' in html
    application.refresh_from_db()
    assert application.state == State.TECHNICAL_REVIEW
    # "Go back and change" returns to the form with the text.
    back = client.post(f"/review/{application.pk}/act/", {**data, "edit": "1"}).content.decode()
    assert "Out of scope.</textarea>" in back
    response = client.post(f"/review/{application.pk}/act/", {**data, "confirmed": "1"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.REJECTED


def test_reversible_decisions_need_no_confirmation(client, official_jp, jp, reviewer):
    application = _in_review(official_jp, jp)
    client.force_login(reviewer)
    response = client.post(
        f"/review/{application.pk}/act/",
        {"action": "approve_technical", "version": application.version},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SECURITY_REVIEW


def test_stale_version_reports_conflict_and_keeps_text(client, official_jp, jp, reviewer):
    application = _in_review(official_jp, jp)
    client.force_login(reviewer)
    response = client.post(
        f"/review/{application.pk}/act/",
        {"action": "request_info", "rationale": "Which grid?", "version": application.version - 1},
    )
    assert response.status_code == 409
    assert "Which grid?</textarea>" in response.content.decode()


def test_withdraw_asks_for_confirmation(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    url = f"/applications/{application.pk}/withdraw/"
    response = client.post(url, {"version": application.version, "rationale": "Merged"})
    assert response.status_code == 200 and "This cannot be undone." in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.DRAFT
    client.post(url, {"version": application.version, "rationale": "Merged", "confirmed": "1"})
    application.refresh_from_db()
    assert application.state == State.WITHDRAWN


# --- Reply to an information request ------------------------------------------------------------


def _info_requested(official: Any, tenant: Any, reviewer: Any) -> Any:
    application = _in_review(official, tenant)
    return workflow.application_transition(
        application=application,
        actor=reviewer,
        action="request_info",
        version=application.version,
        rationale="Which grid operator supplies the site?",
    )


def test_official_replies_with_text_and_a_file_reviewers_see_it(client, official_jp, jp, reviewer):
    application = _info_requested(official_jp, jp, reviewer)
    client.force_login(official_jp)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert f'action="/applications/{application.pk}/reply/"' in html
    response = client.post(
        f"/applications/{application.pk}/reply/",
        {"text": "Kansai Electric.", "files": [SimpleUploadedFile("grid.pdf", PDF)]},
    )
    assert response.status_code == 302
    reply = InformationReply.objects.get()
    assert reply.text == "Kansai Electric." and reply.attachments.get().original_name == "grid.pdf"
    event = AuditEvent.objects.filter(verb="application.info_replied").get()
    assert event.object_id == str(application.pk) and event.changes["files"] == 1
    # Reviewers read it beside the question, and in the decision history.
    client.force_login(reviewer)
    html = client.get(f"/review/{application.pk}/").content.decode()
    qa = html[html.index('id="qa-h"') : html.index("</section>", html.index('id="qa-h"'))]
    assert "Which grid operator" in qa and "Kansai Electric." in qa and "grid.pdf" in qa
    history = html[html.index('id="dec-h"') :]
    assert "Answer from the country" in history and "Kansai Electric." in history


def test_empty_reply_is_an_error_and_a_bad_file_stores_nothing(client, official_jp, jp, reviewer):
    application = _info_requested(official_jp, jp, reviewer)
    client.force_login(official_jp)
    response = client.post(f"/applications/{application.pk}/reply/", {"text": "  "})
    assert (
        response.status_code == 400 and 'aria-describedby="err-text"' in response.content.decode()
    )
    response = client.post(
        f"/applications/{application.pk}/reply/",
        {"text": "See file.", "files": [SimpleUploadedFile("x.pdf", b"MZ\x90 not a pdf")]},
    )
    assert response.status_code == 400
    assert "See file.</textarea>" in response.content.decode()
    assert not InformationReply.objects.exists()
    assert not AuditEvent.objects.filter(verb="application.info_replied").exists()


def test_only_the_countrys_officials_reply_and_only_when_asked(
    client, official_jp, jp, official_fr, reviewer
):
    application = _in_review(official_jp, jp)
    client.force_login(official_jp)
    response = client.post(f"/applications/{application.pk}/reply/", {"text": "Unasked"})
    assert response.status_code == 302 and not InformationReply.objects.exists()
    application = _info_requested(official_jp, jp, make_user("reviewer", username="rev2"))
    client.force_login(official_fr)
    assert client.post(f"/applications/{application.pk}/reply/", {"text": "x"}).status_code == 404
    client.force_login(reviewer)
    assert client.post(f"/applications/{application.pk}/reply/", {"text": "x"}).status_code == 403
    assert not InformationReply.objects.exists()


# --- Labels and formatting ----------------------------------------------------------------------


def test_staff_pages_show_labels_not_codes(client, official_jp, jp, reviewer):
    application = _in_review(official_jp, jp)
    client.force_login(reviewer)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    timeline = html[html.index('id="timeline-h"') :]
    assert "screen_clear" not in timeline and "technical_review" not in timeline
    assert "Screening: clear" in timeline and "Technical review" in timeline


def test_officials_do_not_see_the_version_number(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "Version" not in html


@pytest.mark.parametrize(
    ("lang", "number", "money", "country"),
    [
        ("en", "1,234,567.5", "¥50,000,000,000", "Japan"),
        ("ja", "1,234,567.5", "￥50,000,000,000", "日本"),
        ("ar", "1,234,567.5", "50,000,000,000", "اليابان"),
        ("fr", "1\u202f234\u202f567,5", "50\u202f000\u202f000\u202f000", "Japon"),
    ],
)
def test_one_formatter_per_language(lang, number, money, country):
    from decimal import Decimal

    with translation.override(lang):
        assert formats.number(Decimal("1234567.5")) == number
        assert money in formats.money(Decimal("50000000000"), "JPY")
        assert formats.country_name("JP") == country


def test_summary_uses_the_formatter_in_arabic(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    html = client.get(f"/ar/applications/{application.pk}/").content.decode()
    assert "اليابان" in html  # country name from CLDR
    assert "171,354" in html  # CO₂ with the Arabic (latn) group separator
    assert "1234567,5" not in html


# --- Obligations and the approver's board ---------------------------------------------------


def _approved_with_condition(official: Any, tenant: Any) -> Any:
    import datetime as dt

    application = _in_review(official, tenant)
    for role, action, extra in (
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "medium"}),
        (
            "us_coordinator",
            "concur",
            {
                "rationale": "Coordinated.",
                "conditions": [workflow.ConditionInput("VEU approval first", dt.date(2031, 1, 31))],
            },
        ),
        ("approver", "approve", {}),
    ):
        application = workflow.application_transition(
            application=application,
            actor=make_user(role, username=f"{role}-x"),
            action=action,
            version=application.version,
            **extra,
        )
    return application


def test_official_sees_obligations_due_on_dashboard_list_and_first_on_the_page(
    client, official_jp, jp
):
    application = _approved_with_condition(official_jp, jp)
    client.force_login(official_jp)
    html = client.get("/").content.decode()
    panel = html[html.index("Obligations due") - 200 : html.index("Obligations due")]
    assert '<span class="count">1</span>' in panel
    html = client.get("/applications/").content.decode()
    assert "You: provide evidence" in html
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert html.index("VEU approval first") < html.index('id="timeline-h"')
    assert html.index('id="obl-h"') < html.index("Summary")


def test_approver_board_is_in_the_nav_with_due_risk_and_concurrence(client, official_jp, jp):
    application = _in_review(official_jp, jp)
    for role, action, extra in (
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "high"}),
        ("us_coordinator", "concur", {"rationale": "Coordinated with State."}),
    ):
        application = workflow.application_transition(
            application=application,
            actor=make_user(role, username=f"{role}-b"),
            action=action,
            version=application.version,
            **extra,
        )
    approver = make_user("approver", username="appr")
    client.force_login(approver)
    assert 'href="/review/board/"' in client.get("/").content.decode()
    html = client.get("/review/board/").content.decode()
    assert application.reference in html
    assert "High" in html and "us_coordinator-b" in html and "Coordinated with State." in html
    assert "Due" in html and "Japan" in html


def test_attachment_error_has_a_summary_and_no_errorlist(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    response = client.post(
        f"/applications/{application.pk}/attachments/",
        {"file": SimpleUploadedFile("x.pdf", b"MZ not a pdf")},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary"' in html and 'href="#id_file"' in html
    assert "errorlist" not in html and 'aria-describedby="upload-errors"' in html
