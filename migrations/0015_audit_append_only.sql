-- The audit trail is append-only for the application: the role its sessions run as may record events and
-- read them, never change or remove one (an outside review found `signet_app` holding UPDATE and DELETE on
-- `audit_events`; no code used them, but a bug or an injected statement could have rewritten the trail
-- its own row-level security let it see). Retention, the one deletion there is, runs as the maintenance
-- role, which keeps DELETE through a grant of its own (its policy still limits it to events past retention
-- in a maintenance session: migrations/0006).
REVOKE UPDATE, DELETE ON audit_events FROM signet_app;--> statement-breakpoint
GRANT DELETE ON audit_events TO signet_maintenance;
