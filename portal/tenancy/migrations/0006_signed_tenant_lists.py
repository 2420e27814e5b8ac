"""The web role's list scope is signed too (docs/rls.md, "Scope widening").

Tenancy 0005 signed the programme-wide scope only: an injection in a country user's request
could still set ``portal.tenant_scope = '1,2,3'`` and read those countries' rows. Now the
claim is bound to the scope string: ``portal.claim = "<user id>:<mac>"``, ``mac`` the hex
HMAC-SHA256 of ``"<backend pid>:<user id>:<scope>"`` under the claim key
(``portal.tenancy.rls.claim_for``), for every non-empty scope the web process sets.

- ``portal_private.claimed_user(scope)``: the claim's user id when its HMAC verifies for
  exactly ``scope`` on this backend, else NULL (callable by the SECURITY DEFINER functions
  only: the schema is the owner's).
- ``portal_scope_ids()`` (SECURITY DEFINER): the tenant ids of a list scope, or NULL. The
  worker role's list is always honoured; any other login role's (the web role's) only with
  a claim for that list.
- ``portal_scope_wide()``: as before (the worker role always; the web role with the claim of
  an active user holding a programme role), the HMAC now over ``"<pid>:<user id>:all"``.
- ``portal_tenant_listed(tenant)``: the same rule for one tenant, for any caller. The tenant
  tables' policies (partnerships 0008) call ``(SELECT portal_scope_ids())`` themselves, an
  InitPlan evaluated once per query: PostgreSQL does not inline a SQL function holding a
  sub-select, so through ``portal_tenant_listed`` it would run once per row.

The checks are PL/pgSQL, whose statements' plans a session keeps, where a SQL function's are
planned again in every query that calls it (a query on a tenant table: about 140-200 µs
instead of about 320 µs with 0005's SQL function, tests' database, shared machine).
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
_SCOPE = "coalesce(current_setting('portal.tenant_scope', true), '')"
_WORKER = "portal_private.is_worker()"

FORWARD = f"""
CREATE OR REPLACE FUNCTION portal_private.claimed_user(scope text) RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claim text := coalesce(current_setting('portal.claim', true), '');
    user_id text := split_part(claim, ':', 1);
    config portal_private.rls_config;
BEGIN
    IF user_id !~ '^[0-9]{{1,18}}$' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO config FROM portal_private.rls_config;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF split_part(claim, ':', 2) = encode(sha256(config.claim_outer || sha256(
        config.claim_inner || convert_to(pg_backend_pid()::text || ':' || user_id || ':' || scope, 'UTF8')
    )), 'hex') THEN
        RETURN user_id::bigint;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION portal_private.claimed_user(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION portal_private.is_worker() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM portal_private.rls_config config WHERE session_user = ANY (config.worker_roles)
    )
$$;
REVOKE ALL ON FUNCTION portal_private.is_worker() FROM PUBLIC;

CREATE OR REPLACE FUNCTION portal_scope_ids() RETURNS bigint[]
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    scope text := {_SCOPE};
BEGIN
    IF scope !~ '^[0-9]{{1,18}}(,[0-9]{{1,18}})*$' THEN
        RETURN NULL;
    END IF;
    IF {_WORKER} THEN
        RETURN string_to_array(scope, ',')::bigint[];
    END IF;
    IF portal_private.claimed_user(scope) IS NOT NULL THEN
        RETURN string_to_array(scope, ',')::bigint[];
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION portal_scope_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION portal_scope_ids() TO PUBLIC;

CREATE OR REPLACE FUNCTION portal_scope_wide() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claimed bigint;
BEGIN
    IF {_SCOPE} <> 'all' THEN
        RETURN false;
    END IF;
    IF {_WORKER} THEN
        RETURN true;
    END IF;
    claimed := portal_private.claimed_user('all');
    RETURN claimed IS NOT NULL AND EXISTS (
        SELECT 1
        FROM public.accounts_user person
        JOIN public.tenancy_programmerole programme_role ON programme_role.user_id = person.id
        WHERE person.id = claimed
          AND person.is_active
          AND programme_role.ended_at IS NULL
          AND programme_role.role IN ({_ROLES})
    );
END
$$;

-- A tenant listed in a scope the database honours (a country's people). Not inlinable (it
-- holds a sub-select): the policies call portal_scope_ids() themselves (partnerships 0008).
CREATE OR REPLACE FUNCTION portal_tenant_listed(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT tenant = ANY (coalesce((SELECT portal_scope_ids()), '{{}}'))
$$;
"""

# Tenancy 0005's definitions.
BACKWARD = f"""
CREATE OR REPLACE FUNCTION portal_tenant_listed(tenant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('portal.tenant_scope', true), '')
        WHEN 'all' THEN false
        WHEN '' THEN false
        ELSE tenant = ANY (string_to_array(current_setting('portal.tenant_scope', true), ',')::bigint[])
    END
$$;
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
DROP FUNCTION IF EXISTS portal_scope_ids();
DROP FUNCTION IF EXISTS portal_private.claimed_user(text);
DROP FUNCTION IF EXISTS portal_private.is_worker();
"""


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0005_scope_widening")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
