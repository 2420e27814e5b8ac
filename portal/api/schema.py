"""OpenAPI descriptions of the portal's authentication classes (drf-spectacular matches
authenticators by exact class, and ours subclass DRF's to attribute audit events)."""

from drf_spectacular.authentication import SessionScheme, TokenScheme


class PortalSessionScheme(SessionScheme):
    target_class = "portal.api.authentication.SessionAuthentication"


class PortalTokenScheme(TokenScheme):
    target_class = "portal.api.authentication.TokenAuthentication"
