-- Tenant security: the request path never runs as the tables' owner. Every transaction of the Worker
-- starts with set_config('role', 'signet_app', true) plus the tenant settings below, so row-level
-- security applies even to a query that forgets its WHERE clause. With no tenant set, policies match
-- nothing (fail closed). Roles are cluster-wide, hence the IF NOT EXISTS guard.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signet_app') THEN
    CREATE ROLE signet_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
  END IF;
END
$$;
--> statement-breakpoint
GRANT signet_app TO CURRENT_USER;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO signet_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON organizations, users, memberships, documents, api_keys, audit_events, jobs TO signet_app;
--> statement-breakpoint
-- A session setting, NULL when unset or empty: set_config(..., true) lasts for one transaction only.
CREATE OR REPLACE FUNCTION signet_setting(name text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting(name, true), '') $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION signet_org() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT signet_setting('app.organization_id')::uuid $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION signet_user() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT signet_setting('app.user_id')::uuid $$;
--> statement-breakpoint
-- Set only by code for the system actor's bootstrap actions (SPEC §1): creating an organization with
-- its first owner, loading a user or an API key while exchanging a token.
CREATE OR REPLACE FUNCTION signet_bootstrap() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(signet_setting('app.bootstrap') = 'on', false) $$;
--> statement-breakpoint
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY organizations_read ON organizations FOR SELECT
  USING (id = signet_org() OR signet_bootstrap()
         OR id IN (SELECT organization_id FROM memberships WHERE user_id = signet_user()));
--> statement-breakpoint
CREATE POLICY organizations_create ON organizations FOR INSERT WITH CHECK (signet_bootstrap());
--> statement-breakpoint
CREATE POLICY organizations_change ON organizations FOR UPDATE USING (id = signet_org()) WITH CHECK (id = signet_org());
--> statement-breakpoint
CREATE POLICY organizations_delete ON organizations FOR DELETE USING (id = signet_org());
--> statement-breakpoint
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY users_read ON users FOR SELECT
  USING (signet_bootstrap() OR id = signet_user() OR id IN (SELECT user_id FROM memberships));
--> statement-breakpoint
CREATE POLICY users_create ON users FOR INSERT WITH CHECK (signet_bootstrap());
--> statement-breakpoint
CREATE POLICY users_change ON users FOR UPDATE USING (id = signet_user()) WITH CHECK (id = signet_user());
--> statement-breakpoint
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY memberships_read ON memberships FOR SELECT
  USING (organization_id = signet_org() OR user_id = signet_user() OR signet_bootstrap());
--> statement-breakpoint
CREATE POLICY memberships_write ON memberships FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
--> statement-breakpoint
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY documents_tenant ON documents FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
--> statement-breakpoint
-- Guests read public documents of any organization, and only in a session that asks for exactly that.
CREATE POLICY documents_public ON documents FOR SELECT
  USING (visibility = 'public' AND signet_setting('app.public_read') = 'on');
--> statement-breakpoint
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY api_keys_tenant ON api_keys FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
--> statement-breakpoint
CREATE POLICY api_keys_exchange ON api_keys FOR SELECT USING (signet_bootstrap());
--> statement-breakpoint
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY audit_events_tenant ON audit_events FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
--> statement-breakpoint
ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY jobs_tenant ON jobs FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
