from typing import Any

from portal.tenancy.management.commands._rolecommand import RoleCommand
from portal.tenancy.services import role_grant


class Command(RoleCommand):
    help = "Give USERNAME the ROLE (country roles need --tenant CC); audited."
    allow_create = True

    def change(self, *, user: Any, role: str, tenant_code: str | None) -> bool:
        return role_grant(user=user, role=role, tenant_code=tenant_code)
