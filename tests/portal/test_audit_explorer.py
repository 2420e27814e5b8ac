"""The auditors' explorer: filters, keyset pages, timelines with diffs, state as of a date,
the verification badge; read-only, auditors only, constant query count."""

from __future__ import annotations

import datetime as dt
import html as html_module
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.audit.models import AuditEvent
from portal.audit.record import record_event, record_events
from portal.audit.verbs import Verb
from tests.factories import make_user
from tests.portal.audit_helpers import make_events

pytestmark = pytest.mark.django_db

APP_TYPE = "partnerships.countryapplication"


@pytest.fixture
def auditor(db):
    return make_user("auditor", username="auditor-1")


@pytest.fixture
def browser(client, auditor):
    client.force_login(auditor)
    return client


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="event-(\d+)"', html)]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/audit/"), ("get", f"/audit/object/{APP_TYPE}/1/"), ("post", "/audit/verify/"),
     ("get", "/audit/verify/status/"), ("get", "/audit/checkpoints/"), ("post", "/audit/export/")],
)  # fmt: skip
@pytest.mark.parametrize("role", ["official", "reviewer", "approver", "platform_admin"])
def test_only_auditors_see_the_explorer(client, jp, role, method, path):
    record_event(verb=Verb.TENANT_CREATED, obj=jp)
    client.force_login(make_user(role, jp if role == "official" else None))
    before = AuditEvent.objects.exclude(verb=Verb.SECURITY_DENIED).count()
    assert (
        getattr(client, method)(path, {"format": "csv"} if "export" in path else {}).status_code
        == 403
    )
    # A refused verify or export records nothing but the denial itself.
    assert AuditEvent.objects.exclude(verb=Verb.SECURITY_DENIED).count() == before


def test_what_writes_or_costs_much_is_never_a_get(browser):
    """Verify and export are POSTs with the CSRF token for a browser session."""
    for path in ("/audit/verify/", "/audit/export/"):
        assert browser.get(path).status_code == 405
    for path in ("/api/v1/audit-events/verify/", "/api/v1/audit-events/?format=csv"):
        response = browser.get(path)
        assert response.status_code == 405 and "POST" in response.json()["detail"]
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(make_user("auditor", username="auditor-csrf"))
    assert csrf.post("/audit/verify/").status_code == 403  # no CSRF token
    assert csrf.post("/audit/export/", {"format": "csv"}).status_code == 403
    assert csrf.post("/api/v1/audit-events/verify/").status_code == 403
    assert not AuditEvent.objects.filter(
        verb__in=[Verb.AUDIT_VERIFIED, Verb.AUDIT_EXPORTED]
    ).exists()


