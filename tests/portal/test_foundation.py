"""Foundation: settings, tenancy choke point, auth, health."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from portal.accounts.models import ApiToken
from portal.api.viewsets import TenantScopedViewSet
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD, create_application, make_user

pytestmark = pytest.mark.django_db


def _settings_in_subprocess(env: dict[str, str], expression: str) -> str:
    code = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; from django.conf import settings; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_settings_come_from_the_environment():
    out = _settings_in_subprocess(
        {
            "DEBUG": "0",
            "SECRET_KEY": "s" * 50,
            "ALLOWED_HOSTS": "portal.example.org,api.example.org",
            "EMAIL_HOST": "smtp.example.org",
            "PORTAL_TESTING": "0",
        },
        "settings.DEBUG, settings.SECRET_KEY == 's'*50, settings.ALLOWED_HOSTS, settings.EMAIL_BACKEND, settings.SESSION_COOKIE_SECURE",
    )
    assert (
        out
        == "False True ['portal.example.org', 'api.example.org'] django.core.mail.backends.smtp.EmailBackend True"
    )


def test_debug_is_off_unless_asked():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    code = "import os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; from django.conf import settings; print(settings.DEBUG)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_viewset_refuses_unsafe_overrides():
    with pytest.raises(TypeError, match="overrides get_queryset"):
        type("Sneaky", (TenantScopedViewSet,), {"get_queryset": lambda self: None})
    with pytest.raises(TypeError, match="overrides get_object"):
        type("Sneaky", (TenantScopedViewSet,), {"get_object": lambda self: None})


def test_restrict_choke_point_scopes_by_tenant(official_jp, jp, official_fr, fr):
    from partnerships.models import CountryApplication

    mine = create_application(official_jp, jp)
    theirs = create_application(official_fr, fr)
    assert list(CountryApplication.objects.restrict(official_jp)) == [mine]
    assert list(CountryApplication.objects.restrict(official_fr)) == [theirs]
    assert not CountryApplication.objects.restrict(None).exists()
    official_jp.is_active = False
    official_jp.save()
    official_jp._portal_access = None
    del official_jp._portal_access
    assert not CountryApplication.objects.restrict(official_jp).exists()


def test_token_endpoint_and_token_auth(client, official_jp):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "official-jp", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expiry"]  # knox: every token expires
    stored = ApiToken.objects.get(user=official_jp)
    assert token not in (stored.digest, stored.token_key)  # only its hash is kept
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json() == {
        "username": "official-jp",
        "roles": ["official"],
        "memberships": [{"tenant": "JP", "role": "official"}],
    }
    assert AuditEvent.objects.filter(verb="auth.token_created", actor=official_jp).count() == 1


def test_token_endpoint_rejects_bad_credentials(client, official_jp):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "official-jp", "password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    assert AuditEvent.objects.filter(verb="auth.login_failed").exists()


def test_token_endpoint_is_throttled_after_repeated_failures(client, official_jp, settings):
    statuses = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "official-jp", "password": f"wrong{i}"},
            content_type="application/json",
        ).status_code
        for i in range(12)
    ]
    assert statuses[0] == 400
    assert statuses[-1] == 429
    # Locked out even with the right password until the cool-off ends.
    right = client.post(
        "/api/v1/auth/token/",
        {"username": "official-jp", "password": PASSWORD},
        content_type="application/json",
    )
    assert right.status_code == 429


def test_login_page_locks_out_after_repeated_failures(client, official_jp):
    url = reverse("login")
    for i in range(4):
        assert (
            client.post(url, {"username": "official-jp", "password": f"bad{i}"}).status_code == 200
        )
    # The fifth failure (LOGIN_FAILURE_LIMIT) locks the account out …
    assert client.post(url, {"username": "official-jp", "password": "bad5"}).status_code == 429
    # … and then even the right password is refused until the cool-off ends.
    locked = client.post(url, {"username": "official-jp", "password": PASSWORD})
    assert locked.status_code == 429


def test_login_and_logout_are_audited(client, official_jp):
    response = client.post(reverse("login"), {"username": "official-jp", "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb="auth.login", actor=official_jp).count() == 1
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(verb="auth.logout", actor=official_jp).count() == 1


def test_me_requires_authentication(client):
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_me_lists_programme_and_country_roles(api, jp):
    user = make_user("reviewer")
    from portal.tenancy.services import role_grant

    role_grant(user=user, role="official", tenant_code="JP")
    user.refresh_from_db()
    body = api.as_user(user).get("/api/v1/me/").json()
    assert body["roles"] == ["official", "reviewer"]
    assert body["memberships"] == [{"tenant": "JP", "role": "official"}]


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ready"}


def test_readyz_names_a_stopped_redis(client, settings):
    # A Redis that is not running: a port nothing listens on.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis: ConnectionError"]


def test_pages_are_translated_and_rtl_for_arabic(client):
    response = client.get("/ar/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    assert 'dir="ltr"' in client.get("/ja/accounts/login/").content.decode()


def test_secure_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Request-ID"]
