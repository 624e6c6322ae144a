-- The list indexes in the order the lists ask for. `ORDER BY created_at DESC` is NULLS FIRST in
-- PostgreSQL, and these indexes were DESC NULLS LAST (drizzle's default for `.desc()`): the planner can't
-- take a NULLS FIRST order from a NULLS LAST index (NOT NULL columns or not), so every page read all of
-- the organization's rows and sorted them (a bitmap heap scan: ~8 ms for 1,000 documents, growing with
-- the organization). In the list's own order, a page is an index scan of `limit + 1` entries.
DROP INDEX "audit_events_org_page_idx";--> statement-breakpoint
DROP INDEX "delegations_user_idx";--> statement-breakpoint
DROP INDEX "documents_org_page_idx";--> statement-breakpoint
DROP INDEX "jobs_org_idx";--> statement-breakpoint
CREATE INDEX "audit_events_org_page_idx" ON "audit_events" USING btree ("organization_id","at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "delegations_user_idx" ON "delegations" USING btree ("organization_id","user_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "documents_org_page_idx" ON "documents" USING btree ("organization_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "jobs_org_idx" ON "jobs" USING btree ("organization_id","created_at" DESC NULLS FIRST);