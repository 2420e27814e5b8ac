"""Screening results: the programme-wide scope only through ``portal_scope_wide()``
(tenancy 0005, partnerships 0007)."""

from django.db import migrations

PARENT = "EXISTS (SELECT 1 FROM partnerships_countryapplication parent WHERE parent.id = application_id)"
NEW = f"(SELECT portal_scope_wide()) OR {PARENT}"
OLD = f"coalesce(current_setting('portal.tenant_scope', true), '') = 'all' OR {PARENT}"


def policy(condition: str) -> str:
    return (
        "DROP POLICY IF EXISTS tenant_scope ON compliance_screeningresult; "
        f"CREATE POLICY tenant_scope ON compliance_screeningresult USING ({condition}) WITH CHECK ({condition});"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0007_scrub_paths_from_legacy_list_sources"),
        ("partnerships", "0007_scope_widening_policies"),
    ]
    operations = [migrations.RunSQL(policy(NEW), policy(OLD))]
