"""OpenAPI descriptions of the portal's authentication classes (drf-spectacular matches
authenticators by exact class, and ours subclass DRF's and knox's to attribute audit events)."""

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class PortalSessionScheme(SessionScheme):
    target_class = "portal.api.authentication.SessionAuthentication"


class PortalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 - the header's keyword, not a secret
        )
