"""The predicate every tenant table's Row-Level Security policy uses (see portal.tenancy.rls)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION portal_tenant_visible(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('portal.tenant_scope', true), '')
        WHEN 'all' THEN true
        WHEN '' THEN false
        ELSE tenant = ANY (string_to_array(current_setting('portal.tenant_scope', true), ',')::bigint[])
    END
$$;
"""
BACKWARD = "DROP FUNCTION IF EXISTS portal_tenant_visible(bigint);"


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
