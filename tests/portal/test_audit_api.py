"""``/api/v1/audit-events/``: auditors only, filters, cursor pages, streamed exports, verify."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import tracemalloc

import pytest

from portal.audit.chain import GENESIS_HASH, HASHED_FIELDS
from portal.audit.models import AuditEvent
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.models import Membership
from tests.factories import RLS_STATEMENTS, make_user
from tests.portal.audit_helpers import make_events

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/"


@pytest.fixture
def auditor(db):
    return make_user("auditor", username="auditor-1")


@pytest.fixture
def history(jp, fr):
    """A small, varied history: two countries, two actors, several verbs and objects."""
    alice, bob = make_user(username="alice"), make_user(username="bob")
    record_event(
        verb=Verb.APPLICATION_CREATED,
        object_type="partnerships.countryapplication",
        object_id=1,
        tenant=jp,
        actor=alice,
        changes={"title": {"before": None, "after": "Kansai"}},
    )
    record_event(
        verb=Verb.APPLICATION_UPDATED,
        object_type="partnerships.countryapplication",
        object_id=1,
        tenant=jp,
        actor=alice,
        changes={"title": {"before": "Kansai", "after": "Kansai campus"}},
    )
    record_event(
        verb=Verb.APPLICATION_CREATED,
        object_type="partnerships.countryapplication",
        object_id=2,
        tenant=fr,
        actor=bob,
        changes={"title": {"before": None, "after": "Paris"}},
    )
    record_event(
        verb=Verb.WORKFLOW_REJECT,
        object_type="partnerships.countryapplication",
        object_id=2,
        tenant=fr,
        actor=bob,
        reason='=HYPERLINK("http://evil")',
        changes={"state": {"before": "security_review", "after": "rejected"}},
    )
    record_event(
        verb=Verb.TERRITORY_LIST_LOADED, object_type="compliance.territorylistversion", object_id=7
    )
    return list(AuditEvent.objects.order_by("id"))


def _export(api, user, query: str) -> tuple[object, bytes]:
    response = api.as_user(user).get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "role", ["official", "reviewer", "approver", "compliance_officer", "platform_admin", None]
)
@pytest.mark.parametrize("path", [URL, f"{URL}verify/", f"{URL}?format=csv", f"{URL}?format=jsonl"])
def test_only_auditors_read_the_history(api, jp, history, role, path):
    user = make_user(role, jp if role == "official" else None)
    before = AuditEvent.objects.count()
    response = api.as_user(user).get(path)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    # No export or verification was recorded: only the refusal itself.
    assert list(
        AuditEvent.objects.filter(id__gt=history[-1].id).values_list("verb", flat=True)
    ) == [Verb.SECURITY_DENIED]
    assert AuditEvent.objects.count() == before + 1


def test_anonymous_is_refused(api, history):
    assert api.get(URL).status_code in (401, 403)


def test_list_newest_first_with_cursor_pages(api, auditor, history):
    response = api.as_user(auditor).get(URL, {"page_size": 2})
    body = response.json()
    assert [e["id"] for e in body["results"]] == [history[4].id, history[3].id]
    assert body["previous"] is None and body["next"]
    second = api.get(body["next"]).json()
    assert [e["id"] for e in second["results"]] == [history[2].id, history[1].id]
    first = second["results"][0]
    assert (
        first["tenant"] == "FR"
        and first["actor_username"] == "bob"
        and first["hash"] == history[2].hash
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"tenant": "JP"}, [0, 1]),
        ({"tenant": "fr"}, [2, 3]),
        ({"actor": "bob"}, [2, 3]),
        ({"verb": "application.created"}, [0, 2]),
        ({"object_type": "partnerships.countryapplication", "object_id": "2"}, [2, 3]),
        ({"object_type": "compliance.territorylistversion"}, [4]),
        ({"since": "2000-01-01", "until": "2999-12-31"}, [0, 1, 2, 3, 4]),
        ({"until": "2000-01-01"}, []),
    ],
)
def test_filters(api, auditor, history, query, expected):
    response = api.as_user(auditor).get(URL, query)
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["results"]] == [
        history[i].id for i in reversed(expected)
    ]


def test_datetime_bounds_are_exact(api, auditor, history):
    moment = history[2].occurred_at.isoformat()
    since = api.as_user(auditor).get(URL, {"since": moment}).json()["results"]
    until = api.get(URL, {"until": moment}).json()["results"]
    assert {e["id"] for e in since} == {e.id for e in history[2:]}
    assert {e["id"] for e in until} == {e.id for e in history[:3]}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"tenant": "XX"}, "tenant"),
        ({"verb": "nope"}, "verb"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2030-01-02", "until": "2030-01-01"}, "until"),
    ],
)
@pytest.mark.parametrize("fmt", ["", "csv", "jsonl"])
def test_bad_filters_answer_400_in_json_and_record_nothing(
    api, auditor, history, query, field, fmt
):
    before = AuditEvent.objects.count()
    response = api.as_user(auditor).get(URL, {**query, **({"format": fmt} if fmt else {})})
    assert response.status_code == 400
    assert field in response.json()
    assert AuditEvent.objects.count() == before


def test_csv_export_of_a_filter_is_recorded_before_streaming(api, auditor, history):
    response = api.as_user(auditor).get(f"{URL}?tenant=FR&format=csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    # Recorded already, though not a byte has been read.
    recorded = AuditEvent.objects.order_by("-id").first()
    assert recorded.verb == Verb.AUDIT_EXPORTED and recorded.actor_username == "auditor-1"
    assert (
        recorded.changes == {"filter": {"tenant": "FR"}, "format": "csv"}
        and recorded.role == "auditor"
    )

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["id"]) for r in rows] == [history[2].id, history[3].id]
    assert rows[1]["reason"].startswith("'=HYPERLINK")  # a formula is not run by a spreadsheet
    assert json.loads(rows[1]["changes"]) == {
        "state": {"before": "security_review", "after": "rejected"}
    }
    assert rows[0]["hash"] == history[2].hash


def test_csv_export_with_no_match_has_the_header_only(api, auditor, history):
    _, body = _export(api, auditor, "actor=nobody&format=csv")
    assert body.decode().splitlines() == [
        ",".join(["id", *HASHED_FIELDS, "prev_hash", "hash", "key_id"])
    ]


def test_accept_header_selects_an_export_too(api, auditor, history):
    response = api.as_user(auditor).get(URL, HTTP_ACCEPT="application/x-ndjson")
    assert response.streaming and response["Content-Type"].startswith("application/x-ndjson")


def verify_jsonl(lines: list[str]) -> tuple[bool, int | None]:
    """The offline check of docs/audit.md, verbatim: standard library only."""
    from django.conf import settings

    key = settings.PORTAL_AUDIT_KEY
    prev = "0" * 64
    for line in lines:
        event = json.loads(line)
        payload = {k: v for k, v in event.items() if k not in ("id", "hash", "key_id")}
        encoded = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        expected = hmac.new(key, encoded, hashlib.sha256).hexdigest()
        if event["prev_hash"] != prev or expected != event["hash"]:
            return False, event["id"]
        prev = event["hash"]
    return True, None


def test_full_jsonl_export_verifies_offline_and_ends_with_its_own_record(api, auditor, history):
    _, body = _export(api, auditor, "format=jsonl")
    lines = body.decode().splitlines()
    assert verify_jsonl(lines) == (True, None)
    events = [json.loads(line) for line in lines]
    assert events[0]["prev_hash"] == GENESIS_HASH
    assert [e["id"] for e in events[:-1]] == [e.id for e in history]
    assert events[-1]["verb"] == "audit.exported"  # the export covers the chain up to itself
    assert set(events[0]) == {"id", "hash", "prev_hash", "key_id", *HASHED_FIELDS}

    tampered = [*lines]
    tampered[2] = tampered[2].replace("Paris", "Lyon")
    assert verify_jsonl(tampered) == (False, history[2].id)


def test_export_does_not_include_events_appended_after_it_was_asked_for(api, auditor, history):
    response = api.as_user(auditor).get(f"{URL}?format=jsonl")
    record_event(verb=Verb.TENANT_CREATED, object_type="tenancy.tenant", object_id="99")
    ids = [
        json.loads(line)["id"]
        for line in b"".join(response.streaming_content).decode().splitlines()
    ]
    assert max(ids) == AuditEvent.objects.filter(verb=Verb.AUDIT_EXPORTED).get().id


def _consume_export(api, user) -> tuple[int, int, int, int]:
    """Read an export as a WSGI server does (piece by piece, dropped); trace peak memory."""
    response = api.as_user(user).get(f"{URL}?format=jsonl")
    assert response.streaming
    tracemalloc.start()
    total, pieces, largest = 0, 0, 0
    for piece in response.streaming_content:
        total += len(piece)
        pieces += 1
        largest = max(largest, len(piece))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return total, pieces, largest, peak


def test_large_export_streams_in_bounded_memory(api, auditor):
    make_events(4_000)
    small = _consume_export(api, auditor)
    make_events(16_000)
    total, pieces, largest, peak = _consume_export(api, auditor)
    print(f"export: {total / 1e6:.1f} MB in {pieces} pieces (largest {largest // 1024} KB); "
          f"peak {peak / 1e6:.2f} MB (4k-event export: peak {small[3] / 1e6:.2f} MB)")  # fmt: skip
    assert total > 8_000_000  # 20k lines of ~500 bytes
    assert pieces > 50 and largest < 200_000
    assert peak < total / 4
    assert peak < small[3] * 1.5  # five times the events, about the same memory


def test_verify_endpoint(api, auditor, history):
    response = api.as_user(auditor).get(f"{URL}verify/")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["checked"] == 5 and body["first_bad_id"] is None
    assert body["last_id"] == history[-1].id and body["head_hash"] == history[-1].hash
    recorded = AuditEvent.objects.order_by("-id").first()
    assert recorded.verb == Verb.AUDIT_VERIFIED and recorded.changes["ok"] is True


def test_retrieve_one_event(api, auditor, history):
    response = api.as_user(auditor).get(f"{URL}{history[0].id}/")
    assert response.status_code == 200 and response.json()["hash"] == history[0].hash
    assert api.get(f"{URL}999999/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("suffix", ["", "{id}/", "verify/"])
def test_no_method_writes_to_the_history_even_for_an_auditor(api, auditor, history, method, suffix):
    before = AuditEvent.objects.count()
    response = getattr(api.as_user(auditor), method)(
        URL + suffix.format(id=history[0].id), {}, format="json"
    )
    if (method, suffix) == ("post", "verify/"):  # verifying: a POST that records only itself
        assert response.status_code == 200 and response.json()["ok"] is True
        assert list(
            AuditEvent.objects.filter(id__gt=history[-1].id).values_list("verb", flat=True)
        ) == [Verb.AUDIT_VERIFIED]
        return
    assert response.status_code in (403, 405)
    assert AuditEvent.objects.exclude(verb=Verb.SECURITY_DENIED).count() == before


def test_list_query_count_is_constant_in_page_size(api, auditor, django_assert_num_queries):
    make_events(300)
    api.as_user(auditor)
    # The first read costs one query more (measured: something it warms); after it, exactly
    # the same count at any page size: reading the page and recording the read (lock, head,
    # insert, savepoint) in one transaction.
    api.get(URL, {"page_size": 1, "tenant": ""})
    for size in (10, 200):
        with django_assert_num_queries(6 + RLS_STATEMENTS):
            assert len(api.get(URL, {"page_size": size, "tenant": ""}).json()["results"]) == size


def test_paging_the_history_is_recorded_as_a_bulk_read(api, auditor, history):
    api.as_user(auditor)
    page = api.get(URL, {"page_size": 1, "tenant": "JP"}).json()
    read = AuditEvent.objects.latest("id")
    assert read.verb == Verb.AUDIT_READ and read.actor == auditor
    assert read.changes == {"filter": {"tenant": "JP"}, "cursor": "", "events": 1}
    api.get(page["next"])
    assert AuditEvent.objects.latest("id").changes["cursor"] != ""


def test_a_bare_date_means_the_whole_day(api, auditor, history):
    import datetime as dt

    today = history[0].occurred_at.date()
    api.as_user(auditor)
    assert (
        len(
            api.get(URL, {"since": today.isoformat(), "until": today.isoformat()}).json()["results"]
        )
        == 5
    )
    assert (
        api.get(URL, {"until": (today - dt.timedelta(days=1)).isoformat()}).json()["results"] == []
    )
    assert (
        api.get(URL, {"since": (today + dt.timedelta(days=1)).isoformat()}).json()["results"] == []
    )


def test_the_snippet_in_the_docs_verifies_an_export(api, auditor, history, tmp_path, monkeypatch):
    """docs/audit.md shows auditors how to check an export offline; run it as written."""
    import re
    from pathlib import Path

    from django.conf import settings

    docs = (Path(settings.BASE_DIR) / "docs" / "audit.md").read_text()
    snippet = re.search(r"<!-- verify-jsonl -->\n```python\n(.*?)```", docs, re.S).group(1)
    _, body = _export(api, auditor, "format=jsonl")
    (tmp_path / "audit-events.jsonl").write_bytes(body)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PORTAL_AUDIT_KEY", settings.PORTAL_AUDIT_KEY.decode())
    printed: list[object] = []
    exec(snippet, {"print": printed.append})
    assert printed == [(True, None)]
    lines = body.decode().splitlines()
    lines[1] = lines[1].replace("Kansai campus", "Osaka campus")
    (tmp_path / "audit-events.jsonl").write_text("\n".join(lines) + "\n")
    printed.clear()
    exec(snippet, {"print": printed.append})
    assert printed == [(False, history[1].id)]


def test_an_auditor_with_a_role_in_a_country_does_not_read_its_events(api, client, jp, history):
    """Conflict of interest (DESIGN §1): an auditor who is also JP's official reads FR's and
    programme-wide events, never JP's, in the list, a filter, an export and the explorer."""
    both = make_user("auditor", username="auditor-jp")
    Membership.objects.create(user=both, tenant=jp, role="official")
    api.as_user(both)
    listed = [e["id"] for e in api.get(URL, {"page_size": 50}).json()["results"]]
    assert listed == [history[4].id, history[3].id, history[2].id]
    assert api.get(URL, {"tenant": "JP"}).json()["results"] == []
    assert api.get(URL, {"object_id": "1"}).json()["results"] == []
    _response, body = _export(api, both, "format=jsonl&tenant=JP")
    assert b"Kansai" not in body
    client.force_login(both)
    page = client.get("/audit/").content.decode()
    assert "Kansai" not in page and "Paris" in page
    assert "Events of the countries where you hold a role (JP) are not shown" in page
    timeline = client.get("/audit/object/partnerships.countryapplication/1/").content.decode()
    assert "Kansai" not in timeline
    # An auditor with no country role reads everything, and is told nothing is withheld.
    plain = make_user("auditor", username="auditor-plain")
    client.force_login(plain)
    page = client.get("/audit/").content.decode()
    assert "Kansai" in page and "are not shown" not in page
