"""A page that writes on POST answers other write methods with 405 naming what it allows,
never with its GET page (found by the endpoint table's write probe,
tests/test_endpoint_table.py, which now holds every route to it)."""

from __future__ import annotations

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/applications/new/", "/commitments/new/", "/accounts/2fa/setup/", "/accounts/2fa/"]
)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_form_pages_refuse_methods_they_do_not_take(client, jp, path, method):
    client.force_login(make_user("official", jp, "official-405"))
    response = getattr(client, method)(path)
    assert response.status_code == 405, response.status_code
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
