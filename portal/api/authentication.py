"""DRF authentication that also names the user in the actor context (for audit events).

Tokens are django-rest-knox's (portal.accounts.models.ApiToken: hashed, expiring, one per
client). A token issued without a one-time code stops working once its owner's roles
require a second factor, until they verify and take a new one.
"""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import authentication, exceptions

from portal import context
from portal.accounts.token_lookup import tokens_by_key
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
    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        """knox's, with one change: the tokens come from ``tokens_by_key``, one prepared
        statement that also reads the owner and the owner's roles, so a token request
        makes one query where knox's query and the roles took two round trips and two
        plans (#16, bench/README.md). knox's loop is restated because it builds its query
        inline; the rest is knox's (``_cleanup_token``, ``validate_user``). Raises
        AuthenticationFailed for an unknown, expired or malformed token."""
        message = _("Invalid token.")
        try:
            secret = token.decode("utf-8")
        except UnicodeDecodeError as error:  # knox lets this through as a 500
            raise exceptions.AuthenticationFailed(message) from error
        for auth_token in tokens_by_key(token_key=secret[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(secret)
            except (TypeError, binascii.Error) as error:
                raise exceptions.AuthenticationFailed(message) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)

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
