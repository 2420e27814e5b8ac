from typing import Any

from django.http import HttpRequest

from portal.tenancy.access import access_for


def portal(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    access = access_for(user)
    return {
        "portal_access": access,
        "portal_roles": sorted(
            set(access.programme_roles) | {r for rs in access.tenant_roles.values() for r in rs}
        ),
    }
