"""Who may widen the scope to the whole programme (docs/rls.md, "Scope widening").

``portal.tenant_scope = 'all'`` is honoured only by ``portal_scope_wide()``:

- always for a worker login role (Celery, beat, ``manage.py``), named in
  ``portal_private.rls_config.worker_roles``;
- for any other login role (the web role) only when ``portal.claim`` carries a user id and an
  HMAC-SHA256 of ``"<backend pid>:<user id>"`` under the claim key, and that user is active
  and holds a programme role (what ``portal.tenancy.rls.scope_for`` answers ``all`` for).

The key and the worker roles live in a schema only the owner can read; the owner writes them
after each migrate (``portal.ops.owner.register_scope_roles``). The function is SECURITY
DEFINER so it can read them; policies call it as an uncorrelated ``(SELECT
portal_scope_wide())``, an InitPlan evaluated once per query, not per row.

``portal_tenant_visible`` keeps its name for anything still calling it, with the same rule.
"""

from django.db import migrations

# portal.tenancy.roles.PROGRAMME_ROLES; tests/portal/test_scope_widening.py holds them equal.
PROGRAMME_ROLES = (
    "reviewer",
    "security_reviewer",
    "compliance_officer",
    "us_coordinator",
    "approver",
    "auditor",
    "platform_admin",
)
_ROLES = ", ".join(f"'{role}'" for role in PROGRAMME_ROLES)

FORWARD = f"""
CREATE SCHEMA IF NOT EXISTS portal_private;
REVOKE ALL ON SCHEMA portal_private FROM PUBLIC;
CREATE TABLE portal_private.rls_config (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    worker_roles text[] NOT NULL DEFAULT '{{}}',
    claim_inner bytea NOT NULL,
    claim_outer bytea NOT NULL
);
REVOKE ALL ON portal_private.rls_config FROM PUBLIC;

CREATE OR REPLACE FUNCTION portal_scope_wide() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH claim AS (
        SELECT split_part(coalesce(current_setting('portal.claim', true), ''), ':', 1) AS user_id,
               split_part(coalesce(current_setting('portal.claim', true), ''), ':', 2) AS mac
    )
    SELECT coalesce(current_setting('portal.tenant_scope', true), '') = 'all'
       AND EXISTS (
           SELECT 1 FROM portal_private.rls_config config, claim
           WHERE session_user = ANY (config.worker_roles)
              OR (
                  claim.user_id ~ '^[0-9]{{1,18}}$'
                  AND claim.mac = encode(sha256(config.claim_outer || sha256(
                      config.claim_inner
                      || convert_to(pg_backend_pid()::text || ':' || claim.user_id, 'UTF8')
                  )), 'hex')
                  AND EXISTS (
                      SELECT 1
                      FROM public.accounts_user person
                      JOIN public.tenancy_programmerole programme_role
                        ON programme_role.user_id = person.id
                      WHERE person.id = (CASE WHEN claim.user_id ~ '^[0-9]{{1,18}}$'
                                              THEN claim.user_id END)::bigint
                        AND person.is_active
                        AND programme_role.ended_at IS NULL
                        AND programme_role.role IN ({_ROLES})
                  )
              )
       )
$$;
REVOKE ALL ON FUNCTION portal_scope_wide() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION portal_scope_wide() TO PUBLIC;

-- A tenant listed in the scope (a country's people). Inlined into the policies.
CREATE OR REPLACE FUNCTION portal_tenant_listed(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('portal.tenant_scope', true), '')
        WHEN 'all' THEN false
        WHEN '' THEN false
        ELSE tenant = ANY (string_to_array(current_setting('portal.tenant_scope', true), ',')::bigint[])
    END
$$;

CREATE OR REPLACE FUNCTION portal_tenant_visible(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (SELECT portal_scope_wide()) OR portal_tenant_listed(tenant)
$$;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION portal_tenant_visible(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('portal.tenant_scope', true), '')
        WHEN 'all' THEN true
        WHEN '' THEN false
        ELSE tenant = ANY (string_to_array(current_setting('portal.tenant_scope', true), ',')::bigint[])
    END
$$;
DROP FUNCTION IF EXISTS portal_tenant_listed(bigint);
DROP FUNCTION IF EXISTS portal_scope_wide();
DROP SCHEMA IF EXISTS portal_private CASCADE;
"""


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0004_roles_end_with_a_date")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
