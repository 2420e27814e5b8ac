"""``seed_demo``: demo countries, one user per role and applications in every state.

Idempotent: a second run finds what the first made and adds nothing. Lives in compliance,
the top layer, because it drives applications through screening as well as the workflow.
Everything goes through the real services, so the demo's audit trail is a real one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from compliance.models import TerritoryListVersion
from compliance.services import application_screen
from partnerships import workflow
from partnerships.commitments.payments import tranche_mark_paid
from partnerships.commitments.services import commitment_confirm, commitment_create
from partnerships.commitments.validation import TrancheInput
from partnerships.models import (
    CoInvestmentCommitment,
    CountryApplication,
    FxRate,
    Partnership,
    State,
)
from partnerships.services import application_create
from portal.context import actor_context
from portal.launcher import demo_password
from portal.tenancy.models import Tenant
from portal.tenancy.roles import PROGRAMME_ROLES, Role
from portal.tenancy.services import role_grant

TENANTS = [
    ("JP", "Japan", ["ja"], "Asia/Tokyo"),
    ("FR", "France", ["fr"], "Europe/Paris"),
    ("AE", "United Arab Emirates", ["ar", "en"], "Asia/Dubai"),
    ("NO", "Norway", ["no"], "Europe/Oslo"),
    ("IN", "India", ["hi", "en"], "Asia/Kolkata"),
    ("BR", "Brazil", ["pt"], "America/Sao_Paulo"),
    ("AR", "Argentina", ["es"], "America/Argentina/Buenos_Aires"),
    ("AU", "Australia", ["en"], "Australia/Sydney"),
]


def _site(
    country: str, region: str, mw: str, mix: dict[str, int], years: int = 2
) -> dict[str, Any]:
    return {
        "country": country,
        "region": region,
        "capacity_mw": Decimal(mw),
        "target_online_date": timezone.localdate().replace(month=1, day=1)
        + dt.timedelta(days=365 * years + 90),
        "energy_mix": mix,
        "pue": None,
        "utilisation": None,
    }


def _application(
    title: str,
    sites: list[dict[str, Any]],
    languages: list[str],
    amount: str,
    currency: str,
    residency: bool = True,
) -> dict[str, Any]:
    return {
        "title": title,
        "sites": sites,
        "languages": languages,
        "sectors": ["healthcare", "education", "public_services"],
        "customization_notes": "Localized terminology for public services.",
        "data_residency_required": residency,
        "data_categories": ["health records", "education records"],
        "security_commitments": {
            "hardware_security": True,
            "zero_trust": True,
            "encryption": True,
            "personnel_oversight": True,
        },
        "startup_fund": {"amount": Decimal(amount), "currency": currency},
    }


# (tenant, target state, application) — public deals of 2025–2026 (shared/DOMAIN.md).
DEMO_APPLICATIONS = [
    (
        "JP",
        State.DRAFT,
        _application(
            "Kansai sovereign AI campus",
            [_site("JP", "Kansai", "120", {"solar": 40, "nuclear": 30, "gas": 30})],
            ["ja"],
            "50000000000",
            "JPY",
        ),
    ),
    (
        "FR",
        State.SCREENING,
        _application(
            "Paris-Saclay sovereign compute",
            [_site("FR", "Île-de-France", "150", {"nuclear": 70, "wind": 20, "solar": 10})],
            ["fr"],
            "300000000",
            "EUR",
        ),
    ),
    (
        "AE",
        State.APPROVED,
        _application(
            "Stargate UAE — Abu Dhabi campus",
            [_site("AE", "Abu Dhabi", "1000", {"nuclear": 40, "solar": 30, "gas": 30}, 1)],
            ["ar", "en"],
            "1000000000",
            "AED",
        ),
    ),
    (
        "AE",
        State.SCREENING_HOLD,
        _application(
            "Regional edge sites",
            [
                _site("AE", "Dubai", "40", {"solar": 50, "gas": 50}),
                _site("IQ", "Basra", "20", {"gas": 100}),
            ],
            ["ar"],
            "100000000",
            "AED",
            residency=False,
        ),
    ),
    (
        "NO",
        State.FINAL_REVIEW,
        _application(
            "Stargate Norway — Narvik",
            [_site("NO", "Narvik", "230", {"hydro": 100})],
            ["no", "en"],
            "1000000000",
            "NOK",
        ),
    ),
    (
        "IN",
        State.TECHNICAL_REVIEW,
        _application(
            "OpenAI for India — 100 MW campus",
            [_site("IN", "Maharashtra", "100", {"solar": 40, "grid": 60})],
            ["hi", "en", "ta"],
            "5000000000",
            "INR",
        ),
    ),
    (
        "BR",
        State.SECURITY_REVIEW,
        _application(
            "Brazil sovereign assistant — São Paulo",
            [_site("BR", "São Paulo", "60", {"hydro": 60, "wind": 30, "solar": 10})],
            ["pt"],
            "250000000",
            "BRL",
        ),
    ),
    (
        "AR",
        State.US_COORDINATION,
        _application(
            "Stargate Argentina — Patagonia",
            [_site("AR", "Patagonia", "500", {"wind": 70, "gas": 30}, 3)],
            ["es"],
            "100000000",
            "USD",
        ),
    ),
    (
        "AU",
        State.INFO_REQUESTED,
        _application(
            "OpenAI for Australia — Sydney",
            [_site("AU", "New South Wales", "550", {"solar": 30, "wind": 30, "gas": 40})],
            ["en"],
            "7000000000",
            "AUD",
        ),
    ),
    (
        "BR",
        State.REJECTED,
        _application(
            "Amazonas edge pilot",
            [_site("BR", "Amazonas", "10", {"gas": 100})],
            ["pt"],
            "10000000",
            "BRL",
        ),
    ),
    (
        "IN",
        State.WITHDRAWN,
        _application(
            "Hyderabad pilot",
            [_site("IN", "Telangana", "20", {"coal": 50, "solar": 50})],
            ["hi", "te"],
            "100000000",
            "INR",
        ),
    ),
]

# The path from technical review to each target state: (programme role, action, inputs).
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    State.TECHNICAL_REVIEW: [],
    State.SECURITY_REVIEW: [("reviewer", "approve_technical", {})],
    State.US_COORDINATION: [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "medium"}),
    ],
    State.FINAL_REVIEW: [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "low"}),
        ("us_coordinator", "concur", {"rationale": "Coordinated with the interagency process."}),
    ],
    State.APPROVED: [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "medium"}),
        ("us_coordinator", "concur", {"rationale": "Concur with conditions.", "conditions": "veu"}),
        ("approver", "approve", {"message_to_country": "Welcome to the partnership programme."}),
    ],
    State.INFO_REQUESTED: [
        (
            "reviewer",
            "request_info",
            {
                "rationale": "Please give the expected PUE and the grid connection date for the site."
            },
        )
    ],
    State.REJECTED: [
        ("reviewer", "approve_technical", {}),
        ("security_reviewer", "approve_security", {"risk_level": "high"}),
        (
            "us_coordinator",
            "non_concur",
            {
                "rationale": "Export-control concerns not resolved.",
                "message_to_country": "The application was not approved.",
            },
        ),
    ],
}


class Command(BaseCommand):
    help = "Create demo countries, users (password from $DEMO_PASSWORD) and applications in every state."

    def handle(self, *args: Any, **options: Any) -> None:
        password = demo_password()
        if not TerritoryListVersion.objects.exists():
            call_command("load_territories", verbosity=0)
        if not FxRate.objects.exists():
            call_command("load_fx_rates", verbosity=0)
        with actor_context(system_label="command:seed_demo"):
            users = self._users(password)
            made = 0
            for code, state, data in DEMO_APPLICATIONS:
                tenant = Tenant.objects.get(code=code)
                if CountryApplication.objects.filter(tenant=tenant, title=data["title"]).exists():
                    continue
                self._drive(users, tenant, state, data)
                made += 1
            commitments = self._commitments(users)
        self.stdout.write(
            f"seed_demo: {len(users)} users, {made} new applications, {commitments} new commitments; "
            f"password: {password}"
        )

    def _commitments(self, users: dict[str, Any]) -> int:
        """Commitments in four currencies; the approved partnership's is confirmed and part paid."""
        today = timezone.localdate()
        plans = [
            ("AE", "global_expansion", "3672500000", "AED"),
            ("JP", "national_startup_fund", "50000000000", "JPY"),
            ("FR", "in_country_infrastructure", "300000000", "EUR"),
            ("NO", "global_expansion", "1000000000", "NOK"),
        ]
        made = 0
        for code, vehicle, amount, currency in plans:
            tenant = Tenant.objects.get(code=code)
            if CoInvestmentCommitment.objects.filter(tenant=tenant).exists():
                continue
            total = Decimal(amount)
            first = (total / 4).quantize(Decimal(1))
            partnership = Partnership.objects.filter(tenant=tenant).first()
            data: dict[str, Any] = {
                "vehicle": vehicle,
                "amount": total,
                "currency": currency,
                "commitment_date": today,
                "partnership": partnership.pk if partnership else None,
                "tranches": [
                    TrancheInput(due_date=today + dt.timedelta(days=30), amount=first),
                    TrancheInput(due_date=today + dt.timedelta(days=395), amount=total - first),
                ],
            }
            commitment = commitment_create(
                actor=users[f"official-{code.lower()}"],
                tenant=tenant,
                data=data,  # type: ignore[arg-type]
            )
            made += 1
            if partnership is not None:
                commitment = commitment_confirm(
                    commitment=commitment, actor=users["approver"], version=commitment.version
                )
                tranche = commitment.tranches.order_by("due_date").first()
                assert tranche is not None
                tranche_mark_paid(
                    commitment=commitment,
                    tranche_id=tranche.pk,
                    actor=users["approver"],
                    payment_reference="DEMO-TRANSFER-0001",
                )
        return made

    def _users(self, password: str) -> dict[str, Any]:
        User = get_user_model()
        users: dict[str, Any] = {}
        names: list[tuple[str, Role, str | None]] = [
            (role.value, role, None) for role in Role if role in PROGRAMME_ROLES
        ]
        for code, name, languages, time_zone in TENANTS:
            Tenant.objects.get_or_create(
                code=code,
                defaults={"name": name, "languages": languages, "time_zone": time_zone},
            )
            names += [
                (f"{role.value}-{code.lower()}", role, code)
                for role in (Role.OFFICIAL, Role.COUNTRY_ADMIN)
            ]
        for username, role, tenant_code in names:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@demo.invalid"}
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            role_grant(user=user, role=role, tenant_code=tenant_code)
            users[username] = user
        return users

    def _drive(
        self, users: dict[str, Any], tenant: Tenant, state: str, data: dict[str, Any]
    ) -> None:
        official = users[f"official-{tenant.code.lower()}"]
        with transaction.atomic():
            application = application_create(actor=official, tenant=tenant, data=data)
        if state == State.DRAFT:
            return
        application = self._act(application, official, "submit", {})
        if state == State.SCREENING:
            return
        if state == State.WITHDRAWN:
            self._act(
                application,
                official,
                "withdraw",
                {"rationale": "Merged into a larger application."},
            )
            return
        application_screen(
            application_id=application.pk, version=application.version, task_id="seed_demo"
        )
        application.refresh_from_db()
        for username, action, inputs in PATHS.get(state, []):
            if inputs.get("conditions") == "veu":
                inputs = {
                    **inputs,
                    "conditions": [
                        workflow.ConditionInput(
                            "No advanced AI chips (ECCN 3A090) before the site's Data Center VEU approval.",
                            timezone.localdate() + dt.timedelta(days=180),
                        )
                    ],
                }
            application = self._act(application, users[username], action, inputs)

    def _act(
        self, application: CountryApplication, actor: Any, action: str, inputs: dict[str, Any]
    ) -> CountryApplication:
        application.refresh_from_db()
        return workflow.application_transition(
            application=application,
            actor=actor,
            action=action,
            version=application.version,
            **inputs,
        )
