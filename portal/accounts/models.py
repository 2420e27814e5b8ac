from __future__ import annotations

import uuid
from typing import Any, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language_info
from knox.models import AbstractAuthToken

from portal.tenancy.access import access_for
from portal.tenancy.models import Membership
from portal.tenancy.querysets import Action, RestrictedQuerySet
from portal.tenancy.roles import Role


class MemberQuerySet(RestrictedQuerySet):
    """People as members (``/people/``): a platform admin sees everyone; a country admin the
    people who hold or held a role in a country they administer."""

    def restrict(self, user: Any, action: Action = "view") -> Self:
        access = access_for(user)
        if access.has_programme_role(Role.PLATFORM_ADMIN):
            return self.all()
        tenant_ids = [
            tid for tid, roles in access.tenant_roles.items() if Role.COUNTRY_ADMIN in roles
        ]
        if not tenant_ids:
            return self.none()
        return self.filter(
            pk__in=models.Subquery(
                Membership.objects.filter(tenant_id__in=tenant_ids).values("user_id")
            )
        )


class PortalUserManager(UserManager.from_queryset(MemberQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):  # type: ignore[django-manager-missing]  # knox's auth_token_set
    """A person. Never deleted, only deactivated: the audit history keeps pointing at them.

    To honour an erasure request, ``pseudonymize`` blanks the personal fields; audit events
    keep the username as it was when they were written (docs/audit.md).
    """

    # Raised by "sign out everywhere" and deactivation: every session signed with the old
    # value stops verifying (Django checks the session auth hash on each request).
    session_epoch = models.PositiveIntegerField(default=0)
    # A platform admin's "reset device" leaves a one-time enrolment link (hash only).
    enrolment_token_hash = models.CharField(max_length=64, blank=True, default="")
    enrolment_expires_at = models.DateTimeField(null=True, blank=True)
    # The language the portal writes to them in (e-mails): a code of settings.LANGUAGES, set
    # from their invitation and whenever they switch language while signed in.
    language = models.CharField(max_length=8, default="en")

    objects = PortalUserManager()  # type: ignore[misc]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise models.ProtectedError("Users are deactivated, never deleted.", {self})

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's own hash covers the password only; the epoch ends sessions without one.
        key_salt = "portal.accounts.User.session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()

    def pseudonymize(self) -> None:
        self.first_name = ""
        self.last_name = ""
        self.email = ""
        self.is_active = False
        self.set_unusable_password()
        self.save(update_fields=["first_name", "last_name", "email", "is_active", "password"])


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox): only its SHA-512 digest is stored, it expires
    (PORTAL_TOKEN_TTL_HOURS), and each client gets its own, so one can be revoked alone."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.CharField(max_length=100, blank=True, default="")
    # Issued after a one-time code: when a second factor becomes required for its owner, a
    # token without this stops working until they verify and take a new one.
    otp_verified = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        # Never the digest or key: this string reaches logs and the admin.
        return f"{self.user} {self.client or 'token'} {self.public_id}"


class InvitationQuerySet(RestrictedQuerySet):
    """Platform admins see every invitation; a country admin those of their countries."""

    def restrict(self, user: Any, action: Action = "view") -> Self:
        access = access_for(user)
        if access.has_programme_role(Role.PLATFORM_ADMIN):
            return self.all()
        tenant_ids = [
            tid for tid, roles in access.tenant_roles.items() if Role.COUNTRY_ADMIN in roles
        ]
        return self.filter(tenant_id__in=tenant_ids) if tenant_ids else self.none()


class Invitation(models.Model):
    """An invitation to hold one role (in one country, for country roles).

    The link carries a random secret; only its SHA-256 is stored. Single use, expiring
    (PORTAL_INVITATION_DAYS), revocable; accepting it creates (or reactivates) the account.
    """

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    tenant = models.ForeignKey(
        "tenancy.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invitations_sent"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitations_accepted",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    #: The language the e-mail is written in and the link opens in (a code of LANGUAGES);
    #: chosen by the inviter, who knows the invitee, defaulting to the inviter's own.
    language = models.CharField(max_length=8, default="en")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        where = f"@{self.tenant.code}" if self.tenant_id and self.tenant else ""
        return f"{self.email} {self.role}{where}"

    @property
    def language_name(self) -> str:
        """The invitation's language, named in that language (``日本語``)."""
        return str(get_language_info(self.language)["name_local"])

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
