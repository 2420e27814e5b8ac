"""The table of every endpoint and page with the roles it serves (issue #13, item 6).

Generic checks driven by the table, over the concrete URLs of the shared walker
(tests/urlwalk.py), each request rolled back so one role's write never changes the next
role's answer:

- anonymous: 401 (API) or the login page (pages), except the PUBLIC routes;
- every role the table does not name is refused (403, or 404 where the object is not even
  visible to it); every role it names gets past the gate (any other answer: 200, 302, 400…);
- every write row: one successful call by a role it serves appends exactly the row's audit
  verbs (real recorder, AuditEvent rows), in order;
- every read row: exactly the row's number of queries, by the first role it serves.

The identical-404 check for another country's ids runs over every route in
tests/test_isolation_matrix.py (the same walker). A meta-test fails when a URL pattern or a
router-registered viewset is missing from the table, or the table names one that is gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    Decision,
    Partnership,
)
from portal.audit.models import AuditEvent
from portal.tenancy.roles import TENANT_ROLES, Role
from tests.factories import make_user
from tests.portal.test_audit_readonly import (
    PNG,
    world,  # noqa: F401  (the shared fixture)
)
from tests.urlwalk import all_urls, ids_of

pytestmark = pytest.mark.django_db

OFF, CA, REV, SEC = Role.OFFICIAL, Role.COUNTRY_ADMIN, Role.REVIEWER, Role.SECURITY_REVIEWER
CO, USC, APPR = Role.COMPLIANCE_OFFICER, Role.US_COORDINATOR, Role.APPROVER
AUD, PA = Role.AUDITOR, Role.PLATFORM_ADMIN
NOBODY: frozenset[str] = frozenset()

# Open to anyone, signed in or not (probes, sign-in, password reset, invitations, docs).
PUBLIC = {
    "healthz", "readyz", "api-token", "api-invitation-accept", "api-schema", "api-docs",
    "set_language", "login", "invitation-accept", "two-factor-enrol-link", "password_reset",
    "password_reset_done", "password_reset_confirm", "password_reset_complete", "logout",
}  # fmt: skip
# Reference data or one's own tokens, for any signed-in user, whose ids the world does not
# create (a territory version number, a territory code, a token id): anonymous refused only
# (account-token-revoke takes a UUID the walker does not fill: listed for the meta-test).
ANY_USER_BY_ID = {
    "api-token-detail", "territory-version-detail", "territory-detail", "account-token-revoke",
}  # fmt: skip

# URL name (or name/action for an alternation) -> (method probed, roles served).
# "get" where the route serves GET; "post" (empty body) where it only takes writes.
# The third element is the row's contract, measured on the ``world`` fixture's data: for a
# "get" row, the exact number of queries of one request by the first role it serves (in
# ``Role`` order; ``{"api": n, "page": m}`` where an API route and a page share the name);
# for a "post" row, the audit verbs one successful call appends, in order (the call is in
# WRITE_CALLS).
Contract = int | dict[str, int] | tuple[str, ...] | None
ENDPOINTS: dict[str, tuple[str, frozenset[str] | set[str], Contract]] = {
    "api-tokens": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "api-me": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 4),
    "invitation-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 4),
    "invitation-detail": ("get", {CA, PA}, 5),
    "invitation-resend": ("post", {CA}, ("invitation.resent",)),
    "member-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 4),
    "member-detail": ("get", {CA, PA}, 8),
    "member-reset-device": ("post", {PA}, ("otp.reset",)),
    "tenant-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "audit-event-list": ("get", {AUD}, 10),
    "audit-event-verify": ("get", {AUD}, 13),
    "audit-event-detail": ("get", {AUD}, 5),
    "application-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 6),
    "application-detail": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, {"api": 6, "page": 13}),
    "application-attachments": (
        "get",
        {OFF, CA, REV, SEC, CO, USC, APPR, AUD},
        {"api": 7, "page": 8},
    ),
    "application-decisions": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 7),
    "application-download": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 14),
    "application-obligations": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 8),
    "application-transitions": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 6),
    "commitment-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 6),
    "commitment-totals": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 11),
    "commitment-detail": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, {"api": 6, "page": 7}),
    "commitment-confirm": ("post", {APPR}, ("commitment.confirmed",)),
    "commitment-pay": ("post", {CO, APPR}, ("tranche.paid",)),
    "commitment-withdraw": ("post", {OFF, CA}, ("commitment.withdrawn",)),
    "territory-version-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "territory-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "application-screenings": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 6),
    "dashboard": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 9),
    "two-factor-setup": ("get", NOBODY, None),
    "two-factor-codes": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "two-factor-verify": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 7),
    "password_change": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "password_change_done": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "account-security": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 8),
    "account-sign-out-everywhere": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "people": ("get", {CA, PA}, 17),
    "people-invite": ("post", {CA, PA}, ("user.invited",)),
    "people-invitation-revoke": ("post", {CA}, ("invitation.revoked",)),
    "people-invitation-resend": ("post", {CA}, ("invitation.resent",)),
    "people-deactivate": ("get", {CA, PA}, 8),
    "people-reset-device": ("get", {PA}, 6),
    "countries": ("get", {PA}, 6),
    "audit-explorer": ("get", {AUD}, 7),
    "audit-object": ("get", {AUD}, 6),
    "audit-verify": ("post", {AUD}, ("audit.verified",)),
    "audit-verify-status": ("get", {AUD}, 7),
    "audit-checkpoints": ("get", {AUD}, 5),
    "audit-export": ("post", {AUD}, ("audit.exported",)),
    "applications": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 6),
    "application-new": ("get", {OFF, CA}, 5),
    "application-edit": ("get", {OFF, CA}, 6),
    "application-submit": ("get", {OFF, CA}, 9),
    # Programme staff are answered 200 with the page and a message, not 403 (found by this
    # table; nothing changes, as the auditor matrix checks): their own rule, not the route's.
    "application-withdraw": (
        "post",
        {OFF, CA, REV, SEC, CO, USC, APPR},
        ("application.withdrawn",),
    ),
    "application-reply": ("post", {OFF, CA}, ("application.info_replied",)),
    "attachment-download": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 12),
    "obligation-evidence": ("post", {OFF, CA}, ("attachment.added", "obligation.evidence_added")),
    "obligation-met": ("post", {CO, USC, APPR}, ("obligation.met",)),
    "emission-estimate": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "review": ("get", {REV, SEC, CO, USC, APPR, AUD}, 6),
    "approver-board": ("get", {REV, SEC, CO, USC, APPR, AUD}, 5),
    "review-detail": ("get", {REV, SEC, CO, USC, APPR, AUD}, 12),
    "review-act": ("post", {REV, SEC, CO, USC, APPR}, ("workflow.approve_technical",)),
    "review-assign": ("post", {REV, SEC, CO, USC, APPR}, ("workflow.assigned",)),
    "commitments": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 7),
    "commitments-export": (
        "post",
        {OFF, CA, REV, SEC, CO, USC, APPR, AUD},
        ("commitments.exported",),
    ),  # recorded: POST
    "commitment-new": ("get", {OFF, CA}, 8),
    "commitment-edit": ("get", {OFF, CA}, 9),
    "commitment-action/confirm": ("post", {APPR}, ("commitment.confirmed",)),
    "commitment-action/withdraw": ("post", {OFF, CA}, ("commitment.withdrawn",)),
    "commitment-tranche-pay": ("post", {CO, APPR}, ("tranche.paid",)),
    "compliance-holds": ("get", {CO}, 6),
    "compliance-hold-decide": ("post", {CO}, ("workflow.clear_hold",)),
    "compliance-territories": ("get", {CO, AUD}, 8),
    "compliance-rescreen-progress": ("get", {CO, AUD}, 6),
}


def _key(name: str, path: str) -> str:
    return name if name in ENDPOINTS else f"{name}/{path.rstrip('/').rsplit('/', 1)[1]}"


def _route_names() -> set[str]:
    def walk(patterns: list[Any]) -> set[str]:
        names: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    names |= walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)
        return names

    return walk(get_resolver().url_patterns)


def test_every_route_and_viewset_is_in_the_table():
    from compliance.urls_api import router as compliance_router
    from partnerships.commitments.urls_api import router as commitments_router
    from partnerships.urls_api import router as applications_router
    from portal.accounts.urls_api import router as people_router
    from portal.audit.urls_api import router as audit_router

    table = {key.split("/")[0] for key in ENDPOINTS} | PUBLIC | ANY_USER_BY_ID
    routes = _route_names()
    assert not routes - table, f"routes missing from ENDPOINTS: {sorted(routes - table)}"
    assert not table - routes, f"ENDPOINTS names routes that are gone: {sorted(table - routes)}"
    routers = (compliance_router, commitments_router, applications_router, people_router,
               audit_router)  # fmt: skip
    for router in routers:
        for _prefix, viewset, basename in router.registry:
            named = {url.name for url in router.urls}
            assert named and named <= table, (viewset.__name__, basename, named - table)


def _refused(response: Any, api: bool) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return not api and response.status_code == 302 and "/accounts/login/" in response["Location"]


def _ask(client: Any, method: str, path: str, api: bool) -> Any:
    """One request, rolled back: a role's write never changes what the next role finds."""
    with transaction.atomic():
        if method == "get":
            response = client.get(path)
        elif api:
            response = client.post(path, {}, format="json")
        else:
            response = client.post(path, {})
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        transaction.set_rollback(True)
    return response


