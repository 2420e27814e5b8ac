"""Isolation matrix (DESIGN §8): every endpoint and page, called by every role of another
country with real object ids, answers exactly as it does for an id that does not exist, and
shows nothing of the first country. Routes come from the URL resolver through the shared walker
(tests/urlwalk.py), lists and exports included, so a new endpoint is covered the day it is
added (and fails here until the walker knows how to fill its ids)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from partnerships import services, workflow
from partnerships.commitments.services import commitment_create
from partnerships.commitments.validation import TrancheInput
from partnerships.models import Obligation
from portal.accounts import services as people
from portal.audit.models import AuditEvent
from tests.factories import REAL_PDF, create_application, make_user
from tests.urlwalk import all_urls

pytestmark = pytest.mark.django_db

MISSING = 987654321
# Routes that hold no country's data (reference data, auth, health, docs, admin).
NOT_TENANT_DATA = re.compile(
    r"^(api/v1/(\^?territor|auth|me)|api/(schema|docs)|healthz|readyz|i18n|admin|accounts/)"
)


def _ids(world: dict[str, Any], *, missing: bool = False) -> dict[str, Any]:
    """The shared walker's ids: the JP world's, or ids that exist nowhere."""
    ids = {
        "application": world["application"],
        "attachment": world["attachment_id"],
        "obligation": world["obligation_id"],
        "commitment": world["commitment"],
        "tranche": world["tranche_id"],
        "member": world["member"],
        "invitation": world["invitation"],
        "audit_event": world["audit_event"],
        "tenant_code": world["tenant_code"],
        "object_type": world["object_type"],
        "object_id": world["object_id"],
    }
    return {k: (MISSING if missing and isinstance(v, int) else v) for k, v in ids.items()}


def _tenant_urls(world: dict[str, Any], *, params: bool) -> list[tuple[str, str]]:
    """(their URL, the same URL with ids that exist nowhere) for routes holding country data."""
    theirs, nothing = all_urls(_ids(world)), all_urls(_ids(world, missing=True))
    assert [u.name for u in theirs] == [u.name for u in nothing]
    return [
        (mine.path, other.path)
        for mine, other in zip(theirs, nothing, strict=True)
        if mine.has_params == params and not NOT_TENANT_DATA.match(mine.path.lstrip("/"))
    ]


@pytest.fixture
def jp_world(jp, official_jp):
    """A JP application taken to approval with a condition, an attachment, a commitment."""
    from django.core.management import call_command

    call_command("load_fx_rates", verbosity=0)
    staff = {
        r: make_user(r, username=r)
        for r in ("reviewer", "security_reviewer", "us_coordinator", "approver")
    }
    application = create_application(official_jp, jp, title="Secret Kansai campus")
    attachment = services.attachment_add(
        application=application,
        actor=official_jp,
        upload=SimpleUploadedFile("e.pdf", REAL_PDF),
    )

    def act(actor, action, **kw):
        application.refresh_from_db()
        return workflow.application_transition(
            application=application,
            actor=actor,
            action=action,
            version=application.version,
            **kw,
        )

    act(official_jp, "submit")
    application.refresh_from_db()
    workflow.application_screened(
        application_id=application.pk,
        expected_version=application.version,
        outcome="clear",
        list_version=1,
        summary=[],
    )
    act(staff["reviewer"], "approve_technical")
    act(staff["security_reviewer"], "approve_security", risk_level="low")
    act(
        staff["us_coordinator"],
        "concur",
        rationale="ok",
        conditions=[
            workflow.ConditionInput(
                "No 3A090 before VEU", timezone.localdate() + dt.timedelta(days=90)
            )
        ],
    )
    act(staff["approver"], "approve")
    commitment = commitment_create(
        actor=official_jp,
        tenant=jp,
        data={
            "vehicle": "global_expansion",
            "amount": Decimal(3000),
            "currency": "JPY",
            "commitment_date": dt.date(2026, 10, 5),
            "tranches": [TrancheInput(due_date=dt.date(2027, 1, 1), amount=Decimal(3000))],
        },
    )
    jp_admin = make_user("country_admin", jp, "country_admin-jp-matrix")
    invitation, _token = people.invitation_create(
        actor=jp_admin, email="new-official@example.jp", role="official", tenant=jp
    )
    return {
        "application": application.pk,
        "member": official_jp.pk,
        "invitation": invitation.pk,
        "attachment_id": attachment.pk,
        "obligation_id": Obligation.objects.get(application=application).pk,
        "commitment": commitment.pk,
        "tranche_id": commitment.tranches.get().pk,
        "audit_event": AuditEvent.objects.filter(tenant=jp)
        .order_by("-id")
        .values_list("id", flat=True)[0],
        "object_type": "partnerships.countryapplication",
        "object_id": application.pk,
        "reference": application.reference,
        "tenant_code": jp.code,
    }


def _call(client: Any, method: str, path: str) -> Any:
    if method == "get":
        return client.get(path)
    return (
        getattr(client, method)(path, {}, format="json")
        if isinstance(client, APIClient)
        else getattr(client, method)(path, {})
    )


def _signature(response: Any) -> tuple[int, Any]:
    if response.get("Content-Type", "").startswith("application/json"):
        return response.status_code, response.json()
    return response.status_code, None


@pytest.mark.parametrize("role", ["official", "country_admin"])
def test_another_countrys_roles_see_nothing_anywhere(jp_world, fr, role):
    outsider = make_user(role, fr, f"{role}-fr-matrix")
    api, pages = APIClient(), Client()
    api.force_authenticate(outsider)
    pages.force_login(outsider)
    checked = 0
    for theirs, nothing in _tenant_urls(jp_world, params=True):
        client = api if theirs.startswith("/api/") else pages
        for method in ("get", "post", "patch", "delete"):
            got = _call(client, method, theirs)
            expected = _call(client, method, nothing)
            assert _signature(got) == _signature(expected), (role, method, theirs, got.status_code)
            denied = got.status_code in (401, 403, 404, 405, 409) or (
                got.status_code == 302 and "/accounts/login/" in got["Location"]
            )
            assert denied, (role, method, theirs, got.status_code)
            body = _body(got)
            assert jp_world["reference"].encode() not in body, (role, method, theirs)
            assert b"Secret Kansai campus" not in body, (role, method, theirs)
            checked += 1
    assert checked > 100  # the resolver walk really found the endpoints


def _body(response: Any) -> bytes:
    return (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )


# Reads that are POSTs from a browser session (they are recorded; docs/security.md).
POST_ONLY_READS = {"/commitments/export.csv"}


@pytest.mark.parametrize("role", ["official", "country_admin"])
def test_lists_show_nothing_of_another_country(jp_world, fr, role):
    """Every route without ids (lists, totals, exports, dashboards), from the resolver."""
    outsider = make_user(role, fr, f"{role}-fr-lists")
    api, pages = APIClient(), Client()
    api.force_authenticate(outsider)
    pages.force_login(outsider)
    answered = set()
    for path, _same in _tenant_urls(jp_world, params=False):
        client = api if path.startswith("/api/") else pages
        response = client.get(path)
        if response.status_code == 405 and path in POST_ONLY_READS:
            response = client.post(path)  # an export: a POST (CSRF) from a session
        assert response.status_code in (200, 403, 405), (role, path, response.status_code)
        body = _body(response)
        assert jp_world["reference"].encode() not in body, (role, path)
        assert b"Secret Kansai campus" not in body, (role, path)
        assert b"3,000" not in body and b'"3000' not in body and b",3000" not in body, (role, path)
        if response.status_code == 200:
            answered.add(path)
    # The walk really reached the country's lists, the CSV export among them.
    for path in ("/api/v1/applications/", "/api/v1/commitments/", "/api/v1/commitments/totals/",
                 "/applications/", "/commitments/", "/commitments/export.csv", "/"):  # fmt: skip
        assert path in answered, (role, path)
