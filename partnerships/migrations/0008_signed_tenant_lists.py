"""Tenant tables: a listed tenant only through ``portal_scope_ids()`` (tenancy 0006).

The list scope is honoured only as tenancy 0006's ``portal_scope_ids()`` returns it (the worker
role's always; the web role's with the user's claim for exactly that list). The policies
call it as an uncorrelated ``(SELECT portal_scope_ids())`` written into the policy itself: an
InitPlan, evaluated once per query. (Through ``portal_tenant_listed(tenant_id)`` it would run
once per row: PostgreSQL does not inline a SQL function whose body holds a sub-select.)
The child tables' policies look their parent up, so they follow it unchanged.
"""

from django.db import migrations

TENANT_TABLES = [
    "partnerships_countryapplication",
    "partnerships_partnership",
    "partnerships_obligation",
    "partnerships_coinvestmentcommitment",
    "partnerships_referencecounter",
]
WIDE = "(SELECT portal_scope_wide())"
NEW = f"{WIDE} OR tenant_id = ANY (coalesce((SELECT portal_scope_ids()), '{{}}'))"
OLD = f"{WIDE} OR portal_tenant_listed(tenant_id)"


def statements(condition: str) -> str:
    return "\n".join(
        f"DROP POLICY IF EXISTS tenant_scope ON {table}; "
        f"CREATE POLICY tenant_scope ON {table} USING ({condition}) WITH CHECK ({condition});"
        for table in TENANT_TABLES
    )


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0007_scope_widening_policies"),
        ("tenancy", "0006_signed_tenant_lists"),
    ]
    operations = [migrations.RunSQL(statements(NEW), statements(OLD))]
