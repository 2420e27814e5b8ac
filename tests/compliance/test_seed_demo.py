from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from partnerships.models import CountryApplication, Decision, State
from portal.audit.models import AuditEvent
from portal.audit.verify import verify_chain
from portal.tenancy.models import Membership, ProgrammeRole, Tenant

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Tenant.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        ProgrammeRole.objects.count(),
        CountryApplication.objects.count(),
        Decision.objects.count(),
    )


def test_seed_demo_is_idempotent_and_covers_every_state(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password for tests")
    call_command("seed_demo")
    first = _counts()
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    assert _counts() == first
    assert AuditEvent.objects.count() == events  # nothing changed, nothing recorded
    assert set(CountryApplication.objects.values_list("state", flat=True)) == set(State.values)
    assert {"JP", "FR", "AE", "NO", "IN", "BR"} <= set(
        Tenant.objects.values_list("code", flat=True)
    )
    # Every seeded country has its time zone ("today" for its dates, DESIGN §5c).
    assert Tenant.objects.get(code="JP").time_zone == "Asia/Tokyo"
    assert not Tenant.objects.filter(time_zone="").exists()
    User = get_user_model()
    for username in (
        "reviewer",
        "security_reviewer",
        "compliance_officer",
        "us_coordinator",
        "approver",
        "auditor",
        "platform_admin",
        "official-jp",
        "country_admin-fr",
    ):
        assert User.objects.get(username=username).check_password("a demo password for tests"), (
            username
        )
    held = CountryApplication.objects.get(state=State.SCREENING_HOLD)
    assert held.screening_outcome == "needs_review"
    from partnerships.models import CoInvestmentCommitment

    assert set(CoInvestmentCommitment.objects.values_list("currency", flat=True)) >= {
        "AED",
        "JPY",
        "EUR",
    }
    assert CoInvestmentCommitment.objects.filter(status="confirmed").count() == 1
    assert verify_chain().ok