def test_anonymous_goes_to_the_login_page(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_explorer_lists_newest_first_with_filters_and_export_links(browser, jp, fr):
    alice = make_user(username="alice")
    record_event(
        verb=Verb.APPLICATION_CREATED,
        object_type=APP_TYPE,
        object_id=1,
        object_label="JP-2026-0001",
        tenant=jp,
        actor=alice,
        changes={"title": {"before": None, "after": "Kansai"}},
    )
    record_event(
        verb=Verb.APPLICATION_CREATED,
        object_type=APP_TYPE,
        object_id=2,
        object_label="FR-2026-0001",
        tenant=fr,
        changes={"title": {"before": None, "after": "Paris"}},
    )
    record_event(
        verb=Verb.WORKFLOW_REJECT,
        object_type=APP_TYPE,
        object_id=1,
        tenant=jp,
        actor=alice,
        reason="Sanctions exposure",
        changes={"state": {"before": "security_review", "after": "rejected"}},
    )
    events = list(AuditEvent.objects.exclude(verb=Verb.AUTH_LOGIN).order_by("id"))

    html = browser.get("/audit/").content.decode()
    everything = AuditEvent.objects.order_by("-id").values_list("id", flat=True)
    assert _ids(html) == list(everything)  # the auditor's own login event included
    assert "Sanctions exposure" in html and "security_review" in html and "rejected" in html
    assert f'href="/audit/object/{APP_TYPE}/1/"' in html

    html = browser.get("/audit/", {"tenant": "JP", "actor": "alice"}).content.decode()
    assert _ids(html) == [events[2].id, events[0].id]
    assert 'action="/audit/export/"' in html and 'name="format" value="jsonl"' in html
    assert '<input type="hidden" name="tenant" value="JP">' in html
    assert '<input type="hidden" name="actor" value="alice">' in html
    export = browser.post("/audit/export/", {"tenant": "JP", "actor": "alice", "format": "jsonl"})
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [events[0].id, events[2].id]
    assert browser.post("/audit/export/", {"format": "xml"}).status_code == 400

    html = browser.get("/audit/", {"verb": "workflow.reject"}).content.decode()
    assert _ids(html) == [events[2].id]
    today = dt.date.today().isoformat()
    # The auditor's login, alice's three events, and the export above.
    assert len(_ids(browser.get("/audit/", {"since": today, "until": today}).content.decode())) == 5
    assert _ids(browser.get("/audit/", {"until": "2001-01-01"}).content.decode()) == []


def test_a_bad_filter_is_explained_not_a_crash(browser):
    response = browser.get("/audit/", {"since": "not a date", "tenant": "XX"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_since-error"' in html and 'id="id_tenant-error"' in html
    assert 'aria-describedby="id_since-error"' in html and 'aria-invalid="true"' in html


def test_keyset_pages_forward_and_back_without_offset_or_count(browser):
    make_events(130)
    ids = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))

    first = browser.get("/audit/").content.decode()
    assert _ids(first) == ids[:50]
    assert 'rel="prev"' not in first
    older = re.search(r'rel="next" href="\?after=(\d+)"', first)
    assert older and int(older.group(1)) == ids[49]

    with CaptureQueriesContext(connection) as queries:
        second = browser.get("/audit/", {"after": ids[49]}).content.decode()
    assert _ids(second) == ids[50:100]
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "OFFSET" not in sql and "COUNT(" not in sql

    last = browser.get("/audit/", {"after": ids[99]}).content.decode()
    assert _ids(last) == ids[100:] and 'rel="next"' not in last
    back = re.search(r'rel="prev" href="\?before=(\d+)"', last)
    assert back and int(back.group(1)) == ids[100]
    assert _ids(browser.get("/audit/", {"before": ids[100]}).content.decode()) == ids[50:100]
    # Back from the second page lands exactly on the first, which knows it is first.
    again = browser.get("/audit/", {"before": ids[50]}).content.decode()
    assert _ids(again) == ids[:50] and 'rel="prev"' not in again


def test_query_count_is_the_same_on_every_page(browser, django_assert_num_queries):
    make_events(400)
    ids = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))
    counts = []
    for params in (
        {},
        {"after": ids[49]},
        {"after": ids[300]},
        {"before": ids[200]},
        {"verb": "application.updated", "after": ids[100]},
    ):
        with CaptureQueriesContext(connection) as queries:
            assert len(_ids(browser.get("/audit/", params).content.decode())) == 50
        counts.append(len(queries.captured_queries))
    # The first page skips one existence check ("anything newer?"); every deeper page costs
    # the same, however deep.
    assert len(set(counts[1:])) == 1 and counts[0] == counts[1] - 1, counts
    with django_assert_num_queries(counts[1]):
        browser.get("/audit/", {"after": ids[-60]})


