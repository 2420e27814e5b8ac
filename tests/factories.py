"""factory_boy factories and the fixtures built on them, shared by every test module."""

from __future__ import annotations

from typing import Any

import factory
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from partnerships.serializers import EXAMPLE
from portal.tenancy.models import Membership, ProgrammeRole, Tenant
from portal.tenancy.roles import TENANT_ROLES

PASSWORD = "correct horse battery staple"


def _real_files() -> tuple[bytes, bytes, bytes]:
    """A one-page PDF, a PNG and a JPEG that their parsers open (uploads are parsed)."""
    import io

    import PIL.Image
    import pypdf

    pdf = io.BytesIO()
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(pdf)
    images = []
    for fmt in ("PNG", "JPEG"):
        out = io.BytesIO()
        PIL.Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format=fmt)
        images.append(out.getvalue())
    return pdf.getvalue(), images[0], images[1]


REAL_PDF, REAL_PNG, REAL_JPEG = _real_files()
# Statements a request spends on Row-Level Security (portal.tenancy.rls): none of its own.
# The scope rides on the request's first statement after the user is known (three
# statements of their own before #16: deny-all, the user's scope, the reset).
RLS_STATEMENTS = 0


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("code",)

    code = factory.Iterator(["JP", "FR", "AE", "NO", "IN", "BR", "DE", "GB", "KR", "AU"])
    name = factory.LazyAttribute(lambda t: f"Country {t.code}")
    languages = factory.LazyFunction(lambda: ["en"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


def make_user(
    role: str | None = None, tenant: Tenant | None = None, username: str | None = None
) -> Any:
    """A user holding ``role`` (in ``tenant`` for country roles)."""
    user = UserFactory(**({"username": username} if username else {}))
    if role in TENANT_ROLES:
        assert tenant is not None, "country roles need a tenant"
        Membership.objects.get_or_create(user=user, tenant=tenant, role=role)
    elif role:
        ProgrammeRole.objects.get_or_create(user=user, role=role)
    return user


@pytest.fixture
def jp(db: None) -> Tenant:
    return TenantFactory(code="JP", name="Japan", languages=["ja"])


@pytest.fixture
def fr(db: None) -> Tenant:
    return TenantFactory(code="FR", name="France", languages=["fr"])


@pytest.fixture
def official_jp(jp: Tenant) -> Any:
    return make_user("official", jp, "official-jp")


@pytest.fixture
def official_fr(fr: Tenant) -> Any:
    return make_user("official", fr, "official-fr")


@pytest.fixture
def user_factory(db: None) -> Any:
    return make_user


@pytest.fixture
def api(db: None) -> Any:
    """An APIClient; ``api.as_user(user)`` authenticates it."""
    from rest_framework.test import APIClient

    class Client(APIClient):
        def as_user(self, user: Any) -> Client:
            self.force_authenticate(user)
            return self

    return Client()


# The complete application of DESIGN §5, exactly as the API documents it.
EXAMPLE_APPLICATION = EXAMPLE


def example_payload(**overrides: Any) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(EXAMPLE_APPLICATION)
    data.update(overrides)
    return data


def create_application(official: Any, tenant: Tenant, **overrides: Any) -> Any:
    """A complete draft created through the service, as an official would."""
    from partnerships.serializers import ApplicationCreateSerializer
    from partnerships.services import application_create

    payload = example_payload(tenant=tenant.code, **overrides)
    for site in payload.get("sites", []):
        site["country"] = (
            site.get("country") if "country" in overrides.get("sites", [{}])[0] else tenant.code
        )
    body = ApplicationCreateSerializer(data=payload)
    body.is_valid(raise_exception=True)
    data = dict(body.validated_data)
    data.pop("tenant", None)
    return application_create(actor=official, tenant=tenant, data=data)


def make_user_of_every_kind_of_role(jp: Tenant, fr: Tenant) -> Any:
    """A reviewer who is also an auditor and a JP official and country admin, with roles
    the roles query must leave out: an ended approver role, an ended FR membership, and a
    membership of a suspended country (NO)."""
    user = make_user("reviewer")
    ProgrammeRole.objects.create(user=user, role="auditor")
    ProgrammeRole.objects.create(user=user, role="approver", ended_at=timezone.now())
    Membership.objects.create(user=user, tenant=jp, role="official")
    Membership.objects.create(user=user, tenant=jp, role="country_admin")
    Membership.objects.create(user=user, tenant=fr, role="official", ended_at=timezone.now())
    suspended = TenantFactory(code="NO", status=Tenant.Status.SUSPENDED)
    Membership.objects.create(user=user, tenant=suspended, role="official")
    return user
