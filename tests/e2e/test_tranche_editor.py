"""In a real browser: the tranche editor's running total reads amounts as the reader's
language writes them, exactly as the server will (issue #14)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_official_journey import _login
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("lang", "amount", "first", "second"),
    [
        ("en", "1,000,000.5", "600,000", "400,000.5"),
        ("fr", "1 000 000,5", "600 000", "400 000,5"),
        ("es", "1.000.000,5", "600.000", "400.000,5"),
    ],
)
def test_running_total_matches_in_the_readers_format(
    page: Any, live_server: Any, lang: str, amount: str, first: str, second: str
) -> None:
    from portal.tenancy.models import Tenant

    tenant = Tenant.objects.create(code="FR", name="France", languages=["fr"])
    make_user("official", tenant, f"official-tr-{lang}")
    _login(page, live_server.url, f"official-tr-{lang}", lang)
    prefix = "" if lang == "en" else f"/{lang}"
    page.goto(f"{live_server.url}{prefix}/commitments/new/")
    page.fill("#id_currency", "EUR")
    page.fill("#id_amount", amount)
    page.fill("#tranche-amount-1", first)
    ok = page.evaluate(
        "document.querySelector('#tranche-messages').content.querySelector('[data-ok]').textContent"
    )
    assert page.text_content("#tranche-status") != ok
    page.fill("#tranche-amount-2", second)
    assert page.text_content("#tranche-status") == ok
    assert page.text_content("#tranche-remainder").strip().endswith("0.00")
