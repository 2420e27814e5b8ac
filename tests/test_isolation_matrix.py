"""Isolation matrix (DESIGN §8): every endpoint and page, called by every role of another
country with real object ids, answers exactly as it does for an id that does not exist, and
shows nothing of the first country. Routes come from the URL resolver, so a new endpoint is
covered the day it is added (and fails here until this file knows how to fill its ids)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from partnerships import commitments, services, workflow
from partnerships.models import Obligation
from portal.accounts import services as people
from portal.audit.models import AuditEvent
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

MISSING = 987654321
# Routes that hold no country's data (reference data, auth, health, docs, admin).
NOT_TENANT_DATA = re.compile(
    r"^(api/v1/(\^?territor|auth|me)|api/(schema|docs)|healthz|readyz|i18n|admin|accounts/)"
)


def _routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.name or ""))
    return found


def _fill(route: str, ids: dict[str, Any]) -> str | None:
    """A concrete path for a route template, or None when the route has no tenant ids."""
    if "(?P<format>" in route or ("<" not in route):
        return None  # format suffixes repeat a route; routes without ids are lists (next test)
    path = route
    scope = (
        "commitment"
        if "commitments" in path
        else "audit_event"
        if "audit-events" in path
        else "invitation"
        if "invitations" in path
        else "member"
        if "members" in path or path.startswith("people/")
        else "application"
    )

    def value(name: str) -> str:
        if name in ("pk", "application_pk"):
            return str(ids[scope])
        if name == "action":
            return "confirm"
        if name == "step":
            return "sites"
        return str(ids[name])

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), path)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), path)
    return "/" + path.replace("^", "").replace("$", "")


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
        upload=SimpleUploadedFile("e.pdf", b"%PDF-1.4\n%%EOF\n"),
    )

    def act(actor, action, **kw):
        application.refresh_from_db()
        return workflow.application_transition(
            application=application,
            actor=actor,
            action=action,
            version=application.version,
            completeness_check=services.missing_for_submit,
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
    commitment = commitments.commitment_create(
        actor=official_jp,
        tenant=jp,
        data={
            "vehicle": "global_expansion",
            "amount": Decimal(3000),
            "currency": "JPY",
            "commitment_date": dt.date(2026, 10, 5),
            "tranches": [
                commitments.TrancheInput(due_date=dt.date(2027, 1, 1), amount=Decimal(3000))
            ],
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
    missing = {k: (MISSING if isinstance(v, int) else v) for k, v in jp_world.items()}
    api, pages = APIClient(), Client()
    api.force_authenticate(outsider)
    pages.force_login(outsider)
    checked = 0
    for route, _name in _routes(get_resolver().url_patterns):
        if NOT_TENANT_DATA.match(route.lstrip("^")):
            continue
        theirs, nothing = _fill(route, jp_world), _fill(route, missing)
        if theirs is None:
            continue
        client = api if theirs.startswith("/api/") else pages
        for method in ("get", "post", "patch", "delete"):
            got = _call(client, method, theirs)
            expected = _call(client, method, nothing)
            assert _signature(got) == _signature(expected), (role, method, theirs, got.status_code)
            denied = got.status_code in (401, 403, 404, 405, 409) or (
                got.status_code == 302 and "/accounts/login/" in got["Location"]
            )
            assert denied, (role, method, theirs, got.status_code)
            body = (
                b"".join(got.streaming_content) if getattr(got, "streaming", False) else got.content
            )
            assert jp_world["reference"].encode() not in body, (role, method, theirs)
            assert b"Secret Kansai campus" not in body, (role, method, theirs)
            checked += 1
    assert checked > 100  # the resolver walk really found the endpoints


def test_lists_show_nothing_of_another_country(jp_world, fr):
    outsider = make_user("official", fr, "official-fr-lists")
    api, pages = APIClient(), Client()
    api.force_authenticate(outsider)
    pages.force_login(outsider)
    for path in (
        "/api/v1/applications/",
        "/api/v1/commitments/",
        "/api/v1/commitments/totals/",
        "/applications/",
        "/commitments/",
        "/",
    ):
        client = api if path.startswith("/api/") else pages
        response = client.get(path)
        assert response.status_code == 200, path
        assert jp_world["reference"].encode() not in response.content, path
        assert b"Secret Kansai campus" not in response.content, path
        assert b"3,000" not in response.content and b'"3000' not in response.content, path
