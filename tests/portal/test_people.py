"""People (DESIGN §5b): countries, invitations, members, passwords, second factor, tokens,
the admin without secrets and the account-wide brute-force limit."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from partnerships.models import CountryApplication, OutboxEmail, State
from portal.accounts import services, throttle
from portal.accounts.models import ApiToken, Invitation
from portal.audit.models import AuditEvent
from portal.tenancy.models import Membership, ProgrammeRole, Tenant
from portal.tenancy.services import role_grant
from tests.factories import PASSWORD, example_payload, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and new passphrase 42"


def _link_token(kind: str) -> str:
    """The secret from the newest outbox e-mail's link of this kind."""
    body = OutboxEmail.objects.latest("id").body
    return re.search(rf"/accounts/{kind}/([A-Za-z0-9_-]+)/", body).group(1)


def _token_for(username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json"
    )


def _verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))


@pytest.fixture
def territories(db: None) -> None:
    call_command("load_territories", verbosity=0)


@pytest.fixture
def platform_admin(db: None) -> Any:
    return make_user("platform_admin", username="platform-admin")


# --- 1. Countries -----------------------------------------------------------------------------


def test_a_platform_admin_adds_a_country_with_no_people(api, territories, platform_admin):
    api.as_user(platform_admin)
    body = {"code": "KE", "name": "Kenya", "languages": ["en", "sw"], "time_zone": "Africa/Nairobi"}
    response = api.post("/api/v1/tenants/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {**body, "status": "active"}
    kenya = Tenant.objects.get(code="KE")
    assert not Membership.objects.filter(tenant=kenya).exists()
    event = AuditEvent.objects.get(verb="tenant.created")
    assert event.actor == platform_admin and event.tenant == kenya
    # Not on the territory list, not ISO, duplicate, bad language or zone: 400 by field.
    for bad, field in (({"code": "XK"}, "code"), ({"code": "ke"}, "code"),
                       ({"code": "KE"}, "code"), ({"languages": ["xx"]}, "languages"),
                       ({"time_zone": "Mars/Olympus"}, "time_zone")):  # fmt: skip
        answer = api.post("/api/v1/tenants/", {**body, "code": "NG", **bad}, format="json")
        assert answer.status_code == 400 and field in answer.json(), (bad, answer.json())
    assert Tenant.objects.count() == 1


@pytest.mark.parametrize("role", ["official", "country_admin", "approver", "auditor"])
def test_only_platform_admins_add_countries(api, jp, territories, role):
    api.as_user(make_user(role, jp if role in ("official", "country_admin") else None))
    response = api.post("/api/v1/tenants/", {}, format="json")
    assert response.status_code == 403
    assert not Tenant.objects.filter(code="KE").exists()


def test_the_country_page_adds_kenya(client, territories, platform_admin):
    client.force_login(platform_admin)
    page = client.get("/countries/")
    assert page.status_code == 200 and b'name="time_zone"' in page.content
    bad = client.post("/countries/", {"code": "XX", "name": "Nowhere"})
    assert bad.status_code == 400 and b'aria-invalid="true"' in bad.content
    done = client.post(
        "/countries/",
        {"code": "KE", "name": "Kenya", "languages": "en, sw", "time_zone": "Africa/Nairobi"},
    )
    assert done.status_code == 302 and done["Location"] == "/people/?tenant=KE"
    assert Tenant.objects.get(code="KE").languages == ["en", "sw"]


# --- 2. Invitations ---------------------------------------------------------------------------


def test_invite_accept_first_login_submit_through_the_api(
    api, territories, platform_admin, settings
):
    """Kenya from nothing: its admin and an official join and submit, all through the API."""
    settings.PORTAL_STAFF_2FA = "required"
    api.as_user(platform_admin)
    api.post("/api/v1/tenants/", {"code": "KE", "name": "Kenya", "languages": ["en"],
                                  "time_zone": "Africa/Nairobi"}, format="json")  # fmt: skip
    sent = api.post("/api/v1/invitations/", {"email": "Admin@Example.KE", "role": "country_admin",
                                             "tenant": "KE"}, format="json")  # fmt: skip
    assert sent.status_code == 201, sent.json()
    assert sent.json()["status"] == "pending" and sent.json()["email"] == "admin@example.ke"
    token = _link_token("invitation")
    assert Invitation.objects.get().token_hash == services.hash_secret(token)  # hash only
    anonymous = APIClient()
    accepted = anonymous.post("/api/v1/invitations/accept/",
                              {"token": token, "username": "wanjiru", "password": NEW_PASSWORD},
                              format="json")  # fmt: skip
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json() == {"username": "wanjiru", "roles": ["country_admin"],
                               "two_factor_required": True}  # fmt: skip
    # A country admin needs a second factor: no token without it.
    assert _token_for("wanjiru", NEW_PASSWORD).json() == {
        "otp": ["Set up two-step sign-in in the portal first."]
    }
    wanjiru = get_user_model().objects.get(username="wanjiru")
    device = TOTPDevice.objects.create(user=wanjiru, name="app", confirmed=True)
    code = f"{totp(device.bin_key):06d}"
    admin_token = _token_for("wanjiru", NEW_PASSWORD, otp=code, client="kenya-admin").json()
    admin_api = APIClient(HTTP_AUTHORIZATION=f"Token {admin_token['token']}")
    invited = admin_api.post("/api/v1/invitations/", {"email": "otieno@example.ke",
                                                      "role": "official"}, format="json")  # fmt: skip
    assert invited.status_code == 400 and "tenant" in invited.json()
    invited = admin_api.post("/api/v1/invitations/", {"email": "otieno@example.ke",
                                                      "role": "official", "tenant": "KE"},
                             format="json")  # fmt: skip
    assert invited.status_code == 201, invited.json()
    accepted = anonymous.post("/api/v1/invitations/accept/",
                              {"token": _link_token("invitation"), "username": "otieno",
                               "password": NEW_PASSWORD}, format="json")  # fmt: skip
    assert accepted.json()["two_factor_required"] is False
    official = APIClient(
        HTTP_AUTHORIZATION=f"Token {_token_for('otieno', NEW_PASSWORD).json()['token']}"
    )
    payload = example_payload(tenant="KE")
    payload["sites"][0]["country"] = "KE"
    created = official.post("/api/v1/applications/", payload, format="json")
    assert created.status_code == 201, created.json()
    submitted = official.post(f"/api/v1/applications/{created.json()['id']}/transitions/",
                              {"action": "submit", "version": created.json()["version"]},
                              format="json")  # fmt: skip
    assert submitted.status_code == 200, submitted.json()
    assert CountryApplication.objects.get().state in (State.SCREENING, State.TECHNICAL_REVIEW,
                                                      State.SCREENING_HOLD)  # fmt: skip
    members = admin_api.get("/api/v1/members/").json()["results"]
    assert sorted(m["username"] for m in members) == ["otieno", "wanjiru"]
    verbs = _verbs()
    for verb in ("tenant.created", "user.invited", "invitation.accepted", "user.created",
                 "role.granted", "auth.token_created", "application.submitted"):  # fmt: skip
        assert verb in verbs, verb


def test_accepting_in_the_browser_leads_to_enrolment_first(client, jp, settings):
    settings.PORTAL_STAFF_2FA = "required"
    jp_admin = make_user("country_admin", jp, "jp-admin")
    _, token = services.invitation_create(
        actor=jp_admin, email="new@example.jp", role="country_admin", tenant=jp
    )
    page = client.get(f"/accounts/invitation/{token}/")
    assert page.status_code == 200 and b"jp-admin" in page.content
    short = client.post(f"/accounts/invitation/{token}/",
                        {"username": "kenji", "password1": "short", "password2": "short"})  # fmt: skip
    assert short.status_code == 400 and b'aria-invalid="true"' in short.content
    assert not get_user_model().objects.filter(username="kenji").exists()
    done = client.post(f"/accounts/invitation/{token}/",
                       {"username": "kenji", "password1": NEW_PASSWORD,
                        "password2": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/accounts/2fa/setup/"
    assert client.get("/applications/")["Location"].startswith("/accounts/2fa/setup/")
    setup = client.get("/accounts/2fa/setup/")
    assert setup.status_code == 200 and b"<svg" in setup.content  # enrolment is open to them


def test_who_may_invite_whom(api, jp, fr, platform_admin):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    official = make_user("official", jp, "jp-official")
    approver = make_user("approver", username="approver-x")
    cases = [
        (jp_admin, {"email": "a@example.fr", "role": "official", "tenant": "FR"}, 403),
        (jp_admin, {"email": "a@example.org", "role": "reviewer"}, 403),
        (official, {"email": "a@example.jp", "role": "official", "tenant": "JP"}, 403),
        (approver, {"email": "a@example.jp", "role": "official", "tenant": "JP"}, 403),
        (platform_admin, {"email": "a@example.jp", "role": "official", "tenant": "JP"}, 403),
        (platform_admin, {"email": "a@example.org", "role": "reviewer", "tenant": "JP"}, 400),
    ]
    for actor, body, expected in cases:
        response = api.as_user(actor).post("/api/v1/invitations/", body, format="json")
        assert response.status_code == expected, (actor, body, response.json())
    assert not Invitation.objects.exists() and not OutboxEmail.objects.exists()
    for actor, body in ((jp_admin, {"email": "b@example.jp", "role": "country_admin", "tenant": "JP"}),
                        (platform_admin, {"email": "c@example.fr", "role": "country_admin", "tenant": "FR"}),
                        (platform_admin, {"email": "d@example.org", "role": "approver"})):  # fmt: skip
        assert (
            api.as_user(actor).post("/api/v1/invitations/", body, format="json").status_code == 201
        )
    assert OutboxEmail.objects.count() == 3


def test_nobody_grants_a_role_to_themselves(api, client, platform_admin):
    platform_admin.email = "ops@example.org"
    platform_admin.save()
    api.as_user(platform_admin)
    own = api.post("/api/v1/invitations/", {"email": "OPS@example.org", "role": "approver"},
                   format="json")  # fmt: skip
    assert own.status_code == 400 and "themselves" in str(own.json())
    with pytest.raises(PermissionDenied):
        role_grant(user=platform_admin, role="approver", actor=platform_admin)
    # Accepting one's own invitation into one's own account is refused too.
    _, token = services.invitation_create(
        actor=platform_admin, email="other@example.org", role="approver", tenant=None
    )
    answer = APIClient().post("/api/v1/invitations/accept/", {"token": token,
                              "username": "platform-admin", "password": PASSWORD}, format="json")  # fmt: skip
    assert answer.status_code == 403
    # In the admin: roles are read-only, and staff flags cannot be edited.
    platform_admin.is_staff = platform_admin.is_superuser = True
    platform_admin.save()
    client.force_login(platform_admin)
    assert client.get("/admin/tenancy/programmerole/add/").status_code == 403
    client.post(f"/admin/accounts/user/{platform_admin.pk}/change/",
                {"username": "platform-admin", "is_superuser": "on", "is_active": "on"})  # fmt: skip
    assert set(
        ProgrammeRole.objects.filter(user=platform_admin).values_list("role", flat=True)
    ) == {"platform_admin"}


def test_used_revoked_expired_or_made_up_tokens_get_the_same_400(client, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    tokens = {}
    for name in ("used", "revoked", "expired"):
        invitation, tokens[name] = services.invitation_create(
            actor=jp_admin, email=f"{name}@example.jp", role="official", tenant=jp
        )
        if name == "revoked":
            services.invitation_revoke(invitation=invitation, actor=jp_admin)
        if name == "expired":
            Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    services.invitation_accept(token=tokens["used"], username="used-one", password=NEW_PASSWORD)
    tokens["made_up"] = "x" * 43
    answers = set()
    for name, token in tokens.items():
        response = APIClient().post("/api/v1/invitations/accept/", {"token": token,
                                    "username": f"n-{name}", "password": NEW_PASSWORD},
                                    format="json")  # fmt: skip
        answers.add((response.status_code, str(response.json())))
        page = client.get(f"/accounts/invitation/{token}/")
        answers.add((page.status_code, "page"))
    assert answers == {
        (400, "{'token': ['This invitation link is not valid. Ask for a new invitation.']}"),
        (400, "page"),
    }
    assert not get_user_model().objects.filter(username__startswith="n-").exists()


def test_resend_replaces_the_link_and_revoke_is_audited(api, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    invitation, old = services.invitation_create(
        actor=jp_admin, email="x@example.jp", role="official", tenant=jp
    )
    api.as_user(jp_admin)
    assert api.post(f"/api/v1/invitations/{invitation.pk}/resend/").status_code == 200
    new = _link_token("invitation")
    assert new != old and services.invitation_for_token(old) is None
    assert services.invitation_for_token(new) == invitation
    assert api.delete(f"/api/v1/invitations/{invitation.pk}/").status_code == 204
    assert services.invitation_for_token(new) is None
    assert api.get(f"/api/v1/invitations/{invitation.pk}/").json()["status"] == "revoked"
    assert [v for v in _verbs() if v.startswith(("user.", "invitation."))] == [
        "user.invited",
        "invitation.resent",
        "invitation.revoked",
    ]


# --- 3. Members -------------------------------------------------------------------------------


def test_a_deactivated_officials_session_and_token_answer_401_at_once(api, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    official = make_user("official", jp, "jp-official")
    token = _token_for("jp-official").json()["token"]
    browser = Client()
    browser.force_login(official)
    assert browser.get("/api/v1/me/").status_code == 200
    with_token = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert with_token.get("/api/v1/me/").status_code == 200
    api.as_user(jp_admin)
    response = api.patch(f"/api/v1/members/{official.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert response.json()["roles"][0]["ended_at"]
    assert browser.get("/api/v1/me/").status_code == 401
    assert browser.get("/applications/").status_code == 302
    assert with_token.get("/api/v1/me/").status_code == 401
    membership = Membership.objects.get(user=official)  # kept, with its end date
    assert membership.ended_at is not None
    event = AuditEvent.objects.get(verb="user.deactivated")
    assert event.actor == jp_admin and event.changes["roles_ended"] == ["official@JP"]
    # Reactivation is by a new invitation, which brings the same account back.
    again = api.patch(f"/api/v1/members/{official.pk}/", {"is_active": True}, format="json")
    assert again.status_code == 400
    _, invite = services.invitation_create(
        actor=jp_admin, email=official.email, role="official", tenant=jp
    )
    back = services.invitation_accept(token=invite, username="jp-official", password=NEW_PASSWORD)
    assert back.pk == official.pk and back.is_active
    assert Membership.objects.filter(user=official).count() == 2  # the old one stays ended
    assert "user.reactivated" in _verbs()


def test_country_admins_manage_only_their_own_people(api, jp, fr):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    fr_admin = make_user("country_admin", fr, "fr-admin")
    jp_official = make_user("official", jp, "jp-official")
    both = make_user("official", jp, "jp-and-fr")
    Membership.objects.create(user=both, tenant=fr, role="official")
    api.as_user(fr_admin)
    listed = {m["username"] for m in api.get("/api/v1/members/").json()["results"]}
    assert listed == {"fr-admin", "jp-and-fr"}
    shared = api.get(f"/api/v1/members/{both.pk}/").json()
    assert [r["tenant"] for r in shared["roles"]] == ["FR"]  # JP's roles are not shown to FR
    assert api.get(f"/api/v1/members/{jp_official.pk}/").status_code == 404
    assert api.patch(f"/api/v1/members/{jp_official.pk}/", {"is_active": False},
                     format="json").status_code == 404  # fmt: skip
    # Someone who also belongs elsewhere is a platform admin's to deactivate; nobody, oneself.
    assert api.patch(f"/api/v1/members/{both.pk}/", {"is_active": False},
                     format="json").status_code == 403  # fmt: skip
    assert api.patch(f"/api/v1/members/{fr_admin.pk}/", {"is_active": False},
                     format="json").status_code == 403  # fmt: skip
    api.as_user(make_user("official", jp, "plain-official"))
    assert api.get("/api/v1/members/").json()["results"] == []
    assert api.get("/api/v1/invitations/").json()["results"] == []
    assert get_user_model().objects.filter(is_active=False).count() == 0
    api.as_user(jp_admin)
    assert {m["username"] for m in api.get("/api/v1/members/").json()["results"]} == {
        "jp-admin",
        "jp-official",
        "jp-and-fr",
        "plain-official",
    }


def test_the_members_list_costs_the_same_queries_however_many_people(
    api, jp, django_assert_num_queries
):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    api.as_user(jp_admin)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/members/").status_code == 200
        return len(queries)

    count()  # the first request reads the roles; the client's user object then keeps them
    few = count()
    for n in range(12):
        make_user("official", jp, f"jp-{n}")
    # access (2), RLS scope, page of users, memberships, programme roles, devices, RLS reset
    with django_assert_num_queries(few):
        assert len(api.get("/api/v1/members/").json()["results"]) == 13


def test_the_people_page_lists_invites_and_deactivates(client, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    official = make_user("official", jp, "jp-official")
    client.force_login(jp_admin)
    page = client.get("/people/")
    assert page.status_code == 200 and b"jp-official" in page.content
    sent = client.post("/people/invite/", {"email": "new@example.jp", "role": "official",
                                           "tenant": "JP"})  # fmt: skip
    assert sent.status_code == 302
    assert b"new@example.jp" in client.get("/people/").content
    refused = client.post("/people/invite/", {"email": "new@example.fr", "role": "reviewer"})
    assert refused.status_code == 400 and not Invitation.objects.filter(role="reviewer").exists()
    confirm = client.get(f"/people/{official.pk}/deactivate/")
    assert confirm.status_code == 200 and b"Nothing is deleted" in confirm.content
    assert client.post(f"/people/{official.pk}/deactivate/").status_code == 302
    official.refresh_from_db()
    assert not official.is_active
    outsider = make_user("official", jp, "jp-other")
    client.force_login(outsider)
    assert client.get("/people/").status_code == 403


# --- 4. Passwords -----------------------------------------------------------------------------


def test_a_password_change_ends_other_sessions_and_tokens(jp):
    official = make_user("official", jp, "jp-official")
    token = _token_for("jp-official").json()["token"]
    here, elsewhere = Client(), Client()
    for browser in (here, elsewhere):
        assert browser.post("/accounts/login/", {"username": "jp-official",
                                                 "password": PASSWORD}).status_code == 302  # fmt: skip
    weak = here.post("/accounts/password/change/", {"old_password": PASSWORD,
                     "new_password1": "short", "new_password2": "short"})  # fmt: skip
    assert weak.status_code == 200 and b'aria-invalid="true"' in weak.content
    done = here.post("/accounts/password/change/", {"old_password": PASSWORD,
                     "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 302
    assert here.get("/applications/").status_code == 200  # this session stays
    assert elsewhere.get("/applications/").status_code == 302  # the other one ended
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 401
    assert not ApiToken.objects.filter(user=official).exists()
    assert AuditEvent.objects.get(verb="password.changed").changes == {"tokens_revoked": 1}


def test_the_reset_page_answers_alike_for_known_and_unknown_addresses(
    client, jp, django_assert_num_queries
):
    make_user("official", jp, "jp-official")  # jp-official@example.org

    def ask(email: str) -> tuple[int, str, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = Client().post("/accounts/password/reset/", {"email": email})
        return response.status_code, response["Location"], len(queries)

    known, unknown = ask("jp-official@example.org"), ask("nobody@example.org")
    # The same answer; the same work in the request (no mail is sent in it: the outbox
    # row is written for a known address, an audit row for both).
    assert known[:2] == unknown[:2] == (302, "/accounts/password/reset/done/")
    assert known[2] == unknown[2] + 1
    assert OutboxEmail.objects.count() == 1
    assert AuditEvent.objects.filter(verb="password.reset_requested").count() == 2
    link = re.search(r"/accounts/password/reset/([^/]+)/([^/]+)/", OutboxEmail.objects.get().body)
    browser = Client()
    form = browser.get(link.group(0), follow=True)
    assert form.status_code == 200 and b"new_password1" in form.content
    done = browser.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                                     "new_password2": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 302
    assert Client().post("/accounts/login/", {"username": "jp-official",
                                              "password": NEW_PASSWORD}).status_code == 302  # fmt: skip
    assert "password.reset" in _verbs()


# --- 5. Second factor -------------------------------------------------------------------------


def test_recovery_codes_work_once_each(client, settings):
    settings.PORTAL_STAFF_2FA = "required"
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # no back-off between the attempts below
    reviewer = make_user("reviewer", username="rev-codes")
    TOTPDevice.objects.create(user=reviewer, name="app", confirmed=True)
    codes = services.recovery_codes_issue(user=reviewer)
    assert len(codes) == len(set(codes)) == 10
    for code in codes[:2]:
        browser = Client()
        browser.force_login(reviewer)
        assert browser.post("/accounts/2fa/", {"token": code}).status_code == 302
        assert browser.get("/review/").status_code == 200
        again = Client()
        again.force_login(reviewer)
        assert again.post("/accounts/2fa/", {"token": code}).status_code == 400
    assert StaticToken.objects.filter(device__user=reviewer).count() == 8


def test_a_device_reset_sends_a_new_enrolment_link(api, settings, platform_admin):
    settings.PORTAL_STAFF_2FA = "required"
    reviewer = make_user("reviewer", username="rev-lost")
    TOTPDevice.objects.create(user=reviewer, name="app", confirmed=True)
    services.recovery_codes_issue(user=reviewer)
    ApiToken.objects.create(user=reviewer, otp_verified=True)
    api.as_user(reviewer)
    assert api.post(f"/api/v1/members/{platform_admin.pk}/reset-device/").status_code == 404
    api.as_user(platform_admin)
    assert api.post(f"/api/v1/members/{platform_admin.pk}/reset-device/").status_code == 403
    assert api.post(f"/api/v1/members/{reviewer.pk}/reset-device/").status_code == 204
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert not StaticToken.objects.filter(device__user=reviewer).exists()
    assert not ApiToken.objects.filter(user=reviewer).exists()
    mail = OutboxEmail.objects.get()
    assert mail.to == reviewer.email and "/accounts/2fa/enrol/" in mail.body
    event = AuditEvent.objects.get(verb="otp.reset")
    assert event.actor == platform_admin and event.object_id == str(reviewer.pk)


def test_a_token_issued_before_a_second_factor_was_required_stops_working(jp, settings):
    settings.PORTAL_STAFF_2FA = "required"
    official = make_user("official", jp, "jp-official")
    token = _token_for("jp-official").json()["token"]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 200
    Membership.objects.create(user=official, tenant=jp, role="country_admin")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and "one-time code" in response.json()["detail"]
    device = TOTPDevice.objects.create(user=official, name="app", confirmed=True)
    fresh = _token_for("jp-official", otp=f"{totp(device.bin_key):06d}").json()["token"]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {fresh}").get("/api/v1/me/").status_code == 200


# --- 6. API tokens ----------------------------------------------------------------------------


def test_tokens_are_per_client_listed_and_revoked_by_their_owner(jp):
    official = make_user("official", jp, "jp-official")
    other = make_user("official", jp, "jp-other")
    first = _token_for("jp-official", client="laptop").json()
    second = _token_for("jp-official", client="nightly export").json()
    assert first["token"] != second["token"] and first["expiry"]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {first['token']}")
    listed = client.get("/api/v1/auth/tokens/").json()
    assert [(t["client"], t["current"]) for t in listed] == [("nightly export", False),
                                                            ("laptop", True)]  # fmt: skip
    assert all(set(t) == {"id", "client", "created", "expiry", "otp_verified", "current"}
               for t in listed)  # fmt: skip
    theirs = ApiToken.objects.create(user=other)[0]
    assert client.delete(f"/api/v1/auth/tokens/{theirs.public_id}/").status_code == 404
    assert client.get("/api/v1/auth/tokens/not-a-uuid/").status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{listed[0]['id']}/").status_code == 204
    assert (
        APIClient(HTTP_AUTHORIZATION=f"Token {second['token']}").get("/api/v1/me/").status_code
        == 401
    )
    # Sign out everywhere: every token and every session.
    browser = Client()
    browser.force_login(official)
    assert client.delete("/api/v1/auth/tokens/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert browser.get("/applications/").status_code == 302
    assert ApiToken.objects.filter(user=other).exists()
    assert "auth.signed_out_everywhere" in _verbs()


def test_tokens_expire(jp):
    make_user("official", jp, "jp-official")
    token = _token_for("jp-official").json()["token"]
    ApiToken.objects.update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 401


# --- 7. The admin shows no secret -------------------------------------------------------------


def test_admin_pages_contain_no_token_or_totp_key(client, jp, platform_admin):
    from django.contrib import admin
    from django.urls import reverse

    platform_admin.is_staff = platform_admin.is_superuser = True
    platform_admin.save()
    official = make_user("official", jp, "jp-official")
    instance, token = ApiToken.objects.create(user=official)
    device = TOTPDevice.objects.create(user=official, name="app", confirmed=True)
    codes = services.recovery_codes_issue(user=official)
    secrets = [token, instance.digest, instance.token_key, device.key, codes[0]]
    import base64

    secrets.append(base64.b32encode(device.bin_key).decode())
    client.force_login(platform_admin)
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        pages.append(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
        if model_admin.has_add_permission(type("R", (), {"user": platform_admin})()):
            pages.append(reverse(f"admin:{info[0]}_{info[1]}_add"))
        first = model._default_manager.first()
        if first is not None:
            pages.append(reverse(f"admin:{info[0]}_{info[1]}_change", args=[first.pk]))
    pages.append(reverse("admin:accounts_user_change", args=[official.pk]))
    assert len(pages) > 15
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html, (page, secret[:6])
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert not registered & {"accounts.apitoken", "otp_totp.totpdevice", "otp_static.staticdevice"}
    # Everything a platform admin may change there is audited.
    from portal.audit.admin import AuditedModelAdmin

    for model, model_admin in admin.site._registry.items():
        changeable = model_admin.has_change_permission(type("R", (), {"user": platform_admin})())
        assert not changeable or isinstance(model_admin, AuditedModelAdmin), model


# --- 8. Account-wide brute-force limit --------------------------------------------------------


def test_guessing_from_many_addresses_meets_rising_delays(settings, jp):
    settings.PORTAL_ACCOUNT_FREE_FAILURES = 3
    settings.PORTAL_ACCOUNT_MAX_DELAY_SECONDS = 60
    make_user("official", jp, "jp-official")
    for n in range(3):  # axes counts per address; these come from three
        response = Client(REMOTE_ADDR=f"203.0.113.{n}").post(
            "/accounts/login/", {"username": "jp-official", "password": "wrong"}
        )
        assert response.status_code == 200 and b"Try again after" not in response.content
    assert throttle.delay_after(3) == 2 and throttle.delay_after(4) == 4
    assert throttle.delay_after(30) == 60  # capped: a stranger keeps nobody out for long
    # Even the right password waits now, and the page says until when.
    waiting = Client(REMOTE_ADDR="198.51.100.7").post(
        "/accounts/login/", {"username": "jp-official", "password": PASSWORD}
    )
    assert waiting.status_code == 200 and b"Try again after" in waiting.content
    token = _token_for("jp-official")
    assert token.status_code == 429 and int(token["Retry-After"]) <= 2
    # Refused attempts are not counted (they cannot stretch the wait) …
    key = throttle._key("jp-official")
    from django.core.cache import cache

    assert cache.get(key)[0] == 3
    # … and once the wait is over, the owner signs in.
    cache.set(key, (3, time.time() - 3), 60)
    assert (
        Client(REMOTE_ADDR="198.51.100.7")
        .post("/accounts/login/", {"username": "jp-official", "password": PASSWORD})
        .status_code
        == 302
    )
    assert cache.get(key) is None


def test_the_axes_lockout_page_says_when(settings, jp):
    make_user("official", jp, "jp-official")
    browser = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser.post("/accounts/login/", {"username": "jp-official", "password": "wrong"})
    locked = browser.post("/accounts/login/", {"username": "jp-official", "password": "wrong"})
    assert locked.status_code == 429 and b"Try again after" in locked.content
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())


def test_the_first_platform_admin_gets_an_enrolment_link_from_the_shell(settings, capsys):
    settings.PORTAL_STAFF_2FA = "required"
    first = make_user("platform_admin", username="first-admin")
    TOTPDevice.objects.create(user=first, name="lost", confirmed=True)
    call_command("reset_device", "first-admin")
    link = capsys.readouterr().out.strip().rsplit("/accounts/2fa/enrol/", 1)[1].rstrip("/")
    assert not TOTPDevice.objects.filter(user=first).exists()
    assert services.enrolment_link_user(link) == first
    event = AuditEvent.objects.get(verb="otp.reset")
    assert event.actor is None and event.actor_label == "command:reset_device"
    with pytest.raises(Exception, match="Unknown user"):
        call_command("reset_device", "nobody")


def test_after_adding_a_country_the_invitation_form_names_it(client, jp, fr, platform_admin):
    client.force_login(platform_admin)
    page = client.get("/people/?tenant=FR").content.decode()
    assert re.search(r'<option value="FR" selected>', page)
    assert re.search(r'<option value="country_admin" selected>', page)
    for junk in ("ZZ", "fr\x00", "%FF"):
        assert client.get("/people/", {"tenant": junk}).status_code == 200


def test_the_dashboard_counts_invitations_not_yet_accepted(client, jp):
    jp_admin = make_user("country_admin", jp, "jp-admin")
    services.invitation_create(actor=jp_admin, email="a@example.jp", role="official", tenant=jp)
    expired, _ = services.invitation_create(
        actor=jp_admin, email="b@example.jp", role="official", tenant=jp
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    client.force_login(jp_admin)
    page = client.get("/").content.decode()
    assert (
        '<span class="count">1</span> <span class="panel-title">Invitations not yet accepted'
        in page
    )
    client.force_login(make_user("official", jp, "jp-official"))
    assert "Invitations not yet accepted" not in client.get("/").content.decode()


def test_an_official_may_choose_a_second_factor_and_is_then_held_to_it(client, jp, settings):
    settings.PORTAL_STAFF_2FA = "required"
    jp_admin = make_user("country_admin", jp, "jp-admin")
    _, token = services.invitation_create(
        actor=jp_admin, email="o@example.jp", role="official", tenant=jp
    )
    accepted = client.post(f"/accounts/invitation/{token}/", {"username": "optional",
                           "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})  # fmt: skip
    assert accepted["Location"] == "/"  # not required for an official
    assert client.get("/applications/").status_code == 200
    assert b"/accounts/2fa/setup/" in client.get("/accounts/security/").content
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user__username="optional")
    assert (
        client.post("/accounts/2fa/setup/", {"token": f"{totp(device.bin_key):06d}"}).status_code
        == 302
    )
    # The next sign-in asks for a code, and so does the token endpoint.
    browser = Client()
    browser.post("/accounts/login/", {"username": "optional", "password": NEW_PASSWORD})
    assert browser.get("/applications/")["Location"].startswith("/accounts/2fa/?next=")
    assert "otp" in _token_for("optional", NEW_PASSWORD).json()
