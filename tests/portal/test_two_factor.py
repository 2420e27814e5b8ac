"""A second factor for programme staff (django-otp TOTP)."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import services
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _required(settings):
    settings.PORTAL_STAFF_2FA = "required"
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # except in the throttling test below


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_staff_enrol_then_reach_their_pages(client):
    reviewer = make_user("reviewer", username="rev-2fa")
    admin = make_user("platform_admin", username="admin-2fa")
    client.force_login(reviewer)
    response = client.get("/review/")
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/2fa/setup/?next=/review/"
    )
    # A password alone does not open enrolment: a platform admin's link does.
    closed = client.get(response["Location"])
    assert closed.status_code == 403 and b"<svg" not in closed.content
    link = services.otp_reset(user=reviewer, actor=admin)
    reviewer.refresh_from_db()
    client.force_login(reviewer)  # the reset ended the earlier session
    assert client.get(f"/accounts/2fa/enrol/{link}/")["Location"] == "/accounts/2fa/setup/"
    page = client.get("/accounts/2fa/setup/?next=/review/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    wrong = client.post("/accounts/2fa/setup/", {"token": "000000", "next": "/review/"})
    assert wrong.status_code == 400
    done = client.post("/accounts/2fa/setup/", {"token": code_for(device), "next": "/review/"})
    assert (
        done.status_code == 302
        and done["Location"] == "/accounts/2fa/recovery-codes/?next=/review/"
    )
    codes_page = client.get(done["Location"])
    codes = re.findall(r"<code>([a-z2-7]{8})</code>", codes_page.content.decode())
    assert len(codes) == 10 and "no-store" in codes_page["Cache-Control"]
    assert client.get(done["Location"])["Location"] == "/review/"  # shown once
    assert client.get("/review/").status_code == 200
    # The link was single use.
    assert client.get(f"/accounts/2fa/enrol/{link}/").status_code == 400
    assert AuditEvent.objects.filter(verb="auth.2fa_enrolled", actor=reviewer).count() == 1
    assert AuditEvent.objects.filter(verb="auth.2fa_failed", actor=reviewer).count() == 1


def test_staff_verify_on_each_sign_in_and_the_api_refuses_until_then(client):
    approver = make_user("approver", username="appr-2fa")
    device = TOTPDevice.objects.create(user=approver, name="app", confirmed=True)
    assert (
        client.post("/accounts/login/", {"username": "appr-2fa", "password": PASSWORD}).status_code
        == 302
    )
    assert client.get("/review/board/")["Location"].startswith("/accounts/2fa/?next=")
    api = client.get("/api/v1/applications/")
    assert api.status_code == 403 and "one-time code" in api.json()["detail"]
    assert client.post("/accounts/2fa/", {"token": "123456"}).status_code == 400
    assert (
        client.post("/accounts/2fa/", {"token": code_for(device), "next": "https://evil.example/"})[
            "Location"
        ]
        == "/"
    )
    assert client.get("/review/board/").status_code == 200
    assert client.get("/api/v1/applications/").status_code == 200


def test_country_officials_are_not_asked(client, official_jp):
    client.force_login(official_jp)
    assert client.get("/applications/").status_code == 200


def test_token_endpoint_needs_the_code_from_staff(client):
    auditor = make_user("auditor", username="aud-2fa")
    body = {"username": "aud-2fa", "password": PASSWORD}
    assert client.post("/api/v1/auth/token/", body, content_type="application/json").json() == {
        "otp": ["Set up two-step sign-in in the portal first."]
    }
    device = TOTPDevice.objects.create(user=auditor, name="app", confirmed=True)
    missing = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert missing.status_code == 400 and "otp" in missing.json()
    ok = client.post(
        "/api/v1/auth/token/", {**body, "otp": code_for(device)}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["token"]


def test_switched_off_for_the_local_demo(client, settings):
    settings.PORTAL_STAFF_2FA = "off"
    client.force_login(make_user("reviewer", username="rev-demo"))
    assert client.get("/review/").status_code == 200


def test_guessing_is_throttled(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    user = make_user("compliance_officer", username="co-2fa")
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.force_login(user)
    assert client.post("/accounts/2fa/", {"token": "000000"}).status_code == 400
    # Right after a wrong guess even the right code is refused for a while.
    assert client.post("/accounts/2fa/", {"token": code_for(device)}).status_code == 400
