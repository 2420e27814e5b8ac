"""DRF authentication that also names the user in the actor context (for audit events)."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication

from portal import context


class _Attribute:
    def authenticate(self, request: Any) -> Any:
        result = super().authenticate(request)  # type: ignore[misc]
        if result is not None:
            context.update(user=result[0])
        return result


class SessionAuthentication(_Attribute, authentication.SessionAuthentication):
    pass


class TokenAuthentication(_Attribute, authentication.TokenAuthentication):
    pass
