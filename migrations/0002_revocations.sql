CREATE TABLE "revocations" (
	"organization_id" uuid NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"revoked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "revocations_organization_id_subject_type_subject_id_pk" PRIMARY KEY("organization_id","subject_type","subject_id"),
	CONSTRAINT "revocations_subject_type_check" CHECK ("revocations"."subject_type" in ('user', 'service'))
);
--> statement-breakpoint
ALTER TABLE "revocations" ADD CONSTRAINT "revocations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON revocations TO signet_app;
--> statement-breakpoint
ALTER TABLE revocations ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE revocations FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY revocations_tenant ON revocations FOR ALL
  USING (organization_id = signet_org()) WITH CHECK (organization_id = signet_org());
