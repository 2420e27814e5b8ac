"""DRF authentication that also names the user in the actor context (for audit events).

Tokens are django-rest-knox's (portal.accounts.models.ApiToken: hashed, expiring, one per
client). A token issued without a one-time code stops working once its owner's roles
require a second factor, until they verify and take a new one.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
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
    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        if not token.otp_verified and requires_second_factor(user):
            raise exceptions.AuthenticationFailed(
                _("This token was issued without a one-time code; verify and take a new one.")
            )
        return user, token
