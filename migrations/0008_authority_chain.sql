CREATE TABLE "user_identities" (
	"issuer" text NOT NULL,
	"subject" text NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_identities_issuer_subject_pk" PRIMARY KEY("issuer","subject")
);
--> statement-breakpoint
ALTER TABLE "organization_deletions" DROP CONSTRAINT "organization_deletions_organization_id_unique";--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "user_identities" ADD CONSTRAINT "user_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "user_identities_user_issuer_idx" ON "user_identities" USING btree ("user_id","issuer");--> statement-breakpoint
CREATE UNIQUE INDEX "organization_deletions_active_idx" ON "organization_deletions" USING btree ("organization_id") WHERE "organization_deletions"."status" <> 'failed';--> statement-breakpoint
-- Identities at external providers (SPEC §2): read and linked by token exchanges only (bootstrap).
GRANT SELECT, INSERT ON user_identities TO signet_app;
--> statement-breakpoint
ALTER TABLE user_identities ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE user_identities FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY user_identities_exchange ON user_identities FOR ALL
  USING (signet_bootstrap()) WITH CHECK (signet_bootstrap());
--> statement-breakpoint
-- A token exchange share-locks the authority it signs (the membership, the API key) so that a change
-- to it waits for the exchange's read, and the revocation it writes is dated after that read. Row locks
-- need an UPDATE policy's USING; WITH CHECK (false) keeps the exchange from ever updating these rows.
CREATE POLICY memberships_exchange_lock ON memberships FOR UPDATE USING (signet_bootstrap()) WITH CHECK (false);
--> statement-breakpoint
CREATE POLICY api_keys_exchange_lock ON api_keys FOR UPDATE USING (signet_bootstrap()) WITH CHECK (false);
