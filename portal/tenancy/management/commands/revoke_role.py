from typing import Any

from portal.tenancy.management.commands._rolecommand import RoleCommand
from portal.tenancy.services import role_revoke


class Command(RoleCommand):
    help = "Take ROLE from USERNAME (country roles need --tenant CC); audited."

    def change(self, *, user: Any, role: str, tenant_code: str | None) -> bool:
        return role_revoke(user=user, role=role, tenant_code=tenant_code)
