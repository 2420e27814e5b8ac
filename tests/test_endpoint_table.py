"""The table of every endpoint and page with the roles it serves (issue #13, item 6).

Generic checks driven by the table, over the concrete URLs of the shared walker
(tests/urlwalk.py), each request rolled back so one role's write never changes the next
role's answer:

- anonymous: 401 (API) or the login page (pages), except the PUBLIC routes;
- every role the table does not name is refused (403, or 404 where the object is not even
  visible to it); every role it names gets past the gate (any other answer: 200, 302, 400…);
- every write the portal accepts (each route's write methods, from the viewset's method
  mapping, the class-based view's handlers, or a probe of the function view: not 405): one
  successful call appends exactly its audit verbs (real services and recorder, AuditEvent
  rows), in order (WRITE_CALLS); a meta-test fails when a route's write method has neither a
  call there nor a reason in NO_AUDIT;
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
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    Decision,
    Partnership,
)
from portal.accounts.services import invitation_create, token_issue
from portal.accounts.two_factor import ENROL_SESSION_KEY
from portal.audit.models import AuditEvent
from portal.tenancy.roles import TENANT_ROLES, Role
from tests.factories import PASSWORD, example_payload, make_user
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
WRITE_METHODS = ("post", "put", "patch", "delete")
NEW_PASSWORD = "a fresh passphrase for the table"

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
# ``Role`` order; ``{"api": n, "page": m}`` where an API route and a page share the name;
# the Row-Level Security scope rides on the first query, no statement of its own: #16);
# for a "post" row, the audit verbs one successful call appends, in order (the call is in
# WRITE_CALLS).
Contract = int | dict[str, int] | tuple[str, ...] | None
ENDPOINTS: dict[str, tuple[str, frozenset[str] | set[str], Contract]] = {
    "api-tokens": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 2),
    "api-me": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 1),
    "invitation-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 1),
    "invitation-detail": ("get", {CA, PA}, 2),
    "invitation-resend": ("post", {CA}, ("invitation.resent",)),
    "member-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 1),
    "member-detail": ("get", {CA, PA}, 5),
    "member-reset-device": ("post", {PA}, ("otp.reset",)),
    "tenant-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 2),
    "audit-event-list": ("get", {AUD}, 7),
    "audit-event-verify": ("get", {AUD}, 10),
    "audit-event-detail": ("get", {AUD}, 2),
    "application-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 2),
    "application-detail": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, {"api": 2, "page": 11}),
    "application-attachments": (
        "get",
        {OFF, CA, REV, SEC, CO, USC, APPR, AUD},
        {"api": 4, "page": 6},
    ),
    "application-decisions": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 4),
    "application-download": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 11),
    "application-obligations": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 5),
    "application-transitions": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 3),
    "commitment-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 3),
    "commitment-totals": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 8),
    "commitment-detail": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, {"api": 3, "page": 5}),
    "commitment-confirm": ("post", {APPR}, ("commitment.confirmed",)),
    "commitment-pay": ("post", {CO, APPR}, ("tranche.paid",)),
    "commitment-withdraw": ("post", {OFF, CA}, ("commitment.withdrawn",)),
    "territory-version-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 2),
    "territory-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 2),
    "application-screenings": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 3),
    "dashboard": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 7),
    "two-factor-setup": ("get", NOBODY, None),
    "two-factor-codes": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 3),
    "two-factor-verify": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 5),
    "password_change": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 3),
    "password_change_done": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 3),
    "account-security": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 6),
    "account-sign-out-everywhere": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 3),
    "people": ("get", {CA, PA}, 15),
    "people-invite": ("post", {CA, PA}, ("user.invited",)),
    "people-invitation-revoke": ("post", {CA}, ("invitation.revoked",)),
    "people-invitation-resend": ("post", {CA}, ("invitation.resent",)),
    "people-deactivate": ("get", {CA, PA}, 6),
    "people-reset-device": ("get", {PA}, 4),
    "countries": ("get", {PA}, 4),
    "audit-explorer": ("get", {AUD}, 5),
    "audit-object": ("get", {AUD}, 4),
    "audit-verify": ("post", {AUD}, ("audit.verified",)),
    "audit-verify-status": ("get", {AUD}, 5),
    "audit-checkpoints": ("get", {AUD}, 3),
    "audit-export": ("post", {AUD}, ("audit.exported",)),
    "applications": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 4),
    "application-new": ("get", {OFF, CA}, 3),
    "application-edit": ("get", {OFF, CA}, 4),
    "application-submit": ("get", {OFF, CA}, 7),
    # Programme staff are answered 200 with the page and a message, not 403 (found by this
    # table; nothing changes, as the auditor matrix checks): their own rule, not the route's.
    "application-withdraw": (
        "post",
        {OFF, CA, REV, SEC, CO, USC, APPR},
        ("application.withdrawn",),
    ),
    "application-reply": ("post", {OFF, CA}, ("application.info_replied",)),
    "attachment-download": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 10),
    "obligation-evidence": ("post", {OFF, CA}, ("attachment.added", "obligation.evidence_added")),
    "obligation-met": ("post", {CO, USC, APPR}, ("obligation.met",)),
    "emission-estimate": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}, 3),
    "review": ("get", {REV, SEC, CO, USC, APPR, AUD}, 4),
    "approver-board": ("get", {REV, SEC, CO, USC, APPR, AUD}, 3),
    "review-detail": ("get", {REV, SEC, CO, USC, APPR, AUD}, 10),
    "review-act": ("post", {REV, SEC, CO, USC, APPR}, ("workflow.approve_technical",)),
    "review-assign": ("post", {REV, SEC, CO, USC, APPR}, ("workflow.assigned",)),
    "commitments": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}, 5),
    "commitments-export": (
        "post",
        {OFF, CA, REV, SEC, CO, USC, APPR, AUD},
        ("commitments.exported",),
    ),  # recorded: POST
    "commitment-new": ("get", {OFF, CA}, 6),
    "commitment-edit": ("get", {OFF, CA}, 7),
    "commitment-action/confirm": ("post", {APPR}, ("commitment.confirmed",)),
    "commitment-action/withdraw": ("post", {OFF, CA}, ("commitment.withdrawn",)),
    "commitment-tranche-pay": ("post", {CO, APPR}, ("tranche.paid",)),
    "compliance-holds": ("get", {CO}, 4),
    "compliance-hold-decide": ("post", {CO}, ("workflow.clear_hold",)),
    "compliance-territories": ("get", {CO, AUD}, 6),
    "compliance-rescreen-progress": ("get", {CO, AUD}, 4),
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


def _draft(w: dict[str, Any]) -> None:
    CountryApplication.objects.filter(pk=w["application"].pk).update(state="draft")


def _api_token(w: dict[str, Any]) -> None:
    w["token"] = token_issue(user=w["users"][OFF], client="table", otp_verified=False)[0]


def _new_invitation(w: dict[str, Any]) -> None:
    w["invite"] = invitation_create(actor=w["users"][CA], email="joiner@example.jp",
                                    role="official", tenant=w["tenant"])[1]  # fmt: skip


def _device(role: str, confirmed: bool) -> Callable[[dict[str, Any]], None]:
    def prepare(w: dict[str, Any]) -> None:
        w["device"] = TOTPDevice.objects.create(user=w["users"][role], name="app",
                                                confirmed=confirmed)  # fmt: skip

    return prepare


def _code(w: dict[str, Any]) -> dict[str, Any]:
    device = w["device"]
    step = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return {"token": f"{step:0{device.digits}d}"}


def _territories(w: dict[str, Any]) -> None:
    call_command("load_territories", verbosity=0)


def _reset_session(w: dict[str, Any]) -> None:
    user = type(w["users"][OFF]).objects.get(pk=w["users"][OFF].pk)  # as stored
    w["reset"] = (urlsafe_base64_encode(force_bytes(user.pk)),
                  default_token_generator.make_token(user))  # fmt: skip


def _commitment_form(w: dict[str, Any]) -> dict[str, Any]:
    return {"tenant": "JP", "vehicle": "global_expansion", "amount": "1000", "currency": "USD",
            "commitment_date": dt.date.today().isoformat(), "application": "",
            "version": "1", "tranche_due_date": "", "tranche_amount": ""}  # fmt: skip


@dataclass(frozen=True)
class Call:
    """How one successful write is made: by ``role`` (None: signed out), with
    ``body(world)`` after ``prepare(world)`` (both inside the call's rolled-back transaction;
    ``world`` is a copy the prepare step may add to), at ``path(world)`` where the walker's
    URL cannot do (a secret or UUID in the path). ``verbs``: what it appends, in order;
    None for a "post" row of ENDPOINTS, whose contract holds them."""

    role: str | None
    body: Callable[[dict[str, Any]], dict[str, Any]] = lambda w: {}
    prepare: Callable[[dict[str, Any]], None] = lambda w: None
    verbs: tuple[str, ...] | None = None
    path: Callable[[dict[str, Any]], str] | None = None
    session: Callable[[dict[str, Any]], dict[str, Any]] | None = None


# (table key or route name, method) -> the call. Every write method a route accepts (as the
# resolver and the views declare them: see _write_methods) is here or in NO_AUDIT.
WRITE_CALLS: dict[tuple[str, str], Call] = {
    ("invitation-resend", "post"): Call(CA),
    ("member-reset-device", "post"): Call(PA),
    ("commitment-confirm", "post"): Call(APPR, lambda w: {"version": 1}, _approved_partnership),
    ("commitment-pay", "post"): Call(CO, lambda w: {"payment_reference": "SWIFT-1"}, _confirmed),
    ("commitment-withdraw", "post"): Call(OFF, lambda w: {"version": 1}),
    ("people-invite", "post"): Call(
        CA, lambda w: {"email": "new@example.jp", "role": "official", "tenant": "JP"}
    ),
    ("people-invitation-revoke", "post"): Call(CA),
    ("people-invitation-resend", "post"): Call(CA),
    ("audit-verify", "post"): Call(AUD),
    ("audit-export", "post"): Call(AUD, lambda w: {"format": "csv"}),
    ("application-withdraw", "post"): Call(
        OFF, lambda w: {"confirmed": "1", "version": _version(w), "rationale": "No longer needed."}
    ),
    ("application-reply", "post"): Call(
        OFF,
        lambda w: {"text": "The answers.", "version": _version(w)},
        _info_requested,
    ),
    ("obligation-evidence", "post"): Call(OFF, lambda w: {"file": _png()}),
    ("obligation-met", "post"): Call(CO, lambda w: {"note": "Seen the VEU approval."}),
    ("review-act", "post"): Call(
        REV,
        lambda w: {
            "action": "approve_technical",
            "version": _version(w),
            "rationale": "Sound.",
            "confirmed": "1",
        },
        _app_state("technical_review"),
    ),
    ("review-assign", "post"): Call(
        REV, lambda w: {"assignee": ""}, _app_state("technical_review")
    ),
    ("commitments-export", "post"): Call(OFF),
    ("commitment-action/confirm", "post"): Call(
        APPR, lambda w: {"version": 1}, _approved_partnership
    ),
    ("commitment-action/withdraw", "post"): Call(OFF, lambda w: {"version": 1}),
    ("commitment-tranche-pay", "post"): Call(
        CO, lambda w: {"payment_reference": "SWIFT-1"}, _confirmed
    ),
    ("compliance-hold-decide", "post"): Call(
        CO,
        lambda w: {
            f"a{w['application'].pk}-action": "clear_hold",
            f"a{w['application'].pk}-version": _version(w),
            f"a{w['application'].pk}-rationale": "Cleared.",
        },
        _app_state("screening_hold"),
    ),
    # Writes on routes the table probes with GET, and on the public and any-user routes.
    ("api-token", "post"): Call(
        None,
        lambda w: {"username": w["users"][OFF].username, "password": PASSWORD},
        verbs=("auth.token_created",),
    ),
    ("api-tokens", "delete"): Call(OFF, prepare=_api_token, verbs=("auth.signed_out_everywhere",)),
    ("api-token-detail", "delete"): Call(
        OFF,
        prepare=_api_token,
        verbs=("auth.token_revoked",),
        path=lambda w: f"/api/v1/auth/tokens/{w['token'].public_id}/",
    ),
    ("account-token-revoke", "post"): Call(
        OFF,
        prepare=_api_token,
        verbs=("auth.token_revoked",),
        path=lambda w: reverse("account-token-revoke", args=[w["token"].public_id]),
    ),
    ("api-invitation-accept", "post"): Call(
        None,
        lambda w: {"token": w["invite"], "username": "joiner", "password": NEW_PASSWORD},
        _new_invitation,
        verbs=("user.created", "role.granted", "invitation.accepted"),
    ),
    ("invitation-accept", "post"): Call(
        None,
        lambda w: {"username": "joiner", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        _new_invitation,
        verbs=("user.created", "role.granted", "invitation.accepted", "auth.login"),
        path=lambda w: reverse("invitation-accept", args=[w["invite"]]),
    ),
    ("invitation-list", "post"): Call(
        CA,
        lambda w: {"email": "api-new@example.jp", "role": "official", "tenant": "JP"},
        verbs=("user.invited",),
    ),
    ("invitation-detail", "delete"): Call(CA, verbs=("invitation.revoked",)),
    ("member-detail", "patch"): Call(
        CA, lambda w: {"is_active": False}, verbs=("user.deactivated",)
    ),
    ("tenant-list", "post"): Call(
        PA,
        lambda w: {
            "code": "KE",
            "name": "Kenya",
            "languages": ["en"],
            "time_zone": "Africa/Nairobi",
        },
        _territories,
        verbs=("tenant.created",),
    ),
    ("audit-event-verify", "post"): Call(AUD, verbs=("audit.verified",)),
    ("application-list", "post"): Call(
        OFF, lambda w: example_payload(tenant="JP"), verbs=("application.created",)
    ),
    ("application-detail", "patch"): Call(
        OFF,
        lambda w: {"title": "Renamed", "version": _version(w)},
        _draft,
        verbs=("application.updated",),
    ),
    ("application-attachments", "post"): Call(
        OFF, lambda w: {"file": _png()}, _draft, verbs=("attachment.added",)
    ),
    ("application-transitions", "post"): Call(
        REV,
        lambda w: {"action": "approve_technical", "version": _version(w), "rationale": "Sound."},
        _app_state("technical_review"),
        verbs=("workflow.approve_technical",),
    ),
    ("application-screenings", "post"): Call(
        CO, prepare=_territories, verbs=("screening.requested",)
    ),
    ("commitment-list", "post"): Call(
        OFF,
        lambda w: {
            "vehicle": "global_expansion",
            "amount": "1000",
            "currency": "USD",
            "commitment_date": dt.date.today().isoformat(),
        },
        verbs=("commitment.created",),
    ),
    ("commitment-detail", "patch"): Call(
        OFF,
        lambda w: {
            "amount": "2000",
            "version": 1,
            "tranches": [{"due_date": dt.date.today().isoformat(), "amount": "2000"}],
        },
        verbs=("commitment.updated",),
    ),
    ("login", "post"): Call(
        None,
        lambda w: {"username": w["users"][OFF].username, "password": PASSWORD},
        verbs=("auth.login",),
    ),
    ("logout", "post"): Call(OFF, verbs=("auth.logout",)),
    ("two-factor-setup", "post"): Call(
        REV,
        _code,
        _device(REV, confirmed=False),
        verbs=("auth.2fa_enrolled", "auth.recovery_codes_issued"),
        session=lambda w: {ENROL_SESSION_KEY: w["users"][REV].pk},
    ),
    ("two-factor-verify", "post"): Call(
        REV, _code, _device(REV, confirmed=True), verbs=("auth.2fa_verified",)
    ),
    ("password_change", "post"): Call(
        OFF,
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        verbs=("password.changed",),
    ),
    ("password_reset", "post"): Call(
        None, lambda w: {"email": w["users"][OFF].email}, verbs=("password.reset_requested",)
    ),
    ("password_reset_confirm", "post"): Call(
        None,
        lambda w: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        _reset_session,
        verbs=("password.reset",),
        path=lambda w: reverse("password_reset_confirm", args=[w["reset"][0], "set-password"]),
        session=lambda w: {"_password_reset_token": w["reset"][1]},
    ),
    ("account-sign-out-everywhere", "post"): Call(OFF, verbs=("auth.signed_out_everywhere",)),
    ("people-deactivate", "post"): Call(CA, verbs=("user.deactivated",)),
    ("people-reset-device", "post"): Call(PA, verbs=("otp.reset",)),
    ("countries", "post"): Call(
        PA,
        lambda w: {"code": "KE", "name": "Kenya", "languages": "en", "time_zone": "Africa/Nairobi"},
        _territories,
        verbs=("tenant.created",),
    ),
    ("application-new", "post"): Call(
        OFF, lambda w: {"title": "A new one"}, verbs=("application.created",)
    ),
    ("application-edit", "post"): Call(
        OFF,
        lambda w: {"title": "Renamed", "version": _version(w)},
        _draft,
        verbs=("application.updated",),
    ),
    ("application-submit", "post"): Call(
        OFF,
        lambda w: {"confirm": "1", "version": _version(w)},
        _draft,
        verbs=("application.submitted",),
    ),
    ("commitment-new", "post"): Call(OFF, _commitment_form, verbs=("commitment.created",)),
    ("commitment-edit", "post"): Call(
        OFF, lambda w: {**_commitment_form(w), "amount": "2000"}, verbs=("commitment.updated",)
    ),
}

# Write methods a route accepts whose call appends no audit event, and why.
_NO_BODY = "Django parses no form body on PUT: the form is never valid, nothing is written"
NO_AUDIT: dict[tuple[str, str], str] = {
    **{(probe, method): "a health probe answers every method and writes nothing"
       for probe in ("healthz", "readyz") for method in ("post", "put", "patch", "delete")},
    **{("set_language", method): "one's own language preference (cookie, User.language)"
       for method in ("post", "put", "patch", "delete")},
    **{(key, "put"): _NO_BODY
       for key in ("login", "password_change", "password_reset", "password_reset_confirm")},
}  # fmt: skip


def test_every_write_row_has_its_call():
    writes = {key for key, (method, _roles, _expect) in ENDPOINTS.items() if method == "post"}
    posts = {key for (key, method), call in WRITE_CALLS.items() if call.verbs is None}
    assert writes == posts
    assert not set(WRITE_CALLS) & set(NO_AUDIT)
    for (key, _method), call in WRITE_CALLS.items():
        if key in ENDPOINTS:  # (a session key opens two-factor set-up, served to nobody)
            assert call.role in ENDPOINTS[key][1] or call.session, key
        else:
            assert key in PUBLIC | ANY_USER_BY_ID, key


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


def _write_methods(path: str) -> set[str]:
    """The write methods the view of ``path`` declares: a viewset's method mapping, an API or
    class-based view's handlers."""
    view = resolve(path).func
    actions = getattr(view, "actions", None)
    if actions is not None:
        return {method for method in actions if method in WRITE_METHODS}
    cls = getattr(view, "cls", None) or view.__dict__["view_class"]  # (functions: probed)
    return {m for m in WRITE_METHODS if m in cls.http_method_names and hasattr(cls, m)}


