"""People (DESIGN §5b): invitations, deactivation, passwords, second factor, API tokens.

Every function is keyword-only, names its ``actor``, runs in one transaction and records its
audit event there; e-mail goes through the outbox (portal.hooks), so nothing is sent for a
change that rolled back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import hooks
from portal.accounts.models import ApiToken, Invitation
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.tenancy.access import access_for, forget
from portal.tenancy.models import Membership, ProgrammeRole, Tenant
from portal.tenancy.roles import PROGRAMME_ROLES, TENANT_ROLES, Role
from portal.tenancy.services import role_grant

RECOVERY_CODES = 10


def _secret() -> tuple[str, str]:
    """A URL-safe random secret (256 bits) and its SHA-256, the only form stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_secret(token)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _link(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


# --- Who may invite whom ----------------------------------------------------------------------


def grantable_roles(actor: Any, tenant: Tenant | None) -> list[str]:
    """The roles ``actor`` may invite someone to hold (in ``tenant`` for country roles).

    A platform admin: a country's admin and programme staff. A country admin: officials and
    country admins of their own country. Nobody else invites anyone.
    """
    access = access_for(actor)
    if tenant is None:
        if access.has_programme_role(Role.PLATFORM_ADMIN):
            return sorted(PROGRAMME_ROLES)
        return []
    roles: set[str] = set()
    if access.has_programme_role(Role.PLATFORM_ADMIN):
        roles.add(Role.COUNTRY_ADMIN)
    if access.has_tenant_role(tenant.pk, Role.COUNTRY_ADMIN):
        roles |= {Role.OFFICIAL, Role.COUNTRY_ADMIN}
    return sorted(roles)


def invitable_tenants(actor: Any) -> list[Tenant]:
    """Countries ``actor`` may invite people into."""
    access = access_for(actor)
    if access.has_programme_role(Role.PLATFORM_ADMIN):
        return list(Tenant.objects.filter(status=Tenant.Status.ACTIVE))
    ids = [tid for tid, roles in access.tenant_roles.items() if Role.COUNTRY_ADMIN in roles]
    return list(Tenant.objects.filter(id__in=ids, status=Tenant.Status.ACTIVE))


def may_invite_anyone(actor: Any) -> bool:
    """Platform admins and country admins invite; checked before a body is even read."""
    access = access_for(actor)
    return access.has_programme_role(Role.PLATFORM_ADMIN) or any(
        Role.COUNTRY_ADMIN in roles for roles in access.tenant_roles.values()
    )


def _require_may_invite(actor: Any, role: str, tenant: Tenant | None) -> None:
    if role in TENANT_ROLES and tenant is None:
        raise ValidationError({"tenant": [_("A country role needs a country.")]})
    if role in PROGRAMME_ROLES and tenant is not None:
        raise ValidationError({"tenant": [_("A programme role is held in no country.")]})
    if role not in grantable_roles(actor, tenant):
        raise PermissionDenied(_("You may not invite someone to this role."))


# --- Invitations ------------------------------------------------------------------------------


def invitation_languages() -> list[tuple[str, str]]:
    """The languages an invitation can be written in: ``[(code, name in that language)]``,
    in the order of ``settings.LANGUAGES`` (the invitee reads their own language's name)."""
    return [
        (code, translation.get_language_info(code)["name_local"]) for code, _n in settings.LANGUAGES
    ]


def user_language_set(*, user: Any, language: str) -> None:
    """Store ``language`` as the one the portal writes to ``user`` in (their e-mails).

    Raises ValidationError for a code that is not one of ``settings.LANGUAGES``; nothing is
    stored then. Writes only when the language changes.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose one of the portal's languages.")]})
    if user.language != language:
        get_user_model().objects.filter(pk=user.pk).update(language=language)
        user.language = language


def spoken_language(code: str) -> str:
    """``code`` when the portal speaks it (``settings.LANGUAGES``), else its default language."""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def user_language(user: Any) -> str:
    """The language the portal writes to ``user`` in: their stored one when the portal still
    speaks it, else the portal's default."""
    return spoken_language(getattr(user, "language", ""))


def _invitation_mail(invitation: Invitation, token: str) -> None:
    """The invitation e-mail, written in the invitation's language; its link opens the
    portal in that language too (the URL's language prefix)."""
    with translation.override(invitation.language):
        link = _link(reverse("invitation-accept", kwargs={"token": token}))
        where = f" ({invitation.tenant.name})" if invitation.tenant else ""
        hooks.queue_mail(
            recipients=[invitation.email],
            subject=_("Invitation to the Country Partnership Portal"),
            body=_(
                "%(by)s invites you to the Country Partnership Portal as %(role)s%(where)s.\n\n"
                "Open this link to create your account (valid until %(until)s UTC, once):\n"
                "%(link)s\n\nIf you did not expect this, ignore this message."
            )
            % {
                "by": invitation.invited_by.get_username(),
                "role": str(Role(invitation.role).label),
                "where": where,
                "until": f"{invitation.expires_at:%Y-%m-%d %H:%M}",
                "link": link,
            },
        )


def _invitation_language(language: str | None, tenant: Tenant | None) -> str:
    """``language`` when given (refused unless it is one of the portal's languages); else
    the first of the country's languages the portal speaks; else the portal's default."""
    portal_languages = dict(settings.LANGUAGES)
    if language is not None:
        if language not in portal_languages:
            raise ValidationError({"language": [_("Choose one of the portal's languages.")]})
        return language
    spoken = [code for code in (tenant.languages if tenant else []) if code in portal_languages]
    return spoken[0] if spoken else settings.LANGUAGE_CODE


def invitation_create(
    *, actor: Any, email: str, role: str, tenant: Tenant | None, language: str | None = None
) -> tuple[Invitation, str]:
    """Invite ``email`` to hold ``role`` (in ``tenant`` for country roles); mails the link,
    written in ``language`` (a code of ``settings.LANGUAGES``; when None, the first of the
    country's languages the portal speaks, else the portal's default).

    Returns the invitation and its secret (shown nowhere else; the e-mail carries it).
    Raises PermissionDenied when ``actor`` may not grant the role there, ValidationError
    for a self-invitation, a duplicate pending invitation or an unknown language.
    """
    email = email.strip().lower()
    _require_may_invite(actor, role, tenant)
    language = _invitation_language(language, tenant)
    if actor.email and actor.email.lower() == email:
        raise ValidationError({"email": [_("Nobody can grant a role to themselves.")]})
    token, digest = _secret()
    now = timezone.now()
    with transaction.atomic():
        pending = Invitation.objects.filter(
            email=email, role=role, tenant=tenant, accepted_at=None, revoked_at=None,
            expires_at__gt=now,
        )  # fmt: skip
        if pending.exists():
            raise ValidationError(
                {"email": [_("This address already has a pending invitation to this role.")]}
            )
        invitation = Invitation.objects.create(
            email=email, role=role, tenant=tenant, invited_by=actor, token_hash=digest,
            language=language, sent_at=now,
            expires_at=now + dt.timedelta(days=settings.PORTAL_INVITATION_DAYS),
        )  # fmt: skip
        record_event(
            verb=Verb.USER_INVITED, obj=invitation, tenant=tenant, actor=actor,
            changes={"email": email, "role": role, "tenant": tenant.code if tenant else None,
                     "language": language, "expires_at": invitation.expires_at.isoformat()},
        )  # fmt: skip
        _invitation_mail(invitation, token)
    return invitation, token


def _require_may_manage_invitation(actor: Any, invitation: Invitation) -> None:
    if invitation.role not in grantable_roles(actor, invitation.tenant):
        raise PermissionDenied(_("You may not manage this invitation."))


def invitation_resend(*, invitation: Invitation, actor: Any) -> tuple[Invitation, str]:
    """A new secret and expiry for a pending or expired invitation (the old link dies)."""
    _require_may_manage_invitation(actor, invitation)
    token, digest = _secret()
    now = timezone.now()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at or locked.revoked_at:
            raise ValidationError({"detail": [_("This invitation is no longer open.")]})
        locked.token_hash = digest
        locked.sent_at = now
        locked.expires_at = now + dt.timedelta(days=settings.PORTAL_INVITATION_DAYS)
        locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
        record_event(
            verb=Verb.INVITATION_RESENT, obj=locked, tenant=locked.tenant, actor=actor,
            changes={"expires_at": locked.expires_at.isoformat()},
        )  # fmt: skip
        _invitation_mail(locked, token)
    return locked, token


def invitation_revoke(*, invitation: Invitation, actor: Any) -> Invitation:
    """Revoke an invitation not yet accepted; revoking twice changes nothing."""
    _require_may_manage_invitation(actor, invitation)
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at:
            raise ValidationError({"detail": [_("This invitation was already accepted.")]})
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            record_event(
                verb=Verb.INVITATION_REVOKED, obj=locked, tenant=locked.tenant, actor=actor
            )
    return locked


def _open_invitation(token: str, *, lock: bool = False) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    queryset = Invitation.objects.select_related("tenant", "invited_by")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return queryset.filter(
        token_hash=hash_secret(token), accepted_at=None, revoked_at=None,
        expires_at__gt=timezone.now(),
    ).first()  # fmt: skip


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation the secret names; None if unknown, used, revoked or expired."""
    return _open_invitation(token)


def invalid_invitation() -> ValidationError:
    """The one answer for an unknown, used, revoked or expired secret."""
    return ValidationError(
        {"token": [_("This invitation link is not valid. Ask for a new invitation.")]}
    )


def invitation_accept(*, token: str, username: str, password: str, email: str = "") -> Any:
    """Accept: create the account (or reactivate the invitee's own, or add the role to an
    existing account whose password is given), grant the role, close the invitation.

    Raises ValidationError: ``invalid_invitation()`` for any token that is not open; field
    errors on ``username``/``password`` (validators, minimum 12 characters). Returns the user.
    """
    User = get_user_model()
    with transaction.atomic():
        invitation = _open_invitation(token, lock=True)
        if invitation is None:
            raise invalid_invitation()
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None:
            user = User(username=username, email=invitation.email, language=invitation.language)
            user.full_clean(exclude=["password"])
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
            user.set_password(password)
            user.save()
            record_event(verb=Verb.USER_CREATED, obj=user, actor=user)
        elif not user.is_active and user.email.lower() == invitation.email:
            # Reactivation by a new invitation: proven by the link sent to their address.
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
            user.set_password(password)
            user.is_active = True
            user.language = invitation.language
            user.save(update_fields=["password", "is_active", "language"])
            record_event(verb=Verb.USER_REACTIVATED, obj=user, actor=user)
        elif user.is_active and user.check_password(password):
            # An existing person takes on one more role, in the language they accepted it in.
            user.language = invitation.language
            user.save(update_fields=["language"])
        else:
            raise ValidationError({"username": [_("This username is taken.")]})
        if user.pk == invitation.invited_by_id:
            raise PermissionDenied(_("Nobody can grant a role to themselves."))
        role_grant(
            user=user, role=invitation.role,
            tenant_code=invitation.tenant.code if invitation.tenant else None,
            actor=invitation.invited_by,
        )  # fmt: skip
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record_event(
            verb=Verb.INVITATION_ACCEPTED, obj=invitation, tenant=invitation.tenant, actor=user,
            changes={"role": invitation.role, "username": user.get_username()},
        )  # fmt: skip
    forget(user)
    return user


# --- Members ----------------------------------------------------------------------------------


def may_manage_member(actor: Any, user: Any) -> bool:
    """A platform admin manages anyone but themselves; a country admin manages people who
    hold roles only in countries they administer."""
    if actor is None or user.pk == actor.pk:
        return False
    access = access_for(actor)
    if access.has_programme_role(Role.PLATFORM_ADMIN):
        return True
    administered = {
        tid for tid, roles in access.tenant_roles.items() if Role.COUNTRY_ADMIN in roles
    }
    if not administered:
        return False
    if ProgrammeRole.objects.filter(user=user, ended_at=None).exists():
        return False
    tenants = set(
        Membership.objects.filter(user=user, ended_at=None).values_list("tenant_id", flat=True)
    )
    return bool(tenants) and tenants <= administered


def _revoke_tokens(user: Any) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def member_deactivate(*, user: Any, actor: Any) -> Any:
    """Deactivate: sessions and API tokens stop working at once, every role ends with
    today's date, nothing is deleted (past actions keep their name). Raises PermissionDenied
    unless ``may_manage_member``."""
    if not may_manage_member(actor, user):
        raise PermissionDenied(_("You may not deactivate this person."))
    User = get_user_model()
    now = timezone.now()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            return locked
        ended = [
            f"{role}@{code}"
            for role, code in Membership.objects.filter(user=locked, ended_at=None).values_list(
                "role", "tenant__code"
            )
        ] + list(
            ProgrammeRole.objects.filter(user=locked, ended_at=None).values_list("role", flat=True)
        )
        Membership.objects.filter(user=locked, ended_at=None).update(ended_at=now)
        ProgrammeRole.objects.filter(user=locked, ended_at=None).update(ended_at=now)
        locked.is_active = False
        locked.is_staff = locked.is_superuser = False
        locked.session_epoch = F("session_epoch") + 1
        locked.save(update_fields=["is_active", "is_staff", "is_superuser", "session_epoch"])
        tokens = _revoke_tokens(locked)
        record_event(
            verb=Verb.USER_DEACTIVATED, obj=locked, actor=actor,
            changes={"roles_ended": ended, "tokens_revoked": tokens},
        )  # fmt: skip
    locked.refresh_from_db()
    forget(locked)
    return locked


# --- Sessions and tokens ----------------------------------------------------------------------


def token_issue(*, user: Any, client: str, otp_verified: bool) -> tuple[ApiToken, str]:
    """A new API token for one client; returns the row and the secret (shown once).

    The user's expired tokens are deleted here (knox did it on every request; the portal's
    TokenAuthentication does not, portal.api.authentication)."""
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
        instance, token = ApiToken.objects.create(
            user=user, client=client[:100], otp_verified=otp_verified
        )
        record_event(
            verb=Verb.AUTH_TOKEN_CREATED, obj=user, actor=user,
            changes={"token": str(instance.public_id), "client": instance.client,
                     "expiry": instance.expiry.isoformat() if instance.expiry else None},
        )  # fmt: skip
    return instance, token


def token_revoke(*, token: ApiToken, actor: Any) -> None:
    """Revoke one of ``actor``'s own tokens."""
    if token.user_id != actor.pk:
        raise PermissionDenied(_("Not your token."))
    with transaction.atomic():
        public_id = str(token.public_id)
        token.delete()
        record_event(
            verb=Verb.AUTH_TOKEN_REVOKED, obj=actor, actor=actor, changes={"token": public_id}
        )