def test_timeline_shows_who_what_when_why_with_diffs(browser, jp):
    alice = make_user(username="alice")
    other = record_event(
        verb=Verb.APPLICATION_CREATED, object_type=APP_TYPE, object_id=2, tenant=jp
    )
    created = record_event(
        verb=Verb.APPLICATION_CREATED,
        object_type=APP_TYPE,
        object_id=1,
        tenant=jp,
        actor=alice,
        changes={"title": {"before": None, "after": "Kansai"}},
    )
    decided = record_event(
        verb=Verb.WORKFLOW_REQUEST_INFO,
        object_type=APP_TYPE,
        object_id=1,
        tenant=jp,
        role="reviewer",
        actor=alice,
        reason="Which grid operator?",
        changes={"state": {"before": "technical_review", "after": "info_requested"}},
    )
    html = browser.get(f"/audit/object/{APP_TYPE}/1/").content.decode()
    assert _ids(html) == [created.id, decided.id]  # oldest first, this object only
    assert other.id not in _ids(html)
    assert "Which grid operator?" in html and "(Technical reviewer)" in html
    assert '<td class="diff-before" dir="auto"><del>technical_review</del></td>' in html
    assert '<td class="diff-after" dir="auto"><ins>info_requested</ins></td>' in html
    assert f'<input type="hidden" name="object_type" value="{APP_TYPE}">' in html
    assert '<input type="hidden" name="object_id" value="1">' in html


def test_state_as_of_a_date_is_replayed_from_the_changes(client, auditor):
    day = lambda n: dt.datetime(2030 - 10, 3, n, 12, tzinfo=dt.UTC)  # noqa: E731
    record_events(events=[
        {"verb": Verb.APPLICATION_CREATED, "object_type": APP_TYPE, "object_id": "5", "occurred_at": day(1),
         "changes": {"title": {"before": None, "after": "Draft title"}, "sectors": {"before": None, "after": ["education"]}}},
        {"verb": Verb.APPLICATION_UPDATED, "object_type": APP_TYPE, "object_id": "5", "occurred_at": day(3),
         "changes": {"title": {"before": "Draft title", "after": "Final title"}}},
        {"verb": Verb.APPLICATION_SUBMITTED, "object_type": APP_TYPE, "object_id": "5", "occurred_at": day(5),
         "changes": {"state": {"before": "draft", "after": "screening"}}},
        {"verb": Verb.SCREENING_COMPLETED, "object_type": APP_TYPE, "object_id": "5", "occurred_at": day(6),
         "changes": {"outcome": "clear"}},
    ])  # fmt: skip
    client.force_login(auditor)  # after the history: logging in is an event too

    def state(as_of: str) -> dict[str, str]:
        html = client.get(f"/audit/object/{APP_TYPE}/5/", {"as_of": as_of}).content.decode()
        table = (
            html.split('<table class="state">')[1].split("</table>")[0]
            if '<table class="state">' in html
            else ""
        )
        return {
            k: html_module.unescape(v)
            for k, v in re.findall(r"<code>([^<]+)</code></th><td>([^<]*)</td>", table)
        }

    assert state("2020-02-28") == {}
    assert state("2020-03-02") == {"title": "Draft title", "sectors": '["education"]'}
    assert state("2020-03-03") == {"title": "Final title", "sectors": '["education"]'}
    assert state("2020-03-05") == {
        "title": "Final title",
        "sectors": '["education"]',
        "state": "screening",
    }
    assert state("2020-03-06T00:00:00Z")["state"] == "screening" and "outcome" not in state(
        "2020-03-06T00:00:00Z"
    )
    assert state("2020-03-09")["outcome"] == "clear"
    assert (
        "Enter a date"
        in client.get(f"/audit/object/{APP_TYPE}/5/", {"as_of": "soon"}).content.decode()
    )


def test_timeline_and_state_of_a_real_application(browser, official_jp, jp):
    from partnerships.services import application_update
    from partnerships.workflow import application_transition
    from tests.factories import create_application

    application = create_application(official_jp, jp)
    application = application_update(
        application=application,
        actor=official_jp,
        version=application.version,
        data={"title": "Kansai campus, phase 1"},
    )
    application_transition(
        application=application, actor=official_jp, action="submit", version=application.version
    )
    path = f"/audit/object/{application._meta.label_lower}/{application.pk}/"

    html = browser.get(path).content.decode()
    verbs = re.findall(r"<td><code>([a-z_.]+)</code></td>", html)
    assert verbs[:3] == ["application.created", "application.updated", "application.submitted"]
    assert "official-jp" in html and "Kansai campus, phase 1" in html

    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    html = browser.get(path, {"as_of": tomorrow}).content.decode()
    assert "<code>title</code></th><td>Kansai campus, phase 1</td>" in html
    assert "<code>state</code></th><td>screening</td>" in html
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert (
        "No events about this object before that date."
        in browser.get(path, {"as_of": yesterday}).content.decode()
    )


