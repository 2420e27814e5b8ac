"""DRF authentication that also names the user in the actor context (for audit events).

Tokens are django-rest-knox's (portal.accounts.models.ApiToken: hashed, expiring, one per
client). A token issued without a one-time code stops working once its owner's roles
require a second factor, until they verify and take a new one.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.signals import token_expired
from rest_framework import authentication, exceptions

from portal import context
from portal.accounts.two_factor import requires_second_factor


class _Attribute:
    def authenticate(self, request: Any) -> Any:
        result = super().authenticate(request)  # type: ignore[misc]
        if result is not None:
            context.update(user=result[0])
        return result


class SessionAuthentication(_Attribute, authentication.SessionAuthentication):
    pass


class TokenAuthentication(_Attribute, KnoxTokenAuthentication):
    def _cleanup_token(self, auth_token: Any) -> bool:
        """Refuse (and delete) this token when it has expired, as knox does, but without
        knox's walk over the user's other tokens on every request: one query less per token
        request (#16, bench/README.md). The user's expired tokens are deleted when they take
        a new one (``portal.accounts.services.token_issue``); an expired token never
        authenticates either way."""
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=type(self), username=username, source="auth_token")
            return True
        return False

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        if not token.otp_verified and requires_second_factor(user):
            raise exceptions.AuthenticationFailed(
                _("This token was issued without a one-time code; verify and take a new one.")
            )
        return user, token
