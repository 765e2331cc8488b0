/**
 * Row-level security: what a tenant's statements may see. Every table with a `tenant_id` column
 * gets a policy that admits a row only when its `tenant_id` equals the session's
 * `app.tenant_id`, and the policy applies to one role, TENANT_ROLE, which owns nothing.
 * `Database.inTenant` runs a request's statements as that role with `app.tenant_id` set, so a
 * query that forgets its `WHERE tenant_id = …` returns nothing of another tenant, and a row of
 * another tenant cannot be inserted (WITH CHECK).
 *
 * The cross-tenant work (the consumer's runs of many tenants' events, the outbox relay, the
 * notification dispatcher, the idempotency prune, migrations) runs as the service's own role, the
 * tables' owner, which PostgreSQL does not hold to the policies because the tables ENABLE row
 * level security without FORCE. That is the exemption, and it is a role rather than a setting:
 * - the role a request runs as has no policy that admits another tenant at all; a setting such as
 *   `app.all_tenants = on` in the policy would be one stray set_config away from every tenant;
 * - FORCE with such a setting would not hold anyway where the service connects as a superuser
 *   (superusers bypass row-level security, FORCE or not), which is where tests and local setups
 *   run, so the exemption could never be tested there;
 * - the consumer and the relay keep their statements as they are: no extra round trip.
 *
 * Roles are cluster-wide while tables are per schema (tests use one schema per test database):
 * the role is created once, idempotently, and a process that loses the race to create it
 * (duplicate_object, or unique_violation on the catalog's index) takes it as created. Where the
 * services connect as a role that may not create roles, create TENANT_ROLE and grant it to that
 * role beforehand.
 */

import type { Migration } from './migrations.ts';

/** The role request statements run as: NOLOGIN, owns nothing, bound by every tenant policy. */
export const TENANT_ROLE = 'erp_tenant';

/** The setting the policies compare `tenant_id` with. */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * SQL that creates TENANT_ROLE if needed, lets the current user switch to it, and puts `tables`
 * (of the current schema, each with a `tenant_id` column) under the tenant policy, readable and
 * writable by the role. Safe to run again on tables already under it.
 */
export function tenantIsolationSql(tables: readonly string[]): string {
  for (const table of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`invalid table name "${table}"`);
  }
  const list = tables.map((t) => `'${t}'`).join(', ');
  return `
DO $$
BEGIN
  -- Looked up first: a role without CREATEROLE may use a role created for it beforehand.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_ROLE}') THEN
    CREATE ROLE ${TENANT_ROLE} NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
  -- A non-superuser owner needs membership to SET ROLE (a superuser has it implicitly).
  IF NOT pg_has_role(current_user, '${TENANT_ROLE}', 'MEMBER') THEN
    EXECUTE format('GRANT ${TENANT_ROLE} TO %I', current_user);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${TENANT_ROLE}', current_schema());
  -- bigserial columns: the role inserts rows that draw from their sequences.
  EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO ${TENANT_ROLE}', current_schema());
  FOREACH t IN ARRAY ARRAY[${list}]::text[] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO ${TENANT_ROLE}'
      ' USING (tenant_id = current_setting(''${TENANT_SETTING}'', true))'
      ' WITH CHECK (tenant_id = current_setting(''${TENANT_SETTING}'', true))', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO ${TENANT_ROLE}', t);
  END LOOP;
END $$;
`;
}

/**
 * The migration that puts `tables` under the tenant policy. Named after the tables, so that a
 * service that adds one gets a new migration, which runs again over all of them (it is idempotent).
 */
export function tenantIsolationMigration(tables: readonly string[]): Migration {
  const sorted = [...new Set(tables)].sort();
  return { name: `platform:tenant-isolation:${sorted.join(',')}`, sql: tenantIsolationSql(sorted) };
}
