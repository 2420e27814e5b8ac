"""The benchmark's data set: generated straight into the tables (bulk inserts), except for
what the benchmark measures, which goes through the real services."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pycountry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone

from partnerships import workflow
from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    Decision,
    FxRate,
    Site,
    State,
    Tranche,
)
from partnerships.services import application_create
from portal.accounts.models import ApiToken
from portal.accounts.services import token_issue, token_revoke
from portal.audit.models import AuditEvent
from portal.audit.record import record_events
from portal.audit.verbs import Verb
from portal.tenancy.models import Membership, ProgrammeRole, Tenant

FULL_APPLICATIONS = 100_000
EVENTS_PER_APPLICATION = 10
COUNTRIES = 60
PROGRAMME = [
    "reviewer",
    "security_reviewer",
    "compliance_officer",
    "us_coordinator",
    "approver",
    "auditor",
]
STATES = [State.TECHNICAL_REVIEW] * 4 + [
    State.SECURITY_REVIEW,
    State.US_COORDINATION,
    State.FINAL_REVIEW,
    State.APPROVED,
    State.REJECTED,
    State.DRAFT,
    State.INFO_REQUESTED,
]
RNG = random.Random(20261128)


def _tenants() -> list[Tenant]:
    codes = sorted(c.alpha_2 for c in pycountry.countries)
    RNG.shuffle(codes)
    skip = {"BY", "CN", "CU", "IR", "KP", "RU", "SY", "VE", "HK", "MO", "EH"}
    chosen = [c for c in codes if c not in skip][:COUNTRIES]
    for code in chosen:
        Tenant.objects.get_or_create(
            code=code, defaults={"name": pycountry.countries.get(alpha_2=code).name[:100]}
        )
    return list(Tenant.objects.filter(code__in=chosen))


def bench_users() -> dict[str, Any]:
    User = get_user_model()
    users = {}
    for role in PROGRAMME:
        user, _ = User.objects.get_or_create(
            username=f"bench-{role}", defaults={"email": f"{role}@bench.invalid"}
        )
        ProgrammeRole.objects.get_or_create(user=user, role=role)
        users[role] = user
    tenant = Tenant.objects.order_by("code").first()
    assert tenant is not None
    official, _ = User.objects.get_or_create(username="bench-official")
    Membership.objects.get_or_create(user=official, tenant=tenant, role="official")
    users["official"] = official
    users["official_tenant"] = tenant
    return users


def generate(applications: int) -> dict[str, Any]:
    """Grow the data set to ``applications`` applications (and ten audit events and a tenth
    of a commitment per application); returns the counts and the seconds taken."""
    started = time.perf_counter()
    # Idempotent: records a new list or policy version only when the shipped files changed.
    call_command("load_territories", verbosity=0)
    if not FxRate.objects.exists():
        call_command("load_fx_rates", verbosity=0)
    tenants = _tenants()
    users = bench_users()
    target_apps = applications
    have = CountryApplication.objects.count()
    if have < target_apps:
        _applications(tenants, users["official"], target_apps - have, start=have)
    target_events = applications * EVENTS_PER_APPLICATION
    have_events = AuditEvent.objects.count()
    if have_events < target_events:
        record_events(events=_events(tenants, target_events - have_events), batch_size=5000)
    have_commitments = CoInvestmentCommitment.objects.count()
    if have_commitments < applications // 10:
        _commitments(tenants, users["official"], applications // 10 - have_commitments)
    return {
        "applications": CountryApplication.objects.count(),
        "countries": len(tenants),
        "audit_events": AuditEvent.objects.count(),
        "commitments": CoInvestmentCommitment.objects.count(),
        "generation_seconds": round(time.perf_counter() - started, 1),
    }


def _applications(tenants: list[Tenant], creator: Any, count: int, start: int) -> None:
    now = timezone.now()
    online = timezone.localdate() + dt.timedelta(days=900)
    batch = 5000
    for offset in range(0, count, batch):
        rows = []
        for i in range(start + offset, start + min(offset + batch, count)):
            tenant = tenants[i % len(tenants)]
            state = STATES[i % len(STATES)]
            rows.append(
                CountryApplication(
                    tenant=tenant,
                    reference=f"{tenant.code}-B{i:07d}",
                    title=f"Bench campus {i}",
                    state=state,
                    created_by=creator,
                    updated_by=creator,
                    submitted_at=None if state == State.DRAFT else now,
                    submitted_by=None if state == State.DRAFT else creator,
                    languages=["en"],
                    sectors=["healthcare"],
                    data_residency_required=True,
                    hardware_security=True,
                    zero_trust=True,
                    encryption=True,
                    personnel_oversight=True,
                    startup_fund_amount=Decimal("1000000"),
                    startup_fund_currency="USD",
                    screening_outcome="clear",
                    screening_list_version=1,
                    stage_entered_at=now,
                    stage_due_at=now + dt.timedelta(days=RNG.randint(-5, 15)),
                )
            )
        created = CountryApplication.objects.bulk_create(rows)
        Site.objects.bulk_create(
            [
                Site(
                    application=a,
                    country=a.tenant.code,
                    region="Region",
                    capacity_mw=Decimal(100),
                    target_online_date=online,
                    energy_mix={"solar": 50, "gas": 50},
                    estimated_annual_co2_tonnes=Decimal("226533.1"),
                )
                for a in created
            ]
        )
        Decision.objects.bulk_create(
            [
                Decision(
                    application=a,
                    action="submit",
                    from_state="draft",
                    to_state="screening",
                    actor=creator,
                    actor_label=creator.username,
                    role="official",
                    application_version=2,
                )
                for a in created
                if a.state != State.DRAFT
            ]
        )


def _commitments(tenants: list[Tenant], creator: Any, count: int) -> None:
    today = timezone.localdate()
    vehicles = [v for v, _ in CoInvestmentCommitment.Vehicle.choices]
    batch = 5000
    for offset in range(0, count, batch):
        rows = [
            CoInvestmentCommitment(
                tenant=tenants[i % len(tenants)],
                vehicle=vehicles[i % len(vehicles)],
                amount=Decimal("2000000.000"),
                currency="USD",
                commitment_date=today,
                fx_rate=Decimal(1),
                fx_rate_date=today,
                usd_amount=Decimal("2000000.00"),
                status="confirmed" if i % 3 else "proposed",
                created_by=creator,
            )
            for i in range(offset, min(offset + batch, count))
        ]
        with transaction.atomic():  # the tranche-sum check is deferred to the commit
            created = CoInvestmentCommitment.objects.bulk_create(rows)
            Tranche.objects.bulk_create(
                [
                    Tranche(
                        commitment=c,
                        due_date=today + dt.timedelta(days=180 * k),
                        amount=Decimal("1000000.000"),
                        status="paid" if k == 0 and c.status == "confirmed" else "scheduled",
                    )
                    for c in created
                    for k in (0, 1)
                ]
            )


def _events(tenants: list[Tenant], count: int) -> Iterator[dict[str, Any]]:
    ids = list(CountryApplication.objects.values_list("id", "tenant_id")[:200_000])
    by_id = {t.id: t for t in tenants}
    verbs = [
        Verb.APPLICATION_UPDATED,
        Verb.WORKFLOW_APPROVE_TECHNICAL,
        Verb.AUTH_LOGIN,
        Verb.APPLICATION_SUBMITTED,
    ]
    base = timezone.now() - dt.timedelta(days=365)
    step = dt.timedelta(seconds=max(1, int(365 * 86400 / max(count, 1))))
    last = AuditEvent.objects.order_by("-id").values_list("occurred_at", flat=True).first()
    when = max(base, last) if last else base
    for i in range(count):
        app_id, tenant_id = ids[i % len(ids)]
        when = when + step
        yield {
            "verb": verbs[i % len(verbs)],
            "object_type": "partnerships.countryapplication",
            "object_id": app_id,
            "object_label": f"application {app_id}",
            "tenant": by_id.get(tenant_id),
            "changes": {"title": {"before": f"t{i}", "after": f"t{i + 1}"}},
            "occurred_at": when,
        }


def sample_ids() -> dict[str, Any]:
    review = list(
        CountryApplication.objects.filter(state=State.TECHNICAL_REVIEW).values_list(
            "id", flat=True
        )[:500]
    )
    count = AuditEvent.objects.count()
    deep = AuditEvent.objects.order_by("id").values_list("id", flat=True)[max(0, count // 50)]
    return {"technical_review": review, "deep_event_id": deep}


def fresh_technical_review(
    count: int, users: dict[str, Any], tenant: Tenant | None = None
) -> list[tuple[int, int]]:
    """Applications waiting in technical review for the transition benchmark: (id, version)."""
    tenant = tenant or users["official_tenant"]
    now = timezone.now()
    rows = [
        CountryApplication(
            tenant=tenant,
            reference=f"{tenant.code}-T{time.time_ns() // 1000 % 10**10:010d}{i:05d}",
            title=f"Transition {i}",
            state=State.TECHNICAL_REVIEW,
            created_by=users["official"],
            updated_by=users["official"],
            submitted_at=now,
            screening_outcome="clear",
            screening_list_version=1,
            version=3,
        )
        for i in range(count)
    ]
    return [(a.pk, a.version) for a in CountryApplication.objects.bulk_create(rows)]


def submit_many(count: int, users: dict[str, Any]) -> list[int]:
    """Create and submit complete applications through the services (screening is enqueued)."""
    official, tenant = users["official"], users["official_tenant"]
    ids = []
    online = timezone.localdate() + dt.timedelta(days=900)
    for i in range(count):
        application = application_create(
            actor=official,
            tenant=tenant,
            data={
                "title": f"Screening bench {i}",
                "languages": ["en"],
                "sectors": ["education"],
                "data_residency_required": True,
                "security_commitments": {
                    "hardware_security": True,
                    "zero_trust": True,
                    "encryption": True,
                    "personnel_oversight": True,
                },
                "startup_fund": {"amount": Decimal(1000), "currency": "USD"},
                "sites": [
                    {
                        "country": tenant.code,
                        "region": "R",
                        "capacity_mw": Decimal(10),
                        "target_online_date": online,
                        "energy_mix": {"hydro": 100},
                    }
                ],
            },
        )
        workflow.application_transition(
            application=application,
            actor=official,
            action="submit",
            version=application.version,
        )
        ids.append(application.pk)
    return ids


def wait_screened(ids: list[int], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = CountryApplication.objects.filter(pk__in=ids, state=State.SCREENING).count()
        if left == 0:
            return 0
        time.sleep(0.2)
    return CountryApplication.objects.filter(pk__in=ids, state=State.SCREENING).count()


def writer_tenants(count: int) -> list[Tenant]:
    """``count`` countries, none of them one a bench user belongs to (conflict of interest)."""
    return list(Tenant.objects.exclude(memberships__isnull=False).order_by("code")[:count])


def api_token(user: Any) -> str:
    """A token for the ``Authorization`` header, issued as the portal issues them.

    The user's earlier tokens are revoked first (through the service, audited): the data sets
    are kept between runs, and knox, which the minimal stack runs as it ships, reads every
    token of the user on each request, so tokens left by earlier runs would slow the baseline
    run after run. One live token per bench user, as one client holds."""
    for earlier in ApiToken.objects.filter(user=user):
        token_revoke(token=earlier, actor=user)
    _, token = token_issue(user=user, client="bench", otp_verified=True)
    return f"Token {token}"


def session_cookie(user: Any) -> str:
    """A signed-in session for the ``Cookie`` header (the second factor is off in bench)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def csrf_token() -> str:
    """A CSRF secret for the cookie and the header of a session's POST (Django's own maker)."""
    return _get_new_csrf_string()
