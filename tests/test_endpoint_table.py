"""The table of every endpoint and page with the roles it serves (issue #13, item 6).

Generic checks driven by the table, over the concrete URLs of the shared walker
(tests/urlwalk.py), each request rolled back so one role's write never changes the next
role's answer:

- anonymous: 401 (API) or the login page (pages), except the PUBLIC routes;
- every role the table does not name is refused (403, or 404 where the object is not even
  visible to it); every role it names gets past the gate (any other answer: 200, 302, 400…).

The identical-404 check for another country's ids runs over every route in
tests/test_isolation_matrix.py (the same walker). A meta-test fails when a URL pattern or a
router-registered viewset is missing from the table, or the table names one that is gone.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from portal.tenancy.roles import TENANT_ROLES, Role
from tests.factories import make_user
from tests.portal.test_audit_readonly import world  # noqa: F401  (the shared fixture)
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
ENDPOINTS: dict[str, tuple[str, frozenset[str] | set[str]]] = {
    "api-tokens": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "api-me": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "invitation-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "invitation-detail": ("get", {CA, PA}),
    "invitation-resend": ("post", {CA}),
    "member-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "member-detail": ("get", {CA, PA}),
    "member-reset-device": ("post", {PA}),
    "tenant-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "audit-event-list": ("get", {AUD}),
    "audit-event-verify": ("get", {AUD}),
    "audit-event-detail": ("get", {AUD}),
    "application-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "application-detail": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "application-attachments": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "application-decisions": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "application-download": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "application-obligations": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "application-transitions": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "commitment-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "commitment-totals": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "commitment-detail": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "commitment-confirm": ("post", {APPR}),
    "commitment-pay": ("post", {CO, APPR}),
    "commitment-withdraw": ("post", {OFF, CA}),
    "territory-version-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "territory-list": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "application-screenings": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "dashboard": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "two-factor-setup": ("get", NOBODY),
    "two-factor-codes": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "two-factor-verify": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "password_change": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "password_change_done": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "account-security": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "account-sign-out-everywhere": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "people": ("get", {CA, PA}),
    "people-invite": ("post", {CA, PA}),
    "people-invitation-revoke": ("post", {CA}),
    "people-invitation-resend": ("post", {CA}),
    "people-deactivate": ("get", {CA, PA}),
    "people-reset-device": ("get", {PA}),
    "countries": ("get", {PA}),
    "audit-explorer": ("get", {AUD}),
    "audit-object": ("get", {AUD}),
    "audit-verify": ("post", {AUD}),
    "audit-verify-status": ("get", {AUD}),
    "audit-checkpoints": ("get", {AUD}),
    "audit-export": ("post", {AUD}),
    "applications": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "application-new": ("get", {OFF, CA}),
    "application-edit": ("get", {OFF, CA}),
    "application-submit": ("get", {OFF, CA}),
    # Programme staff are answered 200 with the page and a message, not 403 (found by this
    # table; nothing changes, as the auditor matrix checks): their own rule, not the route's.
    "application-withdraw": ("post", {OFF, CA, REV, SEC, CO, USC, APPR}),
    "application-reply": ("post", {OFF, CA}),
    "attachment-download": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "obligation-evidence": ("post", {OFF, CA}),
    "obligation-met": ("post", {CO, USC, APPR}),
    "emission-estimate": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD, PA}),
    "review": ("get", {REV, SEC, CO, USC, APPR, AUD}),
    "approver-board": ("get", {REV, SEC, CO, USC, APPR, AUD}),
    "review-detail": ("get", {REV, SEC, CO, USC, APPR, AUD}),
    "review-act": ("post", {REV, SEC, CO, USC, APPR}),
    "review-assign": ("post", {REV, SEC, CO, USC, APPR}),
    "commitments": ("get", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),
    "commitments-export": ("post", {OFF, CA, REV, SEC, CO, USC, APPR, AUD}),  # recorded: POST
    "commitment-new": ("get", {OFF, CA}),
    "commitment-edit": ("get", {OFF, CA}),
    "commitment-action/confirm": ("post", {APPR}),
    "commitment-action/withdraw": ("post", {OFF, CA}),
    "commitment-tranche-pay": ("post", {CO, APPR}),
    "compliance-holds": ("get", {CO}),
    "compliance-hold-decide": ("post", {CO}),
    "compliance-territories": ("get", {CO, AUD}),
    "compliance-rescreen-progress": ("get", {CO, AUD}),
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
    users = {
        role: make_user(role, jp if role in TENANT_ROLES else None, f"table-{role}")
        for role in Role
    }
    clients: dict[tuple[str, bool], Any] = {}
    for role, user in users.items():
        api, pages = APIClient(), Client()
        api.force_authenticate(user)
        pages.force_login(user)
        clients[(role, True)], clients[(role, False)] = api, pages
    anonymous = {True: APIClient(), False: Client()}
    wrong, checked = [], 0
    for url in all_urls(ids_of(world)):
        if url.path.startswith("/admin/") or url.name in PUBLIC:
            continue
        api = url.path.startswith("/api/")
        if url.name in ANY_USER_BY_ID:
            method, served = "get", NOBODY
        else:
            method, served = ENDPOINTS[_key(url.name, url.path)]
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
