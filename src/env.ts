/**
 * The Worker's bindings (SPEC §5). Secrets are optional here because their absence must give a clear
 * error, not a crash.
 */
export interface Env {
  ENVIRONMENT: string;
  ACTOR_ISSUER: string;
  ACTOR_AUDIENCE: string;
  ACTOR_TOKEN_TTL_SECONDS?: string;
  ACTOR_SIGNING_KEYS?: string;
  IDP_JWKS_URL?: string;
  IDP_ISSUER?: string;
  IDP_AUDIENCE?: string;
  DATABASE_URL?: string;
  /**
   * Local development and tests only: the base URL of the local Neon bridge
   * (`scripts/lib/neon-bridge.ts`) that stands in for Neon's proxy. Absent in production.
   */
  DATABASE_PROXY_URL?: string;
  /** One Durable Object per document room. */
  ROOMS: DurableObjectNamespace<import('./rooms/room.ts').DocumentRoom>;
  /** One Durable Object per organization: its rooms that have connections. */
  ORG_ROOMS: DurableObjectNamespace<import('./rooms/org-rooms.ts').OrgRooms>;
  /** The organization-deletion workflow (`workflows/org-deletion.ts`). */
  ORG_DELETION: Workflow<import('./services/organization-deletion.ts').DeletionParams>;
  /** The background-job queue (producer). Messages carry an actor reference, never a token. */
  JOBS: Queue<import('./jobs/message.ts').JobMessage>;
  /** Days of audit events kept by scheduled maintenance; unset keeps them forever. */
  AUDIT_RETENTION_DAYS?: string;
  /** Tests only: which database the suite runs on (`embedded` or `postgres`). */
  DATABASE_KIND?: string;
}
