"""Granting and revoking roles; every change audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal import hooks
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import access_for, forget
from portal.tenancy.models import Membership, ProgrammeRole, Tenant
from portal.tenancy.roles import TENANT_ROLES, Role


def validate_role(role: str, tenant_code: str | None) -> Tenant | None:
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}; choose one of: {', '.join(Role.values)}.")
    if role in TENANT_ROLES:
        if not tenant_code:
            raise ValidationError(f"Role {role!r} is held in a country: give --tenant CC.")
        tenant = Tenant.objects.filter(code=tenant_code.upper()).first()
        if tenant is None:
            raise ValidationError(f"Unknown country {tenant_code!r}.")
        return tenant
    if tenant_code:
        raise ValidationError(f"Role {role!r} is programme-wide; it takes no --tenant.")
    return None


def role_grant(*, user: Any, role: str, tenant_code: str | None = None, actor: Any = None) -> bool:
    """Give ``user`` the role (in ``tenant_code`` for tenant roles); False if already held.

    Raises PermissionDenied when ``actor`` is ``user``: nobody grants a role to themselves
    (the admin, the API and invitations all come through here).
    """
    tenant = validate_role(role, tenant_code)
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise PermissionDenied(_("Nobody can grant a role to themselves."))
    with transaction.atomic():
        if tenant is not None:
            created = Membership.objects.get_or_create(
                user=user, tenant=tenant, role=role, ended_at=None
            )[1]
        else:
            created = ProgrammeRole.objects.get_or_create(user=user, role=role, ended_at=None)[1]
            if role == Role.PLATFORM_ADMIN and not (user.is_staff and user.is_superuser):
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        if created:
            record_event(
                verb=Verb.ROLE_GRANTED,
                obj=user,
                tenant=tenant,
                changes={"role": role, "tenant": tenant.code if tenant else None},
                actor=actor,
            )
    forget(user)
    return created


def role_revoke(*, user: Any, role: str, tenant_code: str | None = None, actor: Any = None) -> bool:
    """Remove the role; False if it was not held."""
    tenant = validate_role(role, tenant_code)
    with transaction.atomic():
        if tenant is not None:
            deleted = Membership.objects.filter(user=user, tenant=tenant, role=role).delete()[0]
        else:
            deleted = ProgrammeRole.objects.filter(user=user, role=role).delete()[0]
            if role == Role.PLATFORM_ADMIN:
                user.is_staff = user.is_superuser = False
                user.save(update_fields=["is_staff", "is_superuser"])
        if deleted:
            record_event(
                verb=Verb.ROLE_REVOKED,
                obj=user,
                tenant=tenant,
                changes={"role": role, "tenant": tenant.code if tenant else None},
                actor=actor,
            )
    forget(user)
    return bool(deleted)


def user_create(*, username: str, password: str, email: str = "", actor: Any = None) -> Any:
    """Create an active user with a validated password; audited."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"User {username!r} already exists.")
    user = User(username=username, email=email)
    validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        record_event(verb=Verb.USER_CREATED, obj=user, actor=actor)
    return user


def tenant_for_official(
    *, actor: Any, tenant_code: str | None, refused: str, not_yours: str
) -> Tenant:
    """The country an official acts for: the one named, or their only one; never another's.

    ``refused`` (PermissionDenied) when the actor is no country's official; ``not_yours``
    (a field error on ``tenant``, with ``%(code)s``) when the named country is not theirs.
    """
    editable = access_for(actor).editable_tenant_ids()
    if not editable:
        raise PermissionDenied(refused)
    if tenant_code:
        tenant = Tenant.objects.filter(
            code=tenant_code.strip().upper(), id__in=editable, status="active"
        ).first()
        if tenant is None:
            raise ValidationError({"tenant": [not_yours % {"code": tenant_code}]})
        return tenant
    if len(editable) == 1:
        return Tenant.objects.get(id=next(iter(editable)))
    raise ValidationError({"tenant": [_("You represent several countries: name the tenant.")]})


def tenant_create(
    *, code: str, name: str, languages: list[str], time_zone: str, actor: Any
) -> Tenant:
    """A new country, with no people yet (its first country admin is invited).

    ``code``: ISO 3166-1 alpha-2, upper case, on the current territory list; ``languages``:
    ISO 639-1 codes; ``time_zone``: an IANA name. Raises PermissionDenied unless ``actor`` is
    a platform admin, ValidationError (by field) for bad or duplicate values.
    """
    if not access_for(actor).has_programme_role(Role.PLATFORM_ADMIN):
        raise PermissionDenied(_("Only a platform administrator can add a country."))
    tenant = Tenant(code=code, name=name, languages=languages, time_zone=time_zone)
    tenant.full_clean()
    if hooks.territory_name(code) is None:
        raise ValidationError(
            {"code": [_("%(code)s is not on the territory list.") % {"code": code}]}
        )
    with transaction.atomic():
        tenant.save()
        record_event(
            verb=Verb.TENANT_CREATED,
            obj=tenant,
            tenant=tenant,
            actor=actor,
            role=Role.PLATFORM_ADMIN,
            changes={"code": code, "name": name, "languages": languages, "time_zone": time_zone},
        )
    return tenant