def _function_view(path: str) -> bool:
    view = resolve(path).func
    return not (getattr(view, "cls", None) or getattr(view, "view_class", None))


def _send(client: Any, method: str, path: str, body: dict[str, Any], api: bool) -> Any:
    if not api:
        response = getattr(client, method)(path, body)
    else:
        files = any(isinstance(value, SimpleUploadedFile) for value in body.values())
        response = getattr(client, method)(path, body, format="multipart" if files else "json")
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def _walked(world: dict[str, Any], token: Any) -> dict[str, list[str]]:  # noqa: F811
    """Table key (or route name) -> its concrete paths; the route the walker cannot fill
    (a token's UUID) from ``token``."""
    paths: dict[str, list[str]] = {}
    for url in all_urls(ids_of(world)):
        if not url.path.startswith("/admin/"):
            key = url.name if url.name in PUBLIC | ANY_USER_BY_ID else _key(url.name, url.path)
            paths.setdefault(key, []).append(url.path)
    paths["account-token-revoke"] = [reverse("account-token-revoke", args=[token.public_id])]
    return paths


def test_every_write_method_has_its_call_or_a_reason(world, jp):  # noqa: F811
    """Every (route, write method) the portal accepts is in WRITE_CALLS or NO_AUDIT, and the
    other way round. DRF and class-based views declare their methods; function views are
    probed by a caller the row serves (405: not accepted). NO_AUDIT calls append nothing."""
    users = {role: make_user(role, jp if role in TENANT_ROLES else None, f"meta-{role}")
             for role in Role}  # fmt: skip
    clients = _clients(users)
    anonymous = {True: APIClient(), False: Client()}
    found: set[tuple[str, str]] = set()
    wrote = []
    token = token_issue(user=users[OFF], client="meta", otp_verified=False)[0]
    for key, paths in _walked(world, token).items():
        served = ENDPOINTS[key][1] if key in ENDPOINTS else NOBODY
        role = next((r for r in Role if r in served), None if key in PUBLIC else OFF)
        post = WRITE_CALLS.get((key, "post"))
        if post is not None and post.session is not None:  # the caller its route needs
            role = post.role
        for path in paths:
            api = path.startswith("/api/")
            client = anonymous[api] if role is None else clients[(role, api)]
            if post is not None and post.session is not None and role is not None:
                session = client.session
                session.update(post.session({**world, "users": users}))
                session.save()
            probed = _function_view(path)
            declared = set(WRITE_METHODS) if probed else _write_methods(path)
            for method in sorted(declared):
                with transaction.atomic():
                    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
                    response = _send(client, method, path, {}, api)
                    appended = AuditEvent.objects.filter(id__gt=last or 0).exists()
                    transaction.set_rollback(True)
                if probed and response.status_code == 405:
                    continue
                found.add((key, method))
                if (key, method) in NO_AUDIT and appended:
                    wrote.append(f"{key} {method.upper()} {path}")
    listed = set(WRITE_CALLS) | set(NO_AUDIT)
    assert not found - listed, f"write methods with no call nor reason: {sorted(found - listed)}"
    assert not listed - found, f"calls of write methods no route accepts: {sorted(listed - found)}"
    assert not wrote, f"NO_AUDIT writes that appended an event: {wrote}"


