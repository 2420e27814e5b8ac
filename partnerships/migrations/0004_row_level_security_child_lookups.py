"""Child-table policies that look up their own parent row instead of the visible set.

0003 wrote ``application_id IN (SELECT id FROM partnerships_countryapplication)``, which the
planner answered by hashing every visible application (≈100 ms per query at 100,000
applications, bench/results). A correlated EXISTS is one index probe per child row, and the
programme-wide scope ('all') skips even that.
"""

from collections.abc import Callable

from django.db import migrations

CHILD_TABLES = [
    ("partnerships_site", "application_id", "partnerships_countryapplication"),
    ("partnerships_attachment", "application_id", "partnerships_countryapplication"),
    ("partnerships_decision", "application_id", "partnerships_countryapplication"),
    ("partnerships_tranche", "commitment_id", "partnerships_coinvestmentcommitment"),
]


def condition(column: str, parent: str) -> str:
    return (
        "(coalesce(current_setting('portal.tenant_scope', true), '') = 'all' "
        f"OR EXISTS (SELECT 1 FROM {parent} parent WHERE parent.id = {column}))"
    )


def policies(make: Callable[[str, str], str]) -> str:
    return "\n".join(
        f"DROP POLICY IF EXISTS tenant_scope ON {table}; "
        f"CREATE POLICY tenant_scope ON {table} USING ({make(column, parent)}) WITH CHECK ({make(column, parent)});"
        for table, column, parent in CHILD_TABLES
    )


def old_condition(column: str, parent: str) -> str:
    return f"{column} IN (SELECT id FROM {parent})"


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0003_row_level_security")]
    operations = [migrations.RunSQL(policies(condition), policies(old_condition))]
