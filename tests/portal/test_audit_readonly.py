"""Auditors read everything and change nothing.

The matrix is generated from the URL resolver by the shared walker (tests/urlwalk.py): every
API and page URL, its path parameters filled with real ids, every unsafe method, as an
auditor. A new endpoint is covered the day it is added; one that lets an auditor write fails
this test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.audit.models import AuditEvent
from tests.factories import REAL_PNG, create_application, make_user
from tests.urlwalk import all_urls, ids_of

pytestmark = pytest.mark.django_db

UNSAFE = ("post", "put", "patch", "delete")
REFUSED = {403, 404, 405}  # 404: not visible (or no such object); never 2xx, never 400

# Not changes to the portal's data, so outside the matrix (each with its reason).
NOT_DATA_CHANGES = {
    "login": "signing in (an auditor must be able to)",
    "logout": "signing out",
    "set_language": "the auditor's own language preference (a cookie and User.language)",
    "two-factor-setup": "enrolling the auditor's own second factor (programme staff must)",
    "two-factor-verify": "proving the auditor's own second factor",
    "api-token": "an API token for the auditor's own reads (audited as auth.token_created)",
    "api-tokens": "the auditor's own API tokens (DELETE signs the auditor out everywhere)",
    "api-token-detail": "revoking one of the auditor's own API tokens",
    "account-token-revoke": "revoking one of the auditor's own API tokens",
    "account-sign-out-everywhere": "ending the auditor's own sessions and tokens",
    "password_change": "the auditor's own password",
    "password_reset": "asking for a reset link for an address (anonymous; audited as a request)",
    "password_reset_confirm": "choosing a new password through a reset link (anonymous)",
    "invitation-accept": "accepting an invitation creates the invitee's own account (anonymous)",
    "api-invitation-accept": "accepting an invitation creates the invitee's own account (anonymous)",
    "healthz": "a liveness probe: reads nothing, writes nothing",
    "readyz": "a readiness probe: reads nothing, writes nothing",
    "audit-verify": "verifying the chain: a POST (CSRF) that records only audit.verified",
    "audit-export": "exporting the history: a POST (CSRF) that records only audit.exported",
    "audit-event-verify": "the API's verify (POST from a session): records only audit.verified",
    "commitments-export": "exporting commitments: a POST (CSRF) that records only the export",
}

# Reads that are themselves recorded: an event with one of these verbs is not a write.
READ_VERBS = {
    "attachment.downloaded",
    "audit.exported",
    "audit.verified",
    "audit.read",
    "commitments.exported",
    "security.denied",
}

# Endpoints that do not answer an auditor's unsafe request with 403/404/405, found by this
# test when it was written. None of them changed anything (checked below, on every run), but
# each breaks the contract; their owners are told. Fixing one fails this test until its
# line is removed, so the list only shrinks. A new endpoint is never on it.
KNOWN_NOT_REFUSED = {
    # Page views that serve GET to any method (no require_safe / require_http_methods):
    # POST endpoints that refuse by redirecting (302 + message) instead of 403:
    # API endpoints that validate the body before checking the role (400 on {}):
}

PNG = REAL_PNG


@pytest.fixture
def world(jp, official_jp) -> dict[str, Any]:
    """One real object of each kind, visible to programme staff."""
    from partnerships.models import CoInvestmentCommitment, Decision, Obligation, Tranche
    from partnerships.services import attachment_add
    from partnerships.workflow import application_transition
    from portal.accounts.services import invitation_create

    application = create_application(official_jp, jp)
    attachment = attachment_add(application=application, actor=official_jp,
                                upload=SimpleUploadedFile("site.png", PNG, content_type="image/png"))  # fmt: skip
    application = application_transition(application=application, actor=official_jp, action="submit",
                                         version=application.version)  # fmt: skip
    decision = Decision.objects.filter(application=application).latest("id")
    obligation = Obligation.objects.create(tenant=jp, application=application, decision=decision,
                                           text="No ECCN 3A090 chips before VEU approval",
                                           due_date=dt.date.today() + dt.timedelta(days=90))  # fmt: skip
    commitment = CoInvestmentCommitment.objects.create(
        tenant=jp, application=application, vehicle="global_expansion", amount=Decimal("1000"), currency="USD",
        commitment_date=dt.date.today(), fx_rate=Decimal("1"), fx_rate_date=dt.date.today(),
        usd_amount=Decimal("1000"), created_by=official_jp,
    )  # fmt: skip
    tranche = Tranche.objects.create(
        commitment=commitment, due_date=dt.date.today(), amount=Decimal("1000")
    )
    return {
        "application": application, "attachment": attachment, "obligation": obligation,
        "commitment": commitment, "tranche": tranche, "tenant": jp, "user": official_jp,
        "event": AuditEvent.objects.latest("id"),
        "invitation": invitation_create(
            actor=make_user("country_admin", jp, "country_admin-jp-readonly"),
            email="invitee@example.jp", role="official", tenant=jp,
        )[0],
    }  # fmt: skip


def walk(world: dict[str, Any]) -> list[tuple[str, str]]:
    """Every concrete URL the portal serves (the shared walker), with its pattern's name."""
    return [(url.path, url.name) for url in all_urls(ids_of(world))]


