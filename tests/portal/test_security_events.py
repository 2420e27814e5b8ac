"""Security events: refusals and lockouts are recorded, with request id and client address,
and a refusal at most once per person and path in the window (no flood)."""

from __future__ import annotations

import pytest
from django.conf import settings

from portal.audit.models import AuditEvent
from portal.audit.verbs import Verb
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

HEADERS = {"HTTP_X_REQUEST_ID": "req-security-0001", "REMOTE_ADDR": "203.0.113.9"}


def test_a_refusal_is_recorded_once_per_person_and_path(client, official_jp):
    client.force_login(official_jp)
    for _ in range(3):
        assert client.get("/audit/", **HEADERS).status_code == 403
    denied = list(AuditEvent.objects.filter(verb=Verb.SECURITY_DENIED))
    assert len(denied) == 1
    event = denied[0]
    assert (event.actor, event.object_id, event.request_id, event.client_ip) == (
        official_jp,
        "/audit/",
        "req-security-0001",
        "203.0.113.9",
    )
    assert event.changes == {"method": "GET", "status": 403}
    # Another path is another event; so is another person on the same path.
    assert client.get("/api/v1/audit-events/", **HEADERS).status_code == 403
    client.force_login(make_user("reviewer"))
    assert client.get("/audit/").status_code == 403
    assert AuditEvent.objects.filter(verb=Verb.SECURITY_DENIED).count() == 3


def test_a_refusal_is_recorded_again_after_the_window(client, official_jp, settings):
    settings.PORTAL_DENIED_EVENT_SECONDS = 1
    client.force_login(official_jp)
    client.get("/audit/")
    from django.core.cache import cache

    cache.clear()  # the window has passed
    client.get("/audit/")
    assert AuditEvent.objects.filter(verb=Verb.SECURITY_DENIED).count() == 2


def test_a_lockout_is_its_own_event(client):
    make_user(username="target-user")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        client.post("/accounts/login/", {"username": "target-user", "password": "wrong " + PASSWORD},
                    **HEADERS)  # fmt: skip
    locked = AuditEvent.objects.filter(verb=Verb.AUTH_LOCKED_OUT)
    assert locked.count() == 1
    event = locked.get()
    assert event.object_id == "target-user"
    assert (event.request_id, event.client_ip) == ("req-security-0001", "203.0.113.9")
