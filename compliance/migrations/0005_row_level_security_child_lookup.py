"""Screening results: the faster parent lookup of partnerships 0004."""

from django.db import migrations

NEW = (
    "(coalesce(current_setting('portal.tenant_scope', true), '') = 'all' "
    "OR EXISTS (SELECT 1 FROM partnerships_countryapplication parent WHERE parent.id = application_id))"
)
OLD = "application_id IN (SELECT id FROM partnerships_countryapplication)"


def policy(condition: str) -> str:
    return (
        "DROP POLICY IF EXISTS tenant_scope ON compliance_screeningresult; "
        f"CREATE POLICY tenant_scope ON compliance_screeningresult USING ({condition}) WITH CHECK ({condition});"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0004_row_level_security"),
        ("partnerships", "0004_row_level_security_child_lookups"),
    ]
    operations = [migrations.RunSQL(policy(NEW), policy(OLD))]