def sign_out_everywhere(*, user: Any) -> int:
    """Every API token revoked and every session ended (this one too); returns tokens revoked."""
    User = get_user_model()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
        tokens = _revoke_tokens(user)
        record_event(
            verb=Verb.AUTH_SIGNED_OUT_EVERYWHERE, obj=user, actor=user,
            changes={"tokens_revoked": tokens},
        )  # fmt: skip
    return tokens


def password_changed(*, user: Any, by_reset: bool) -> int:
    """After a password change or reset (Django's views save it): revoke every API token.

    Other sessions already stop verifying (the session hash covers the password); the view
    keeps the current one with ``update_session_auth_hash``.
    """
    with transaction.atomic():
        tokens = _revoke_tokens(user)
        record_event(
            verb=Verb.PASSWORD_RESET if by_reset else Verb.PASSWORD_CHANGED, obj=user,
            actor=user, changes={"tokens_revoked": tokens},
        )  # fmt: skip
    return tokens


def password_reset_requested(*, email: str, user: Any | None) -> None:
    """Record a reset request, for a known address or not (the same work either way)."""
    record_event(
        verb=Verb.PASSWORD_RESET_REQUESTED,
        object_type="accounts.user",
        object_id=user.pk if user is not None else "",
        object_label=user.get_username() if user is not None else "",
        changes={"known": user is not None, "email_sha256": hash_secret(email.strip().lower())},
        actor=None,
    )


