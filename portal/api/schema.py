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


# --- Fields only some roles receive --------------------------------------------------------

#: Component name -> fields present for some callers only (e.g. the internal state, which a
#: country's people never receive). Filled by ``role_dependent``.
ROLE_DEPENDENT: dict[str, set[str]] = {}


def role_dependent(*fields: str) -> Any:
    """Class decorator: these fields of the serializer's response are optional in the schema
    (drf-spectacular marks every read-only field required), so what each role receives
    validates against it."""

    def mark(serializer: type) -> type:
        name = serializer.__name__.removesuffix("Serializer")
        ROLE_DEPENDENT.setdefault(name, set()).update(fields)
        return serializer

    return mark


def optional_role_dependent_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: apply ``ROLE_DEPENDENT`` to the components."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, fields in ROLE_DEPENDENT.items():
        for component in (name, f"Patched{name}"):
            schema = schemas.get(component)
            if schema and "required" in schema:
                schema["required"] = [f for f in schema["required"] if f not in fields]
                if not schema["required"]:
                    del schema["required"]
                for field in fields & set(schema.get("properties", {})):
                    schema["properties"][field].setdefault(
                        "description", "Present for programme staff only."
                    )
    return result
