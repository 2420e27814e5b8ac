"""The officials' and reviewers' pages, through Django's test client (the browser run is in e2e/)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerships.models import Attachment, CountryApplication, State
from tests.factories import REAL_PDF, REAL_PNG, RLS_STATEMENTS, create_application, make_user

pytestmark = pytest.mark.django_db

PDF, PNG = REAL_PDF, REAL_PNG


def test_official_creates_edits_and_submits_through_the_pages(client, official_jp, jp):
    client.force_login(official_jp)
    response = client.post("/applications/new/", {"title": "Kansai campus"})
    application = CountryApplication.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/applications/{application.pk}/edit/sites/"
    )
    steps = [
        (
            "sites",
            {
                "site_count": "1",
                "site-0-country": "JP",
                "site-0-region": "Kansai",
                "site-0-capacity_mw": "120",
                "site-0-target_online_date": "2029-04-01",
                "site-0-mix-solar": "40",
                "site-0-mix-nuclear": "30",
                "site-0-mix-gas": "30",
            },
        ),
        ("localization", {"languages": "ja en", "sectors": ["healthcare", "education"]}),
        (
            "sovereignty",
            {"data_residency_required": "yes", "data_categories": "health records, tax"},
        ),
        (
            "security",
            {
                "hardware_security": "yes",
                "zero_trust": "yes",
                "encryption": "yes",
                "personnel_oversight": "no",
            },
        ),
        ("fund", {"amount": "50000000000", "currency": "JPY"}),
    ]
    for step, data in steps:
        application.refresh_from_db()
        response = client.post(
            f"/applications/{application.pk}/edit/{step}/",
            {**data, "version": application.version, "next": "1"},
        )
        assert response.status_code == 302, (step, response.content.decode()[:3000])
    application.refresh_from_db()
    assert application.sites.get().estimated_annual_co2_tonnes is not None
    assert application.languages == ["ja", "en"] and application.personnel_oversight is False
    page = client.get(f"/applications/{application.pk}/submit/")
    assert "Before you can submit" not in page.content.decode()
    response = client.post(
        f"/applications/{application.pk}/submit/", {"version": application.version, "confirm": "1"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SCREENING and application.submitted_by == official_jp


def test_step_errors_are_shown_inline_and_change_nothing(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    response = client.post(
        f"/applications/{application.pk}/edit/sites/",
        {
            "site_count": "1",
            "site-0-country": "JP",
            "site-0-region": "K",
            "site-0-capacity_mw": "-1",
            "site-0-target_online_date": "2029-01-01",
            "site-0-mix-solar": "50",
            "version": application.version,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "sum to 100" in html
    application.refresh_from_db()
    assert application.version == 1 and application.sites.get().capacity_mw == 120


def test_submit_lists_what_is_missing(client, official_jp, jp):
    application = create_application(official_jp, jp, languages=[], sites=[])
    client.force_login(official_jp)
    html = client.get(f"/applications/{application.pk}/submit/").content.decode()
    assert "at least one data-centre site" in html and "the assistant&#x27;s languages" in html
    client.post(f"/applications/{application.pk}/submit/", {"version": 1, "confirm": "1"})
    application.refresh_from_db()
    assert application.state == State.DRAFT


def test_live_estimate_fragment(client, official_jp):
    client.force_login(official_jp)
    html = client.get(
        "/applications/estimate/",
        {
            "prefix": "s",
            "s-capacity_mw": "120",
            "s-mix-solar": "40",
            "s-mix-nuclear": "30",
            "s-mix-gas": "30",
        },
    ).content.decode()
    assert "171,354 t" in html  # thousands separators, whole tonnes (one formatter)
    assert (
        "sums to 100"
        in client.get(
            "/applications/estimate/", {"prefix": "s", "s-capacity_mw": "1", "s-mix-solar": "40"}
        ).content.decode()
    )


@pytest.mark.parametrize(
    ("name", "content", "accepted"),
    [
        ("report.pdf", PDF, True),
        ("chart.png", PNG, True),
        ("report.png", PDF, True),  # a PDF renamed .png is stored as the PDF it is
        (
            "tool.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100,
            False,
        ),  # an executable renamed .pdf
        ("script.csv", b"#!/bin/sh\x00\x01rm -rf /", False),
        ("sites.csv", b"name,capacity\nKansai,120\n", True),
    ],
)
def test_attachment_types_are_sniffed_not_trusted(client, official_jp, jp, name, content, accepted):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    response = client.post(
        f"/applications/{application.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )
    assert (response.status_code == 302) is accepted, response.content.decode()[:500]
    if accepted:
        attachment = Attachment.objects.get()
        # Kept under the extension of what it is (report.png holding a PDF: report.pdf).
        assert attachment.original_name.rsplit(".", 1)[0] == name.rsplit(".", 1)[0]
        assert attachment.original_name.endswith(
            {"application/pdf": ".pdf", "image/png": ".png", "text/csv": ".csv"}[
                attachment.content_type
            ]
        )
        assert attachment.content_type == {b"%PDF": "application/pdf", b"\x89PN": "image/png"}.get(
            content[:4] if content[:4] == b"%PDF" else content[:3], "text/csv"
        )
        download = client.get(f"/applications/{application.pk}/attachments/{attachment.pk}/")
        assert b"".join(download.streaming_content) == content
    else:
        assert not Attachment.objects.exists()


def test_attachment_size_cap(api, official_jp, jp, settings):
    settings.PORTAL_MAX_ATTACHMENT_BYTES = 100
    application = create_application(official_jp, jp)
    response = api.as_user(official_jp).post(
        f"/api/v1/applications/{application.pk}/attachments/",
        {"file": SimpleUploadedFile("big.pdf", PDF + b"0" * 200)},
        format="multipart",
    )
    assert response.status_code == 413
    assert not Attachment.objects.exists()


def test_attachment_api_stores_sha256_and_isolates(api, official_jp, jp, official_fr):
    import hashlib

    application = create_application(official_jp, jp)
    response = api.as_user(official_jp).post(
        f"/api/v1/applications/{application.pk}/attachments/",
        {"file": SimpleUploadedFile("r.pdf", PDF), "evidence_for": "encryption"},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    download = response.json()["download_url"]
    assert api.get(download).status_code == 200
    api.as_user(official_fr)
    assert api.get(download).status_code == 404
    assert api.get(f"/api/v1/applications/{application.pk}/attachments/").status_code == 404


def test_other_countrys_official_gets_404_on_every_page(client, official_jp, jp, official_fr):
    application = create_application(official_jp, jp)
    client.force_login(official_fr)
    for url in (
        f"/applications/{application.pk}/",
        f"/applications/{application.pk}/edit/sites/",
        f"/applications/{application.pk}/submit/",
        f"/applications/{application.pk}/attachments/",
        f"/applications/{application.pk}/attachments/1/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/applications/{application.pk}/withdraw/", {"version": 1}).status_code == 404
    )
    assert application.reference not in client.get("/applications/").content.decode()


def test_officials_do_not_see_internal_deliberation(client, official_jp, jp):
    from partnerships import workflow

    application = create_application(official_jp, jp)
    application = workflow.application_transition(
        application=application,
        actor=official_jp,
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
    reviewer = make_user("reviewer")
    workflow.application_transition(
        application=application,
        actor=reviewer,
        action="request_info",
        version=application.version,
        rationale="What is the PUE of the Kansai site?",
        message_to_country="Please answer our question.",
    )
    application.refresh_from_db()
    workflow.application_transition(
        application=application,
        actor=official_jp,
        action="submit",
        version=application.version,
    )
    client.force_login(official_jp)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "What is the PUE of the Kansai site?" in html  # questions are released
    assert "Please answer our question." in html
    assert "technical_review" not in html and "reviewer" not in html


def test_dashboard_shows_what_waits(client, official_jp, jp):
    create_application(official_jp, jp)
    client.force_login(official_jp)
    html = client.get("/").content.decode()
    assert "Drafts to complete" in html


@pytest.mark.parametrize("lang", ["ja", "fr", "es", "ar"])
def test_pages_render_in_every_language(client, official_jp, jp, lang):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    for url in (
        "/",
        "/applications/",
        f"/applications/{application.pk}/",
        f"/applications/{application.pk}/edit/sites/",
        f"/applications/{application.pk}/submit/",
    ):
        response = client.get(f"/{lang}{url}")
        assert response.status_code == 200, url
        assert f'lang="{lang}"' in response.content.decode()


def test_review_pages_for_programme_staff_only(client, official_jp, jp):
    client.force_login(official_jp)
    assert client.get("/review/").status_code == 403
    reviewer = make_user("reviewer")
    client.force_login(reviewer)
    assert client.get("/review/").status_code == 200
    assert client.get("/review/board/").status_code == 200


def test_review_queue_pages_by_keyset_with_constant_queries(
    client, official_jp, jp, django_assert_num_queries
):
    from partnerships.selectors import QUEUE_PAGE

    base = create_application(official_jp, jp)
    rows = []
    for i in range(QUEUE_PAGE + 5):
        base.pk = None
        base.reference = f"JP-2026-9{i:03d}"
        base.state = State.TECHNICAL_REVIEW
        base.submitted_at = base.created_at
        rows.append(
            CountryApplication.objects.create(
                **{
                    f.attname: getattr(base, f.attname)
                    for f in CountryApplication._meta.concrete_fields
                    if f.attname != "id"
                }
            )
        )
    client.force_login(make_user("reviewer"))
    # Exactly the same number on both pages: the keyset page costs nothing per row. (Four:
    # session, user, roles, the page's rows; the RLS scope rides on the first of them.)
    with django_assert_num_queries(4 + RLS_STATEMENTS):
        first = client.get("/review/", {"state": "technical_review"})
    assert len(first.context["queue"]) == QUEUE_PAGE
    cursor = first.context["next_cursor"]
    assert cursor
    with django_assert_num_queries(4 + RLS_STATEMENTS):
        second = client.get("/review/", {"state": "technical_review", "after": cursor})
    assert len(second.context["queue"]) == 5 and not second.context["next_cursor"]
    seen = {a.pk for a in first.context["queue"]} | {a.pk for a in second.context["queue"]}
    assert seen == {r.pk for r in rows}