def test_each_route_serves_exactly_its_roles(world, jp):  # noqa: F811
    clients = _clients({role: make_user(role, jp if role in TENANT_ROLES else None,
                                        f"table-{role}") for role in Role})  # fmt: skip
    anonymous = {True: APIClient(), False: Client()}
    wrong, checked = [], 0
    for url in all_urls(ids_of(world)):
        if url.path.startswith("/admin/") or url.name in PUBLIC:
            continue
        api = url.path.startswith("/api/")
        if url.name in ANY_USER_BY_ID:
            method, served = "get", NOBODY
        else:
            method, served, _contract = ENDPOINTS[_key(url.name, url.path)]
        answer = _ask(anonymous[api], method, url.path, api)
        expected_anonymous = 401 if api else 302
        if answer.status_code != expected_anonymous or not _refused(answer, api):
            wrong.append(f"anonymous {method.upper()} {url.path} -> {answer.status_code}")
        if url.name in ANY_USER_BY_ID:
            continue
        for role in Role:
            answer = _ask(clients[(role, api)], method, url.path, api)
            checked += 1
            if _refused(answer, api) == (role in served):
                wrong.append(
                    f"{role} {method.upper()} {url.path} -> {answer.status_code} "
                    f"({'served' if role in served else 'refused'} in the table)"
                )
    assert not wrong, "Answers that break the table:\n" + "\n".join(wrong)
    assert checked > 500


