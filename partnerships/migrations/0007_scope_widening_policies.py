"""Policies that honour the programme-wide scope only through ``portal_scope_wide()``.

Tenancy 0005 explains who may widen the scope (the worker role always; the web role only
with a valid claim of a programme user). Each policy calls it as an uncorrelated
``(SELECT portal_scope_wide())``: an InitPlan, evaluated once per query, not once per row.
"""

from django.db import migrations

WIDE = "(SELECT portal_scope_wide())"
OLD_WIDE = "coalesce(current_setting('portal.tenant_scope', true), '') = 'all'"

TENANT_TABLES = [
    "partnerships_countryapplication",
    "partnerships_partnership",
    "partnerships_obligation",
    "partnerships_coinvestmentcommitment",
    "partnerships_referencecounter",
]
CHILD_TABLES = [
    ("partnerships_site", "application_id", "partnerships_countryapplication"),
    ("partnerships_attachment", "application_id", "partnerships_countryapplication"),
    ("partnerships_decision", "application_id", "partnerships_countryapplication"),
    ("partnerships_informationreply", "application_id", "partnerships_countryapplication"),
    ("partnerships_tranche", "commitment_id", "partnerships_coinvestmentcommitment"),
]
OWN_WRITE = "written_by_xact = pg_current_xact_id()"


def policy(table: str, condition: str) -> str:
    return (
        f"DROP POLICY IF EXISTS tenant_scope ON {table}; "
        f"CREATE POLICY tenant_scope ON {table} USING ({condition}) WITH CHECK ({condition});"
    )


def statements(forward: bool) -> str:
    sql = []
    for table in TENANT_TABLES:
        condition = (
            f"{WIDE} OR portal_tenant_listed(tenant_id)"
            if forward
            else "portal_tenant_visible(tenant_id)"
        )
        sql.append(policy(table, condition))
    for table, column, parent in CHILD_TABLES:
        wide = WIDE if forward else OLD_WIDE
        sql.append(
            policy(
                table,
                f"{wide} OR EXISTS (SELECT 1 FROM {parent} parent WHERE parent.id = {column})",
            )
        )
    wide = WIDE if forward else OLD_WIDE
    sql.append(
        f"""
DROP POLICY IF EXISTS outbox_read ON partnerships_outboxemail;
DROP POLICY IF EXISTS outbox_update ON partnerships_outboxemail;
DROP POLICY IF EXISTS outbox_delete ON partnerships_outboxemail;
CREATE POLICY outbox_read ON partnerships_outboxemail FOR SELECT USING ({wide} OR {OWN_WRITE});
CREATE POLICY outbox_update ON partnerships_outboxemail FOR UPDATE USING ({wide}) WITH CHECK ({wide});
CREATE POLICY outbox_delete ON partnerships_outboxemail FOR DELETE USING ({wide});
"""
    )
    return "\n".join(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0006_outbox_row_level_security"),
        ("tenancy", "0005_scope_widening"),
    ]
    operations = [migrations.RunSQL(statements(True), statements(False))]
