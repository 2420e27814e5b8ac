"""Uploads are opened by a parser for their detected type, and stored under its extension."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerships.models import Attachment
from partnerships.services import attachment_add
from tests.factories import REAL_JPEG, REAL_PDF, REAL_PNG, create_application

pytestmark = pytest.mark.django_db

HTML_WITH_A_COMMA = b"<html><body><script>alert(1)</script>a,b</body></html>\n"


@pytest.fixture
def application(official_jp, jp):  # type: ignore[no-untyped-def]
    return create_application(official_jp, jp)


def _add(application, official, name: str, content: bytes) -> Attachment:  # type: ignore[no-untyped-def]
    return attachment_add(application=application, actor=official,
                          upload=SimpleUploadedFile(name, content))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "stored", "content_type"),
    [
        ("site.pdf", REAL_PDF, "site.pdf", "application/pdf"),
        ("photo.png", REAL_PNG, "photo.png", "image/png"),
        ("photo.jpeg", REAL_JPEG, "photo.jpg", "image/jpeg"),
        ("report.exe", REAL_PNG, "report.png", "image/png"),  # named by what it is
        ("../../etc/passwd", REAL_PDF, "passwd.pdf", "application/pdf"),
        ("sites.csv", b"name,capacity\nKansai,120\n", "sites.csv", "text/csv"),
    ],
)
def test_files_that_parse_are_kept_under_their_detected_extension(
    application, official_jp, name, content, stored, content_type
):
    attachment = _add(application, official_jp, name, content)
    assert (attachment.original_name, attachment.content_type) == (stored, content_type)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.csv", HTML_WITH_A_COMMA),  # an HTML file with a comma is not a CSV
        ("header.png", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR"),  # 16 bytes of header
        ("cut.png", REAL_PNG[: len(REAL_PNG) // 2]),
        ("fake.pdf", b"%PDF-1.4\n%%EOF\n"),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 60),
        ("ragged.csv", b"a,b,c\n1,2\n"),
    ],
)
def test_files_that_do_not_parse_are_refused(application, official_jp, name, content):
    with pytest.raises(ValidationError) as refused:
        _add(application, official_jp, name, content)
    assert "file" in refused.value.message_dict
    assert not Attachment.objects.exists()


def test_csv_row_limit(application, official_jp, settings):
    settings.PORTAL_MAX_CSV_ROWS = 10
    _add(application, official_jp, "ok.csv", b"a,b\n" * 10)
    with pytest.raises(ValidationError):
        _add(application, official_jp, "long.csv", b"a,b\n" * 11)