# --- Writes: a successful call by a role the table serves appends exactly the row's verbs -------


def _app_state(state: str) -> Callable[[dict[str, Any]], None]:
    """Put the world's application in ``state`` (test set-up, rolled back with the call)."""

    def prepare(w: dict[str, Any]) -> None:
        CountryApplication.objects.filter(pk=w["application"].pk).update(state=state)

    return prepare


def _approved_partnership(w: dict[str, Any]) -> None:
    application = w["application"]
    CountryApplication.objects.filter(pk=application.pk).update(state="approved")
    Partnership.objects.create(tenant=application.tenant, application=application,
                               effective_date=dt.date.today())  # fmt: skip


def _info_requested(w: dict[str, Any]) -> None:
    application = CountryApplication.objects.get(pk=w["application"].pk)
    Decision.objects.create(application=application, action="request_info",
                            from_state="technical_review", to_state="info_requested",
                            actor_label="reviewer", role="reviewer", rationale="Which site?",
                            application_version=application.version)  # fmt: skip
    CountryApplication.objects.filter(pk=application.pk).update(state="info_requested")


def _confirmed(w: dict[str, Any]) -> None:
    CoInvestmentCommitment.objects.filter(pk=w["commitment"].pk).update(status="confirmed")


def _version(w: dict[str, Any]) -> int:
    return CountryApplication.objects.get(pk=w["application"].pk).version


def _png() -> Any:
    return SimpleUploadedFile("evidence.png", PNG, content_type="image/png")


@dataclass(frozen=True)
class Call:
    """How the row's successful call is made: by ``role``, with ``body(world)`` after
    ``prepare(world)`` (both inside the call's rolled-back transaction)."""

    role: str
    body: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    prepare: Callable[[dict[str, Any]], None] = lambda w: None


WRITE_CALLS: dict[str, Call] = {
    "invitation-resend": Call(CA),
    "member-reset-device": Call(PA),
    "commitment-confirm": Call(APPR, lambda w: {"version": 1}, _approved_partnership),
    "commitment-pay": Call(CO, lambda w: {"payment_reference": "SWIFT-1"}, _confirmed),
    "commitment-withdraw": Call(OFF, lambda w: {"version": 1}),
    "people-invite": Call(
        CA, lambda w: {"email": "new@example.jp", "role": "official", "tenant": "JP"}
    ),
    "people-invitation-revoke": Call(CA),
    "people-invitation-resend": Call(CA),
    "audit-verify": Call(AUD),
    "audit-export": Call(AUD, lambda w: {"format": "csv"}),
    "application-withdraw": Call(
        OFF, lambda w: {"confirmed": "1", "version": _version(w), "rationale": "No longer needed."}
    ),
    "application-reply": Call(
        OFF,
        lambda w: {"text": "The answers.", "version": _version(w)},
        _info_requested,
    ),
    "obligation-evidence": Call(OFF, lambda w: {"file": _png()}),
    "obligation-met": Call(CO, lambda w: {"note": "Seen the VEU approval."}),
    "review-act": Call(
        REV,
        lambda w: {
            "action": "approve_technical",
            "version": _version(w),
            "rationale": "Sound.",
            "confirmed": "1",
        },
        _app_state("technical_review"),
    ),
    "review-assign": Call(REV, lambda w: {"assignee": ""}, _app_state("technical_review")),
    "commitments-export": Call(OFF),
    "commitment-action/confirm": Call(APPR, lambda w: {"version": 1}, _approved_partnership),
    "commitment-action/withdraw": Call(OFF, lambda w: {"version": 1}),
    "commitment-tranche-pay": Call(CO, lambda w: {"payment_reference": "SWIFT-1"}, _confirmed),
    "compliance-hold-decide": Call(
        CO,
        lambda w: {
            f"a{w['application'].pk}-action": "clear_hold",
            f"a{w['application'].pk}-version": _version(w),
            f"a{w['application'].pk}-rationale": "Cleared.",
        },
        _app_state("screening_hold"),
    ),
}


