"""A streamed body runs under the requesting user's scope until it is closed; afterwards the
connection is scoped to nothing. The outbox (every country's mail) is under RLS too."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path

from partnerships.models import CountryApplication, OutboxEmail
from partnerships.notifications import deliver_pending
from portal.tenancy import rls
from tests.factories import create_application, make_user

pytestmark = pytest.mark.django_db


def unfiltered_stream(request: HttpRequest) -> StreamingHttpResponse:
    """The bug RLS is there for, in a stream: every application, no restrict(), lazily."""

    def rows():  # type: ignore[no-untyped-def]
        for reference in (
            CountryApplication.objects.order_by("id")
            .values_list("reference", flat=True)
            .iterator(chunk_size=1)
        ):
            yield f"{reference}\n"

    return StreamingHttpResponse(rows(), content_type="text/plain")


urlpatterns = [path("unfiltered-stream/", unfiltered_stream)]


def _scope() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('portal.tenant_scope', true)")
        return cursor.fetchone()[0]


@pytest.fixture
def see_the_reset(monkeypatch):  # type: ignore[no-untyped-def]
    """The portal's own reset (the test suite otherwise restores 'all' for its code)."""
    monkeypatch.setattr(rls, "AFTER_REQUEST_SCOPE", rls.SCOPE_NONE)
    yield
    rls.apply_scope(rls.SCOPE_ALL)


@pytest.mark.urls("tests.portal.test_rls_streaming")
def test_an_unfiltered_stream_yields_only_the_users_country(
    client, official_jp, jp, official_fr, fr, see_the_reset
):
    jp_app = create_application(official_jp, jp)
    create_application(official_fr, fr)
    create_application(official_fr, fr)
    client.force_login(official_jp)
    response = client.get("/unfiltered-stream/")
    assert response.streaming
    body = b"".join(response.streaming_content).decode().split()
    assert body == [jp_app.reference]  # no French row came out
    assert _scope() == ""  # closed: reset to none, not to 'all'
    assert not CountryApplication.objects.exists()

    client.force_login(make_user("reviewer"))
    assert len(b"".join(client.get("/unfiltered-stream/").streaming_content).split()) == 3
    assert _scope() == ""


def test_after_an_ordinary_request_the_scope_is_none(client, official_jp, see_the_reset):
    client.force_login(official_jp)
    assert client.get("/applications/").status_code == 200
    assert _scope() == ""


@pytest.mark.django_db(transaction=True)
def test_the_outbox_is_read_only_programme_wide(official_jp, jp):
    OutboxEmail.objects.create(to="reviewer@example.org", subject="FR application", body="internal")
    rls.apply_scope(rls.scope_for(official_jp))
    assert not OutboxEmail.objects.exists()  # everyone's mail: invisible to a country's request
    # A country's request may still write mail (INSERT … RETURNING sees its own new row) …
    mine = OutboxEmail.objects.create(to="official@example.jp", subject="Yours", body="...")
    assert mine.id is not None
    # … but once committed, not even that one is read, changed or deleted by it.
    assert not OutboxEmail.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE partnerships_outboxemail SET attempts = 9")
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM partnerships_outboxemail")
        assert cursor.rowcount == 0
    rls.apply_scope(rls.SCOPE_NONE)
    assert not OutboxEmail.objects.exists()
    rls.apply_scope(rls.SCOPE_ALL)
    assert OutboxEmail.objects.filter(attempts=0).count() == 2
    assert deliver_pending() == 2  # the delivery task reads and marks them programme-wide
