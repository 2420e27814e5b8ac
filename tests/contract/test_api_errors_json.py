"""Deliverable 3 of issue #10: every API error is JSON, unexpected ones included, with
``{"detail", "request_id"}`` and the request id in the log line, whether DEBUG is on or off."""

from __future__ import annotations

import logging

import pytest

from portal.api.pagination import CursorPagination
from portal.logging import RequestIdFilter
from portal.tenancy import rls
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _boom(*args, **kwargs):
    raise RuntimeError("an unexpected fault")


@pytest.fixture
def captured(caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.ERROR)
    return caplog


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_in_an_api_view_is_json(api, settings, monkeypatch, captured, debug):
    settings.DEBUG = debug
    monkeypatch.setattr(CursorPagination, "paginate_queryset", _boom)
    response = api.as_user(make_user("reviewer")).get("/api/v1/applications/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]
    assert "unexpected fault" not in response.content.decode()  # no trace to the client
    lines = [r for r in captured.records if r.levelno >= logging.ERROR]
    assert any(body["request_id"] in r.getMessage() for r in lines)
    assert all(r.request_id == body["request_id"] for r in lines)


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_outside_drf_is_json_under_api(
    client, settings, monkeypatch, captured, debug
):
    settings.DEBUG = debug
    client.raise_request_exception = False
    client.force_login(make_user("reviewer"))
    monkeypatch.setattr(rls, "scope_for", _boom)  # fails in middleware, before any view
    response = client.get("/api/v1/applications/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["request_id"] == response["X-Request-ID"]
    assert any(
        r.request_id == response["X-Request-ID"]
        for r in captured.records
        if r.levelno >= logging.ERROR
    )
    page = client.get("/applications/")  # pages keep their HTML error page
    assert page.status_code == 500 and not page["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_and_methods_are_json(api, settings, debug):
    settings.DEBUG = debug
    client = api.as_user(make_user("reviewer"))
    for response, status in (
        (client.get("/api/v1/no-such-thing/"), 404),
        (client.delete("/api/v1/me/"), 405),
        (api.get("/api/v1/applications/999999999999999999999/"), 404),
    ):
        assert response.status_code == status
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json()
