-- Row-level security on every Sales table that holds a tenant's rows: requests run as the role
-- erp_tenant with app.tenant_id set (Database.inTenant), and see and write only that tenant's
-- rows; the consumer, the relay and the notification dispatcher span tenants as the tables'
-- owner, which the policies leave alone (why: src/platform/database/tenant-isolation.ts, whose
-- tenantIsolationSql this is). inbox, outbox and idempotency_keys are the kit's tables.

DO $$
BEGIN
  -- Looked up first: a role without CREATEROLE may use a role created for it beforehand.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'erp_tenant') THEN
    CREATE ROLE erp_tenant NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
  -- A non-superuser owner needs membership to SET ROLE (a superuser has it implicitly).
  IF NOT pg_has_role(current_user, 'erp_tenant', 'MEMBER') THEN
    EXECUTE format('GRANT erp_tenant TO %I', current_user);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO erp_tenant', current_schema());
  -- bigserial columns: the role inserts rows that draw from their sequences.
  EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO erp_tenant', current_schema());
  FOREACH t IN ARRAY ARRAY['products', 'demand_history', 'orders', 'order_lines', 'alerts',
    'alert_history', 'forecasts', 'notifications', 'inbox', 'outbox', 'idempotency_keys']::text[]
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I TO erp_tenant'
      ' USING (tenant_id = current_setting(''app.tenant_id'', true))'
      ' WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO erp_tenant', t);
  END LOOP;
END $$;
