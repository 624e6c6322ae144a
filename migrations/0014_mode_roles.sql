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
-- A mode now needs its role and its setting both (`db/scopes.ts` names the role of each scope): the four
-- read policies that ORed the bootstrap setting into a tenant's or a user's condition are split in two,
-- the tenant/user part for everyone, the bootstrap part for signet_bootstrap alone. The mode roles are
-- members of signet_app, so they hold its table privileges, present and future; none can log in, none
-- bypasses row-level security. Roles are cluster-wide, hence the guards.
--
-- Upgrading a running deployment: a Worker older than this migration runs every mode as signet_app, so
-- once it is applied that Worker's sign-ins, API-key exchanges, public reads and maintenance find
-- nothing; a newer Worker against an older database fails its mode sessions (the role does not exist).
-- Apply it and deploy the Worker together (docs/deploy.md).
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
--> statement-breakpoint
ALTER POLICY organizations_read ON organizations USING (
  id = (SELECT nullif(current_setting('app.organization_id', true), '')::uuid)
  OR id IN (SELECT organization_id FROM memberships
            WHERE user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid))
);
--> statement-breakpoint
CREATE POLICY organizations_bootstrap_read ON organizations FOR SELECT TO signet_bootstrap
  USING ((SELECT coalesce(nullif(current_setting('app.bootstrap', true), '') = 'on', false)));
--> statement-breakpoint
ALTER POLICY memberships_read ON memberships USING (
  organization_id = (SELECT nullif(current_setting('app.organization_id', true), '')::uuid)
  OR user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)
);
--> statement-breakpoint
CREATE POLICY memberships_bootstrap_read ON memberships FOR SELECT TO signet_bootstrap
  USING ((SELECT coalesce(nullif(current_setting('app.bootstrap', true), '') = 'on', false)));
--> statement-breakpoint
ALTER POLICY users_read ON users USING (
  id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)
  OR id IN (SELECT user_id FROM memberships)
);
--> statement-breakpoint
CREATE POLICY users_bootstrap_read ON users FOR SELECT TO signet_bootstrap
  USING ((SELECT coalesce(nullif(current_setting('app.bootstrap', true), '') = 'on', false)));
--> statement-breakpoint
ALTER POLICY organization_deletions_read ON organization_deletions USING (
  organization_id = (SELECT nullif(current_setting('app.organization_id', true), '')::uuid)
  OR initiated_by = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)
);
--> statement-breakpoint
CREATE POLICY organization_deletions_bootstrap_read ON organization_deletions FOR SELECT TO signet_bootstrap
  USING ((SELECT coalesce(nullif(current_setting('app.bootstrap', true), '') = 'on', false)));
