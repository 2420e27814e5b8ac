"""The screening's notices reach each person in their language, on the single and the batch
path alike, and people speaking several languages cost the batch no query."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import services
from partnerships.models import OutboxEmail
from tests.compliance.conftest import submit
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

JA_REVIEW = "[{ref}] 審査中"


def _speaking(user, language: str):
    get_user_model().objects.filter(pk=user.pk).update(language=language)
    return user


@pytest.mark.parametrize("batch", [False, True])
def test_screening_notices_in_each_recipients_language(territory_list, official_jp, jp, batch):
    _speaking(official_jp, "ja")
    reviewer = make_user("reviewer", username="reviewer")  # English
    named, other = (submit(create_application(official_jp, jp), official_jp) for _ in range(2))
    OutboxEmail.objects.all().delete()
    with CaptureQueriesContext(connection) as ctx:
        services.application_screen(
            application_id=named.pk,
            version=named.version,
            **({"also_waiting": 49} if batch else {}),
        )
    screened = [named, other] if batch else [named]
    for application in screened:
        ref = application.reference
        to_official = OutboxEmail.objects.get(to=official_jp.email, subject__startswith=f"[{ref}]")
        assert to_official.subject == JA_REVIEW.format(ref=ref)
        assert to_official.body.startswith(f"申請 {ref}")
        to_reviewer = OutboxEmail.objects.get(to=reviewer.email, subject__startswith=f"[{ref}]")
        assert to_reviewer.subject == f"[{ref}] waiting for Technical reviewer"
        assert to_reviewer.body == f"Application {ref} (JP) entered Technical review."
    assert OutboxEmail.objects.count() == 2 * len(screened)
    if batch:
        # The same 32 as tests/compliance/test_screening_batch.py (all English there).
        assert len(ctx.captured_queries) == 32
