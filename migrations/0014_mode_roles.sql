-- Each narrow mode of the session gets a role of its own, and its policies apply to that role only:
-- public reads (signet_public), the system actor's bootstrap actions (signet_bootstrap), scheduled
-- maintenance (signet_maintenance). A tenant session (signet_app) then plans its tenant policies alone.
--
-- Why: row-level security ORs the permissive policies of a command. With `documents_public` beside
-- `documents_tenant`, a tenant's documents list carried `organization_id = $org OR (visibility = 'public'
-- AND $public_read)` as a filter whose selectivity the planner cannot know, estimated a handful of the
-- organization's rows passing it, and so read all of them and sorted (a bitmap heap scan, ~7 ms for
-- 1,000 documents, growing with the organization) instead of an index scan of one page. With the tenant
-- policy alone, `organization_id = $org` joins the query's own `organization_id = …` and the page is an
-- index scan of `limit + 1` entries behind a one-time check (`test/tooling/rls-plans.test.ts`). The same
-- held for the audit list (beside the maintenance policies) and the revocation refresh.
--
-- A mode now needs its role and its setting both (`db/scopes.ts` names the role of each scope). The mode
-- roles are members of signet_app, so they hold its table privileges, present and future; none can log
-- in, none bypasses row-level security. Roles are cluster-wide, hence the guards.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signet_public') THEN
    CREATE ROLE signet_public NOLOGIN NOSUPERUSER NOBYPASSRLS INHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signet_bootstrap') THEN
    CREATE ROLE signet_bootstrap NOLOGIN NOSUPERUSER NOBYPASSRLS INHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signet_maintenance') THEN
    CREATE ROLE signet_maintenance NOLOGIN NOSUPERUSER NOBYPASSRLS INHERIT;
  END IF;
END
$$;
--> statement-breakpoint
GRANT signet_app TO signet_public, signet_bootstrap, signet_maintenance;
--> statement-breakpoint
GRANT signet_public, signet_bootstrap, signet_maintenance TO CURRENT_USER;
--> statement-breakpoint
ALTER POLICY documents_public ON documents TO signet_public;
--> statement-breakpoint
ALTER POLICY api_keys_exchange ON api_keys TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY api_keys_exchange_lock ON api_keys TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY memberships_exchange_lock ON memberships TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY organizations_create ON organizations TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY revocations_exchange ON revocations TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY user_identities_exchange ON user_identities TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY users_create ON users TO signet_bootstrap;
--> statement-breakpoint
ALTER POLICY audit_events_maintenance_read ON audit_events TO signet_maintenance;
--> statement-breakpoint
ALTER POLICY audit_events_maintenance_delete ON audit_events TO signet_maintenance;
--> statement-breakpoint
ALTER POLICY audit_events_maintenance_record ON audit_events TO signet_maintenance;
--> statement-breakpoint
ALTER POLICY jobs_maintenance_read ON jobs TO signet_maintenance;
--> statement-breakpoint
ALTER POLICY jobs_maintenance_change ON jobs TO signet_maintenance;
--> statement-breakpoint
ALTER POLICY revocations_maintenance_read ON revocations TO signet_maintenance;
--> statement-breakpoint
ALTER POLICY revocations_maintenance_delete ON revocations TO signet_maintenance;
