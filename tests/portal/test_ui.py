"""Page presentation shared by every app (issue #14): the portal's own 404 under DEBUG, the
lockout page's time, the audit explorer's object-type select and timeline heading."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.audit.record import record_event
from portal.audit.verbs import Verb
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_missing_page_with_debug_is_the_portals_404_not_the_urlconf(client, official_jp, settings):
    settings.DEBUG = True
    client.force_login(official_jp)
    for path in ("/applications/999999/", "/no-such-page/", "/ja/applications/999999/"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 404, path
        assert "URLconf" not in html and "Using the URLconf" not in html
        assert 'class="card narrow"' in html and "skip-link" in html, path
    # The API keeps its JSON 404.
    response = client.get("/api/v1/applications/999999/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


def test_lockout_says_until_when(client, official_jp, settings):
    url = reverse("login")
    for i in range(5):
        client.post(url, {"username": "official-jp", "password": f"bad{i}"})
    locked = client.post(url, {"username": "official-jp", "password": PASSWORD})
    html = locked.content.decode()
    assert locked.status_code == 429
    assert "Try again after" in html and "UTC" in html and "later" not in html
    assert locked["Retry-After"] == "900"


def test_audit_object_type_is_a_select_and_the_timeline_names_the_reference(client, jp):
    auditor = make_user("auditor", username="aud")
    record_event(
        verb=Verb.APPLICATION_CREATED,
        object_type="partnerships.countryapplication",
        object_id=19,
        object_label="JP-2026-0009",
        tenant=jp,
    )
    client.force_login(auditor)
    html = client.get("/audit/").content.decode()
    assert '<select name="object_type"' in html
    assert '<option value="partnerships.countryapplication">Country application</option>' in html
    assert client.get("/audit/", {"object_type": "nonsense"}).status_code in (200, 400)
    html = client.get("/audit/object/partnerships.countryapplication/19/").content.decode()
    assert "<h1>Timeline of JP-2026-0009 (country application)</h1>" in html
    assert "partnerships.countryapplication 19</h1>" not in html


def test_favicon_is_linked_and_served(client, official_jp):
    client.force_login(official_jp)
    html = client.get("/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in html
    assert client.get("/static/favicon.svg").status_code == 200
