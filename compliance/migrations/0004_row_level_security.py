"""Screening results are visible exactly when their application is (portal.tenancy.rls)."""

from django.db import migrations

CONDITION = "application_id IN (SELECT id FROM partnerships_countryapplication)"


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_list_version_rescreen_started"),
        ("partnerships", "0003_row_level_security"),
    ]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE compliance_screeningresult ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY tenant_scope ON compliance_screeningresult USING ({CONDITION}) WITH CHECK ({CONDITION});",
            "DROP POLICY IF EXISTS tenant_scope ON compliance_screeningresult;"
            "ALTER TABLE compliance_screeningresult DISABLE ROW LEVEL SECURITY;",
        )
    ]
