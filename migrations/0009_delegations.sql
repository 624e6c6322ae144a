CREATE TABLE "delegations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"agent_name" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"ended_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "revocations" DROP CONSTRAINT "revocations_subject_type_check";--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "on_behalf_of_type" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "on_behalf_of_id" text;--> statement-breakpoint
ALTER TABLE "delegations" ADD CONSTRAINT "delegations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "delegations" ADD CONSTRAINT "delegations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "delegations_user_idx" ON "delegations" USING btree ("organization_id","user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
ALTER TABLE "revocations" ADD CONSTRAINT "revocations_subject_type_check" CHECK ("revocations"."subject_type" in ('user', 'service', 'agent'));--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON delegations TO signet_app;
--> statement-breakpoint
ALTER TABLE delegations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE delegations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- A delegation is the organization's data: created, listed and ended in the tenant session of its user.
CREATE POLICY delegations_tenant ON delegations FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