def test_every_write_row_has_its_call():
    writes = {key for key, (method, _roles, _expect) in ENDPOINTS.items() if method == "post"}
    assert writes == set(WRITE_CALLS)
    for key, call in WRITE_CALLS.items():
        assert call.role in ENDPOINTS[key][1], key


def _clients(users: dict[str, Any]) -> dict[tuple[str, bool], Any]:
    """Per role: an API client (authenticated as the user) and a signed-in page client."""
    clients: dict[tuple[str, bool], Any] = {}
    for role, user in users.items():
        api, pages = APIClient(), Client()
        api.force_authenticate(user)
        pages.force_login(user)
        clients[(role, True)], clients[(role, False)] = api, pages
    return clients


def _served_urls(world: dict[str, Any]) -> list[tuple[str, Any]]:  # noqa: F811
    """(table key, url) for every concrete URL the table has a row for."""
    return [
        (_key(url.name, url.path), url)
        for url in all_urls(ids_of(world))
        if not url.path.startswith("/admin/") and url.name not in PUBLIC | ANY_USER_BY_ID
    ]


def test_each_write_appends_exactly_its_audit_verbs(world, jp):  # noqa: F811
    clients = _clients({role: make_user(role, jp if role in TENANT_ROLES else None,
                                        f"table-{role}") for role in Role})  # fmt: skip
    wrong, called = [], set()
    for key, url in _served_urls(world):
        if key not in WRITE_CALLS:
            continue
        call, api = WRITE_CALLS[key], url.path.startswith("/api/")
        client = clients[(call.role, api)]
        with transaction.atomic():
            call.prepare(world)
            last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            body = call.body(world)
            if api:
                response = client.post(url.path, body, format="json")
            else:
                response = client.post(url.path, body)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            verbs = tuple(AuditEvent.objects.filter(id__gt=last).order_by("id")
                          .values_list("verb", flat=True))  # fmt: skip
            transaction.set_rollback(True)
        called.add(key)
        expected = ENDPOINTS[key][2]
        if verbs != expected or response.status_code not in (200, 201, 204, 302):
            wrong.append(f"{key}: {call.role} POST {url.path} -> {response.status_code} "
                         f"{verbs}, table: {expected}")  # fmt: skip
    assert not wrong, "Writes that break the table:\n" + "\n".join(wrong)
    assert called == set(WRITE_CALLS)


# --- Reads: the exact query count of each GET row, at the world's data size ---------------------


def test_each_read_makes_exactly_its_queries(world, jp):  # noqa: F811
    """One GET per read row by the first role it serves (in ``Role`` order), with a fresh
    client and user object (no roles cached on it), after one warm-up request (so process
    caches are filled either way); every request rolled back."""
    users = {role: make_user(role, jp if role in TENANT_ROLES else None, f"count-{role}")
             for role in Role}  # fmt: skip
    wrong = []
    for key, url in _served_urls(world):
        method, served, expected = ENDPOINTS[key]
        if method != "get" or not served:
            continue
        role, api = next(r for r in Role if r in served), url.path.startswith("/api/")
        if isinstance(expected, dict):
            expected = expected["api" if api else "page"]
        for _attempt in ("warm-up", "counted"):
            client = _clients({role: type(users[role]).objects.get(pk=users[role].pk)})[(role, api)]
            with transaction.atomic():
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url.path)
                    if getattr(response, "streaming", False):
                        b"".join(response.streaming_content)
                transaction.set_rollback(True)
        if len(queries) != expected or response.status_code >= 500:
            wrong.append(f"{key}: {role} GET {url.path} -> {response.status_code}, "
                         f"{len(queries)} queries, table: {expected}")  # fmt: skip
    assert not wrong, "Reads that break the table:\n" + "\n".join(wrong)