def test_the_walker_finds_every_kind_of_endpoint(world):
    urls = {url for url, _ in walk(world)}
    app = world["application"].pk
    for expected in ("/api/v1/audit-events/", "/api/v1/audit-events/verify/", f"/api/v1/applications/{app}/",
                     f"/api/v1/applications/{app}/transitions/", "/audit/", f"/applications/{app}/",
                     f"/review/{app}/act/"):  # fmt: skip
        assert expected in urls, expected
    # Ids follow the kind of object the URL names, not one id for all.
    commitment, tranche = world["commitment"].pk, world["tranche"].pk
    assert f"/commitments/{commitment}/tranches/{tranche}/pay/" in urls
    assert f"/api/v1/audit-events/{world['event'].pk}/" in urls
    # People (DESIGN §5b): members, invitations, countries, as pages and endpoints.
    member, invitation = world["user"].pk, world["invitation"].pk
    for expected in (f"/api/v1/members/{member}/", f"/api/v1/members/{member}/reset-device/",
                     f"/api/v1/invitations/{invitation}/", f"/api/v1/invitations/{invitation}/resend/",
                     "/api/v1/invitations/", "/api/v1/tenants/", "/people/", "/people/invite/",
                     f"/people/{member}/deactivate/", f"/people/{member}/reset-device/",
                     f"/people/invitations/{invitation}/revoke/", "/countries/"):  # fmt: skip
        assert expected in urls, expected
    assert len(urls) > 40


def _fingerprint(world: dict[str, Any]) -> tuple[Any, ...]:
    """What an auditor's request must leave as it was: the objects and the written history."""
    from django.forms.models import model_to_dict

    from partnerships.models import Decision

    objects = []
    for key in (
        "application",
        "attachment",
        "obligation",
        "commitment",
        "tranche",
        "tenant",
        "user",
        "invitation",
    ):
        obj = type(world[key]).objects.get(pk=world[key].pk)
        objects.append(sorted((k, repr(v)) for k, v in model_to_dict(obj).items()))
    writes = AuditEvent.objects.exclude(verb__in=READ_VERBS).count()
    return (*map(tuple, objects), writes, Decision.objects.count())


def test_auditors_change_nothing_anywhere(client, world):
    auditor = make_user("auditor", username="auditor-matrix")
    client.force_login(auditor)
    urls = walk(world)
    writes, not_refused = [], {}
    checked = 0
    for url, name in urls:
        if name in NOT_DATA_CHANGES:
            continue
        admin = url.startswith("/admin/")
        for method in UNSAFE:
            before = _fingerprint(world)
            kwargs: dict[str, Any] = (
                {"content_type": "application/json", "data": "{}"}
                if url.startswith("/api/")
                else {}
            )
            response = getattr(client, method)(url, **kwargs)
            checked += 1
            status = response.status_code
            if _fingerprint(world) != before:
                writes.append(f"{method.upper()} {url} ({name}) -> {status}")
            # The admin sends anyone who is not staff to its login page.
            refused = status in REFUSED or (
                admin and status == 302 and "/admin/login/" in response["Location"]
            )
            if not refused:
                not_refused.setdefault(name, []).append(f"{method.upper()} {url} -> {status}")
    print(f"auditor matrix: {checked} unsafe requests over {len(urls)} URLs")
    assert not writes, "An auditor changed something:\n" + "\n".join(writes)
    new = {name: found for name, found in not_refused.items() if name not in KNOWN_NOT_REFUSED}
    assert not new, "Not refused to an auditor (403/404/405 expected):\n" + "\n".join(
        line for found in new.values() for line in found
    )
    fixed = sorted(set(KNOWN_NOT_REFUSED) - set(not_refused))
    assert not fixed, f"Now refused properly: remove from KNOWN_NOT_REFUSED: {fixed}"


def test_auditor_with_well_formed_bodies_is_refused(api, world):
    """The matrix sends empty bodies; here the writes an auditor might try, done properly."""
    from partnerships.models import CountryApplication
    from tests.factories import example_payload

    application = world["application"]
    CountryApplication.objects.filter(pk=application.pk).update(state="technical_review")
    application.refresh_from_db()
    auditor = make_user("auditor", username="auditor-bodies")
    api.as_user(auditor)
    before = _fingerprint(world)
    attempts = [
        ("post", "/api/v1/applications/", example_payload()),
        ("patch", f"/api/v1/applications/{application.pk}/", {"title": "Rewritten", "version": application.version}),
        ("post", f"/api/v1/applications/{application.pk}/transitions/",
         {"action": "approve_technical", "version": application.version}),
        ("post", f"/api/v1/applications/{application.pk}/transitions/",
         {"action": "reject", "rationale": "No.", "version": application.version}),
        ("post", f"/api/v1/applications/{application.pk}/transitions/",
         {"action": "request_info", "rationale": "Why?", "version": application.version}),
    ]  # fmt: skip
    answers = {}
    for method, url, body in attempts:
        response = getattr(api, method)(url, body, format="json")
        answers[(method, url, body.get("action"))] = (response.status_code, response.json())
    create = answers.pop(("post", "/api/v1/applications/", None))
    # Creating answers 400 on the tenant field (partnerships' choice: "not a country you may
    # file for" is a field error); still no write.
    assert create[0] == 403 or (create[0] == 400 and "tenant" in create[1]), create
    assert {status for status, _ in answers.values()} <= {403, 404}, answers
    assert _fingerprint(world) == before
