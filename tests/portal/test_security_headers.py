"""CSP with nonces, no-store for signed-in answers, __Host- cookies, idle sign-out, and a
clean ``check --deploy`` with production settings (docs/security.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from portal.middleware import IDLE_KEY

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _csp(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def test_every_html_page_has_a_nonce_csp_and_every_tag_carries_it(client, official_jp):
    for url in ("/accounts/login/", "/", "/applications/", "/commitments/new/"):
        if url == "/":
            client.force_login(official_jp)
        response = client.get(url)
        assert response.status_code == 200, url
        policy = _csp(response)
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        html = response.content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            assert f'nonce="{nonce}"' in tag and "src=" in tag, (url, tag)
    assert client.get("/").headers["Content-Security-Policy"] != response["Content-Security-Policy"]


def test_no_template_has_inline_script_or_style():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path  # inline script
        assert "<style" not in text and " style=" not in text, path


def test_api_docs_are_served_by_the_portal_and_only_to_signed_in_people(client, official_jp):
    response = client.get("/api/docs/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(official_jp)
    html = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # set-up script is a file


def test_signed_in_answers_are_not_cached(client, api, official_jp):
    client.force_login(official_jp)
    for response in (client.get("/applications/"), client.get("/api/v1/me/")):
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "no-store" in api.as_user(official_jp).get("/api/v1/applications/")["Cache-Control"]


def test_idle_sessions_are_signed_out(client, official_jp, settings):
    settings.PORTAL_IDLE_MINUTES = 30
    client.force_login(official_jp)
    assert client.get("/applications/").status_code == 200
    session = client.session
    session[IDLE_KEY] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/applications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "SECURE_", "DEBUG"))}
    env.update({
        "DEBUG": "0", "SECRET_KEY": "x" * 20 + "Kq8#mZ2$vR7!pL4@wN9%tY6^bH3&jF5*cD1(" * 2,
        "PORTAL_AUDIT_KEY": "a" * 64, "ALLOWED_HOSTS": "portal.example.org",
        "BEHIND_TLS_PROXY": "1", "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    })  # fmt: skip
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120, cwd=settings.BASE_DIR,
    )  # fmt: skip


def test_check_deploy_is_clean_with_production_settings():
    proc = _check_deploy(_production_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout
    # Without the audit key from the deployment, it says so.
    env = _production_env()
    del env["PORTAL_AUDIT_KEY"]
    proc = _check_deploy(env)
    assert proc.returncode != 0 and "portal.W001" in proc.stdout + proc.stderr


def test_cookies_are_host_prefixed_under_tls():
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SECURE_HSTS_PRELOAD)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings'); django.setup(); {code}"],
        env=_production_env(), capture_output=True, text=True, timeout=120, cwd=settings.BASE_DIR,
    )  # fmt: skip
    assert out.stdout.split() == ["__Host-sessionid", "__Host-csrftoken", "True"], out.stderr