# --- Second factor ----------------------------------------------------------------------------


def recovery_codes_issue(*, user: Any) -> list[str]:
    """Ten new single-use recovery codes (the old ones stop working); shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
        record_event(
            verb=Verb.AUTH_RECOVERY_CODES_ISSUED, obj=user, actor=user,
            changes={"count": RECOVERY_CODES},
        )  # fmt: skip
    return codes


def otp_reset(*, user: Any, actor: Any) -> str:
    """A platform admin resets a lost device: the devices and recovery codes are removed,
    sessions and tokens end, and the person is mailed a one-time enrolment link (the account
    is not left open to enrolment by anyone holding the password). Returns the link's secret.
    """
    if not access_for(actor).has_programme_role(Role.PLATFORM_ADMIN) or actor.pk == user.pk:
        raise PermissionDenied(_("Only another platform administrator can reset a device."))
    return _enrolment_link_issue(user=user, actor=actor, role=Role.PLATFORM_ADMIN)


def otp_reset_by_operator(*, user: Any) -> str:
    """The same from the shell (``manage.py reset_device``), for the first platform admin
    of a deployment, whom nobody else can reset. Attributed to the command's actor context."""
    return _enrolment_link_issue(user=user, actor=None, role="")


def _enrolment_link_issue(*, user: Any, actor: Any, role: str) -> str:
    if not user.is_active:
        raise ValidationError({"detail": [_("This person is deactivated.")]})
    token, digest = _secret()
    User = get_user_model()
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        expires = timezone.now() + dt.timedelta(days=settings.PORTAL_ENROLMENT_LINK_DAYS)
        User.objects.filter(pk=user.pk).update(
            enrolment_token_hash=digest, enrolment_expires_at=expires,
            session_epoch=F("session_epoch") + 1,
        )  # fmt: skip
        tokens = _revoke_tokens(user)
        record_event(
            verb=Verb.OTP_RESET, obj=user, actor=actor, role=role,
            changes={"tokens_revoked": tokens, "link_expires_at": expires.isoformat()},
        )  # fmt: skip
        if user.email:
            _enrolment_link_mail(user=user, token=token, expires=expires)
    return token


