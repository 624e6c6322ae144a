ALTER TABLE "jobs" ADD COLUMN "expires_at" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "jobs_result_expiry_idx" ON "jobs" USING btree ("expires_at") WHERE "jobs"."result" is not null;--> statement-breakpoint
CREATE INDEX "jobs_unfinished_idx" ON "jobs" USING btree ("updated_at") WHERE "jobs"."status" in ('queued', 'running');--> statement-breakpoint
-- Scheduled maintenance (SPEC §3) runs as the system actor, in a session with `app.maintenance` set and
-- no tenant. These policies are the only way it reaches tenant rows, and they are narrow: it may read
-- and clear finished jobs' results or fail abandoned jobs (never write a result), delete old audit
-- events and revocations, and record its own work as `system` audit events. Documents, members, API
-- keys, users and organizations stay out of its reach; business sessions never set the flag.
CREATE OR REPLACE FUNCTION signet_maintenance() RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT coalesce(signet_setting('app.maintenance') = 'on', false) $$;
--> statement-breakpoint
CREATE POLICY jobs_maintenance_read ON jobs FOR SELECT USING (signet_maintenance());
--> statement-breakpoint
CREATE POLICY jobs_maintenance_change ON jobs FOR UPDATE
  USING (signet_maintenance()) WITH CHECK (signet_maintenance() AND result IS NULL);
--> statement-breakpoint
CREATE POLICY audit_events_maintenance_read ON audit_events FOR SELECT USING (signet_maintenance());
--> statement-breakpoint
CREATE POLICY audit_events_maintenance_delete ON audit_events FOR DELETE USING (signet_maintenance());
--> statement-breakpoint
CREATE POLICY audit_events_maintenance_record ON audit_events FOR INSERT
  WITH CHECK (signet_maintenance() AND actor_type = 'system');
--> statement-breakpoint
CREATE POLICY revocations_maintenance_read ON revocations FOR SELECT USING (signet_maintenance());
--> statement-breakpoint
CREATE POLICY revocations_maintenance_delete ON revocations FOR DELETE USING (signet_maintenance());