def test_each_write_appends_exactly_its_audit_verbs(world, jp):  # noqa: F811
    """Each WRITE_CALLS call, on every concrete path of its route, appends exactly its verbs
    (real services and recorder, AuditEvent rows), in order; each call rolled back."""
    users = {role: make_user(role, jp if role in TENANT_ROLES else None, f"table-{role}")
             for role in Role}  # fmt: skip
    wrong, called = [], set()
    token = token_issue(user=users[OFF], client="walk", otp_verified=False)[0]
    walked = _walked(world, token)
    for (key, method), call in WRITE_CALLS.items():
        for walked_path in walked[key] if call.path is None else [""]:
            if walked_path and method not in (
                {"post"} if _function_view(walked_path) else _write_methods(walked_path)
            ):
                continue  # (the page of a name an API route shares; pages write on POST)
            w = {**world, "users": users}
            with transaction.atomic():
                call.prepare(w)
                path = walked_path or call.path(w)  # type: ignore[misc]
                api = path.startswith("/api/")
                if call.role is None:
                    client = APIClient() if api else Client()
                else:
                    client = _clients({call.role: users[call.role]})[(call.role, api)]
                if call.session is not None:
                    session = client.session
                    session.update(call.session(w))
                    session.save()
                last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
                response = _send(client, method, path, call.body(w), api)
                verbs = tuple(AuditEvent.objects.filter(id__gt=last).order_by("id")
                              .values_list("verb", flat=True))  # fmt: skip
                transaction.set_rollback(True)
            called.add((key, method))
            expected = ENDPOINTS[key][2] if call.verbs is None else call.verbs
            if verbs != expected or response.status_code not in (200, 201, 202, 204, 302):
                wrong.append(f"{key}: {call.role} {method.upper()} {path} -> "
                             f"{response.status_code} {verbs}, table: {expected}"
                             f" {response.content[:300]!r}")  # fmt: skip
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
