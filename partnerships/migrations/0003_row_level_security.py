"""Row-Level Security on every table that holds a country's data (see portal.tenancy.rls).

Tables with a tenant column check it directly; their children (sites, files, decisions,
tranches) are visible exactly when their parent is, through the parent's own policy.
"""

from django.db import migrations

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
    ("partnerships_tranche", "commitment_id", "partnerships_coinvestmentcommitment"),
]


def forward() -> str:
    sql = []
    for table in TENANT_TABLES:
        sql.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        sql.append(
            f"CREATE POLICY tenant_scope ON {table} USING (portal_tenant_visible(tenant_id)) "
            f"WITH CHECK (portal_tenant_visible(tenant_id));"
        )
    for table, column, parent in CHILD_TABLES:
        sql.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        condition = f"{column} IN (SELECT id FROM {parent})"
        sql.append(
            f"CREATE POLICY tenant_scope ON {table} USING ({condition}) WITH CHECK ({condition});"
        )
    return "\n".join(sql)


def backward() -> str:
    tables = TENANT_TABLES + [t for t, _, _ in CHILD_TABLES]
    return "\n".join(
        f"DROP POLICY IF EXISTS tenant_scope ON {t}; ALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
        for t in tables
    )


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0002_commitments_tranche_sum_trigger"),
        ("tenancy", "0002_row_level_security_function"),
    ]
    operations = [migrations.RunSQL(forward(), backward())]