def test_verification_badge_on_demand(browser):
    make_events(3)
    count = AuditEvent.objects.count()  # the auditor's login too
    fragment = browser.post("/audit/verify/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "<html" not in text and f"Chain verified: {count} events" in text
    assert AuditEvent.objects.order_by("-id").first().verb == Verb.AUDIT_VERIFIED
    page = browser.post("/audit/verify/").content.decode()
    assert (
        "<html" in page and f"Chain verified: {count + 1} events" in page
    )  # the first check is on it now
    explorer = browser.get("/audit/").content.decode()
    assert 'hx-post="/audit/verify/"' in explorer and 'hx-get="/audit/verify/status/"' in explorer


def test_the_badge_is_incremental_from_the_newest_checkpoint(browser):
    from portal.audit.services import audit_checkpoint

    make_events(40)
    _, checkpoint = audit_checkpoint()
    make_events(2)
    before = AuditEvent.objects.count()
    text = browser.get("/audit/verify/status/").content.decode()
    assert f"since the signed checkpoint at event #{checkpoint.last_id} (3 newer events)" in text
    assert AuditEvent.objects.count() == before  # the badge is a read: nothing recorded
    listing = browser.get("/audit/checkpoints/").content.decode()
    assert f"#{checkpoint.last_id}</a>" in listing and "matches the chain" in listing
    assert checkpoint.head_hash in listing


@pytest.mark.django_db(transaction=True)
def test_badge_names_the_first_bad_event(client):
    from tests.portal.test_audit_db import _tamper

    client.force_login(make_user("auditor", username="auditor-2"))
    make_events(6)
    victim = AuditEvent.objects.order_by("id").values_list("id", flat=True)[3]
    _tamper("UPDATE audit_auditevent SET actor_username = 'someone else' WHERE id = %s", [victim])
    text = client.post("/audit/verify/", HTTP_HX_REQUEST="true").content.decode()
    assert f"Chain broken at event #{victim}" in text and 'role="alert"' in text
    assert (
        f"Chain broken at event #{victim}" in client.get("/audit/verify/status/").content.decode()
    )
    assert f"?after={victim + 1}" in text


def test_pages_render_in_other_languages(browser):
    make_events(2)
    for prefix in ("/fr", "/ja", "/ar"):
        response = browser.get(f"{prefix}/audit/")
        assert response.status_code == 200 and _ids(response.content.decode())


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)


@pytest.mark.parametrize("path", ["/audit/", f"/audit/object/{APP_TYPE}/1/"])
def test_every_control_is_labelled(browser, path):
    parser = _Controls()
    parser.feed(browser.get(path).content.decode())
    assert len(parser.controls) >= 2
    for control in parser.controls:
        assert control.get("id") in parser.labels or control.get("aria-label"), control


def test_every_string_in_the_audit_templates_is_translatable():
    """Strip translated blocks, tags, variables and markup: no words may be left."""
    for path in sorted((Path(settings.BASE_DIR) / "templates" / "audit").glob("*.html")):
        text = path.read_text()
        text = re.sub(r"{% blocktranslate.*?{% endblocktranslate %}", "", text, flags=re.S)
        text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", text, flags=re.S)
        for attr in re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', text):
            assert not re.search(r"[A-Za-z]", attr), (path.name, attr)
        words = re.sub(r"<[^>]+>|&[a-z]+;|[—·…#():]", " ", text)
        assert not re.search(r"[A-Za-z]{2,}", words), (path.name, words.split())