def _enrolment_link_mail(*, user: Any, token: str, expires: dt.datetime) -> None:
    """The enrolment link's e-mail, written in the person's language; the link opens the
    portal in that language too."""
    with translation.override(user_language(user)):
        hooks.queue_mail(
            recipients=[user.email],
            subject=_("Set up two-step sign-in again"),
            body=_(
                "Your authenticator device was reset. Sign in through this link to enrol a new "
                "one (valid until %(until)s UTC, once):\n%(link)s\n\n"
                "If you did not ask for this, tell the programme."
            )
            % {"until": f"{expires:%Y-%m-%d %H:%M}", "link": enrolment_link(token)},
        )


def enrolment_link(token: str) -> str:
    return _link(reverse("two-factor-enrol-link", kwargs={"token": token}))


def enrolment_link_user(token: str) -> Any | None:
    """The person an open enrolment link belongs to, or None."""
    if not token or len(token) > 100:
        return None
    return (
        get_user_model()
        .objects.filter(
            enrolment_token_hash=hash_secret(token),
            enrolment_expires_at__gt=timezone.now(),
            is_active=True,
        )
        .first()
    )


def enrolment_link_close(*, user: Any) -> None:
    get_user_model().objects.filter(pk=user.pk).update(
        enrolment_token_hash="", enrolment_expires_at=None
    )
