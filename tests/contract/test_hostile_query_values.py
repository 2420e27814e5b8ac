"""The kinds behind issue #10's table, swept across pages and endpoints: every query value a
page or list reads, given each hostile spelling, answers below 500 (a form error, an ignored
filter or a 400), and a raw client value never reaches the database unparsed."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerships.models import Attachment
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

HOSTILE = ["²", "٣", "\x00", "NaN", "Infinity", "9" * 30, "-1", "1e9", "9999-12-31",
           "0001-01-01", "%", "\u200b", "a" * 5000, "'; --", "|", "none|²"]  # fmt: skip

PAGES = {
    "reviewer": [
        ("/review/", ["state", "tenant", "after", "overdue", "mine"]),
        ("/applications/estimate/", ["prefix", "-capacity_mw", "-mix-solar", "-pue"]),
        ("/api/v1/applications/", ["state", "tenant", "search", "cursor", "page_size"]),
        ("/api/v1/territories/", ["supported", "sanctioned", "group", "search", "version"]),
    ],
    "official": [
        ("/commitments/", ["country", "vehicle", "status", "before"]),
        ("/commitments/export/", ["country", "vehicle", "status"]),
        ("/api/v1/commitments/", ["country", "vehicle", "status", "cursor"]),
        ("/api/v1/applications/", ["state", "tenant", "search", "page_size"]),
    ],
    "auditor": [
        (
            "/audit/",
            [
                "tenant",
                "actor",
                "verb",
                "object_type",
                "object_id",
                "since",
                "until",
                "after",
                "before",
            ],
        ),
        ("/audit/object/application/1/", ["after", "before", "as_of"]),
        (
            "/api/v1/audit-events/",
            ["tenant", "actor", "verb", "object_id", "since", "until", "cursor"],
        ),
    ],
    "compliance_officer": [
        ("/compliance/territories/", ["q", "group", "flag", "version"]),
        ("/api/v1/territory-versions/", ["cursor"]),
    ],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_no_hostile_query_value_is_a_server_error(client, jp, official_jp, role):
    user = official_jp if role == "official" else make_user(role)
    client.force_login(user)
    for url, params in PAGES[role]:
        for param in params:
            for value in HOSTILE:
                response = client.get(url, {param: value})
                assert response.status_code < 500, (url, param, value)
                if url.startswith("/api/"):
                    assert response["Content-Type"].startswith("application/json"), (url, param)


def test_web_attachment_evidence_is_one_of_its_choices(client, official_jp, jp):
    application = create_application(official_jp, jp)
    client.force_login(official_jp)
    for evidence in ("x" * 500, "zero_trust\x00", "not_a_choice"):
        upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        response = client.post(
            f"/applications/{application.pk}/attachments/",
            {"file": upload, "evidence_for": evidence},
        )
        assert response.status_code == 400, evidence
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("assignee", ["abc", "²", "-1", "9" * 30, "\x00"])
def test_review_assign_with_an_unreadable_assignee_is_not_found(client, official_jp, jp, assignee):
    from partnerships.models import CountryApplication, State

    application = create_application(official_jp, jp)
    CountryApplication.objects.filter(pk=application.pk).update(state=State.TECHNICAL_REVIEW)
    client.force_login(make_user("reviewer"))
    response = client.post(f"/review/{application.pk}/assign/", {"assignee": assignee})
    assert response.status_code == 404
