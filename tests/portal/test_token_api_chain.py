"""API requests that carry a token take a shorter middleware chain (portal.handlers, #16):
what only a browser session uses is skipped, everything else (errors as JSON, security
headers, the request id, the Row-Level Security scope, no-store) still runs, and every other
request takes the whole chain. Requests go through the same routing as ``portal.wsgi``."""

from __future__ import annotations

import importlib
import os
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.client import ClientHandler
from django.test.utils import CaptureQueriesContext

from portal.accounts.services import token_issue
from portal.handlers import PortalWSGIHandler, TokenApiRouting, token_api_middleware
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db

# Headers both chains must send on an API answer.
SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cache-Control",
    "X-Request-ID",
)


class RoutingClientHandler(TokenApiRouting, ClientHandler):
    """The test client's handler with the routing of portal.wsgi."""


def routed_client() -> Client:
    client = Client()
    client.handler = RoutingClientHandler(enforce_csrf_checks=False)
    return client


def token(user: Any) -> str:
    _, secret = token_issue(user=user, client="test", otp_verified=True)
    return f"Token {secret}"


def short_chain(response: Any) -> bool:
    """Whether the request skipped the browser-only middleware (no session was attached)."""
    return not hasattr(response.wsgi_request, "session")


def test_the_web_process_serves_the_routing_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    # portal.wsgi sets PORTAL_PROCESS=web in os.environ, which every later subprocess of the
    # test run (the launcher's manage.py commands) would inherit and log in as the web role:
    # imported here, not at collection, and the variable restored afterwards.
    monkeypatch.setenv("PORTAL_PROCESS", os.environ.get("PORTAL_PROCESS", "worker"))
    application = importlib.import_module("portal.wsgi").application
    assert isinstance(application, PortalWSGIHandler)


def test_the_short_chain_is_the_whole_chain_without_the_browser_only_middleware() -> None:
    kept = token_api_middleware()
    assert kept == [
        m for m in settings.MIDDLEWARE if m not in settings.PORTAL_BROWSER_ONLY_MIDDLEWARE
    ]
    for needed in (
        "portal.middleware.ApiErrorMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "csp.middleware.CSPMiddleware",
        "portal.middleware.RequestContextMiddleware",
        "portal.middleware.BodyLimitMiddleware",
        "portal.middleware.ActorContextMiddleware",
        "axes.middleware.AxesMiddleware",
    ):
        assert needed in kept


class WithExceptionHook:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)

    def process_exception(self, request: Any, exception: Exception) -> None:
        return None


@pytest.mark.parametrize(
    ("middleware", "skipped", "message"),
    [
        (None, ["portal.middleware.NotThere"], "is not in MIDDLEWARE"),
        (
            [*settings.MIDDLEWARE, "tests.portal.test_token_api_chain.WithExceptionHook"],
            ["tests.portal.test_token_api_chain.WithExceptionHook"],
            "has process_exception",
        ),
    ],
)
def test_a_skip_django_would_half_run_is_refused(settings, middleware, skipped, message) -> None:  # type: ignore[no-untyped-def]
    if middleware is not None:
        settings.MIDDLEWARE = middleware
    settings.PORTAL_BROWSER_ONLY_MIDDLEWARE = skipped
    with pytest.raises(ImproperlyConfigured, match=message):
        token_api_middleware()


def test_a_token_request_takes_the_short_chain_and_answers_as_the_whole_one(official_jp, jp):  # type: ignore[no-untyped-def]
    application_ = create_application(official_jp, jp)
    header = token(official_jp)
    url = f"/api/v1/applications/{application_.pk}/"
    short = routed_client().get(url, HTTP_AUTHORIZATION=header)
    whole = Client().get(url, HTTP_AUTHORIZATION=header)
    assert short.status_code == whole.status_code == 200
    assert short_chain(short) and not short_chain(whole)
    assert short.json() == whole.json()
    for name in SECURITY_HEADERS:
        assert name in short, name
    assert "no-store" in short["Cache-Control"]
    assert not short.cookies  # no session, no CSRF cookie


def test_a_token_request_makes_as_many_queries_on_the_short_chain(official_jp):  # type: ignore[no-untyped-def]
    header = token(official_jp)
    client = routed_client()
    client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 200 and short_chain(response)
    whole = Client()
    with CaptureQueriesContext(connection) as whole_queries:
        whole.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert len(queries) == len(whole_queries)


def test_another_countrys_application_is_404_on_the_short_chain(official_jp, jp, fr):  # type: ignore[no-untyped-def]
    application_ = create_application(official_jp, jp)
    stranger = make_user("official", tenant=fr)
    response = routed_client().get(
        f"/api/v1/applications/{application_.pk}/", HTTP_AUTHORIZATION=token(stranger)
    )
    assert response.status_code == 404 and short_chain(response)
    assert response["Content-Type"].startswith("application/json")


def test_a_bad_token_is_401_json_on_the_short_chain() -> None:
    response = routed_client().get("/api/v1/me/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401 and short_chain(response)
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Token")
    assert "X-Request-ID" in response


def test_sessions_and_pages_take_the_whole_chain(official_jp):  # type: ignore[no-untyped-def]
    client = routed_client()
    client.force_login(official_jp)
    api = client.get("/api/v1/me/")
    assert api.status_code == 200 and not short_chain(api)
    page = routed_client().get("/accounts/login/", HTTP_AUTHORIZATION=token(official_jp))
    assert page.status_code == 200 and not short_chain(page)
    other_scheme = routed_client().get("/api/v1/me/", HTTP_AUTHORIZATION="Basic eDp5")
    assert not short_chain(other_scheme)
