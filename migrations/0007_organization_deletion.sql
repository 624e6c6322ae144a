CREATE TABLE "organization_deletions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"organization_slug" text NOT NULL,
	"organization_name" text NOT NULL,
	"initiated_by" uuid NOT NULL,
	"request_id" text NOT NULL,
	"requested_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"access_revoked_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"error_code" text,
	"steps" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"final_export" jsonb,
	CONSTRAINT "organization_deletions_organization_id_unique" UNIQUE("organization_id"),
	CONSTRAINT "organization_deletions_status_check" CHECK ("organization_deletions"."status" in ('running', 'succeeded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_organization_id_organizations_id_fk";
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON organization_deletions TO signet_app;
--> statement-breakpoint
ALTER TABLE organization_deletions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE organization_deletions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- The organization's own sessions (the workflow's steps run as its owner), and the initiating user
-- afterwards with an org-less token; token exchanges (bootstrap) check whether an organization is gone.
CREATE POLICY organization_deletions_read ON organization_deletions FOR SELECT
  USING (organization_id = signet_org() OR initiated_by = signet_user() OR signet_bootstrap());
--> statement-breakpoint
CREATE POLICY organization_deletions_create ON organization_deletions FOR INSERT
  WITH CHECK (organization_id = signet_org());
--> statement-breakpoint
CREATE POLICY organization_deletions_progress ON organization_deletions FOR UPDATE
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
