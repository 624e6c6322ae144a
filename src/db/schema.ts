/**
 * The database schema (drizzle). Owns table shapes only: who may see which rows is decided by the
 * row-level security policies in `migrations/` and by the tenant session in `./session.ts`.
 *
 * Every tenant-owned table carries `organization_id`; `organizations` and `users` are global.
 */
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const id = () => uuid('id').primaryKey().defaultRandom();
const createdAt = () =>
  timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow();
const organizationId = () =>
  uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' });

export const organizations = pgTable('organizations', {
  id: id(),
  name: text('name').notNull(),
  slug: text('slug').notNull().unique(),
  createdAt: createdAt(),
});

/**
 * Users. `email` is an address we have reason to believe is theirs — given by an invitation or the dev
 * grant, or linked from a provider that verified it — or null: it never identifies a user signing in
 * through a provider on its own (`userIdentities` does).
 */
export const users = pgTable('users', {
  id: id(),
  email: text('email').unique(),
  name: text('name'),
  createdAt: createdAt(),
});

/**
 * A user's identities at external providers (SPEC §2): the provider's (`iss`, `sub`) is what signs a
 * user in. A user has at most one identity per provider.
 */
export const userIdentities = pgTable(
  'user_identities',
  {
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.issuer, t.subject] }),
    uniqueIndex('user_identities_user_issuer_idx').on(t.userId, t.issuer),
  ],
);

export const memberships = pgTable(
  'memberships',
  {
    organizationId: organizationId(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId] }),
    index('memberships_user_idx').on(t.userId),
    check('memberships_role_check', sql`${t.role} in ('viewer', 'editor', 'admin', 'owner')`),
  ],
);

export const documents = pgTable(
  'documents',
  {
    id: id(),
    organizationId: organizationId(),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    visibility: text('visibility').notNull().default('private'),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('documents_org_page_idx').on(t.organizationId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    check('documents_visibility_check', sql`${t.visibility} in ('private', 'public')`),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: id(),
    organizationId: organizationId(),
    name: text('name').notNull(),
    scopes: text('scopes').array().notNull(),
    /** SHA-256 of the secret, hex. The secret itself is shown once and never stored. */
    secretHash: text('secret_hash').notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date', precision: 3 }),
  },
  (t) => [uniqueIndex('api_keys_secret_hash_idx').on(t.secretHash)],
);

/**
 * The audit trail. Deliberately no foreign key to `organizations`: the trail of an organization's
 * deletion (and everything before it) outlives its data, until audit retention removes it.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: id(),
    organizationId: uuid('organization_id').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    outcome: text('outcome').notNull(),
    requestId: text('request_id').notNull(),
    /** Whom the actor acted for: an agent's delegating user (SPEC §3 `onBehalfOf`); null otherwise. */
    onBehalfOfType: text('on_behalf_of_type'),
    onBehalfOfId: text('on_behalf_of_id'),
  },
  (t) => [
    index('audit_events_org_page_idx').on(t.organizationId, t.at.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // Maintenance: audit retention deletes by age across organizations.
    index('audit_events_at_idx').on(t.at),
    check('audit_events_outcome_check', sql`${t.outcome} in ('success', 'denied', 'failure')`),
  ],
);

export const jobs = pgTable(
  'jobs',
  {
    id: id(),
    organizationId: organizationId(),
    kind: text('kind').notNull(),
    status: text('status').notNull().default('queued'),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    input: jsonb('input').notNull().default({}),
    result: jsonb('result'),
    errorCode: text('error_code'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    /** When a succeeded job's `result` is cleared by maintenance. */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date', precision: 3 }),
  },
  (t) => [
    index('jobs_org_idx').on(t.organizationId, t.createdAt.desc().nullsFirst()),
    // Maintenance: results to expire, and unfinished jobs nobody is working on any more.
    index('jobs_result_expiry_idx').on(t.expiresAt).where(sql`${t.result} is not null`),
    index('jobs_unfinished_idx').on(t.updatedAt).where(sql`${t.status} in ('queued', 'running')`),
    check('jobs_status_check', sql`${t.status} in ('queued', 'running', 'succeeded', 'failed')`),
  ],
);

/**
 * Subjects whose tokens issued before `revoked_at` are refused (`TOKEN_REVOKED`): a removed or demoted
 * member (`user`), a revoked API key (`service`). Rows older than the longest token lifetime are
 * useless and pruned by maintenance.
 */
export const revocations = pgTable(
  'revocations',
  {
    organizationId: organizationId(),
    subjectType: text('subject_type').notNull(),
    subjectId: uuid('subject_id').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.subjectType, t.subjectId] }),
    check('revocations_subject_type_check', sql`${t.subjectType} in ('user', 'service', 'agent')`),
  ],
);

/**
 * Delegations (SPEC §1/§2): a user handing part of their authority to an agent by token exchange. Each
 * exchange writes one; ending it (`ended_at`) revokes its tokens. The agent's permissions are its
 * `scopes` and, at every moment, no more than its user may do.
 */
export const delegations = pgTable(
  'delegations',
  {
    id: id(),
    organizationId: organizationId(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    agentName: text('agent_name').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date', precision: 3 }),
  },
  (t) => [index('delegations_user_idx').on(t.organizationId, t.userId, t.createdAt.desc().nullsFirst())],
);

/**
 * Organization deletions (SPEC §3): one row per deletion workflow (`id` is the workflow instance id).
 * No foreign key: the record — who, when, the workflow, each step's state, the final export — outlives
 * the organization's data. Readable by the owner who started it, with an org-less token too.
 */
export const organizationDeletions = pgTable(
  'organization_deletions',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id').notNull(),
    organizationSlug: text('organization_slug').notNull(),
    organizationName: text('organization_name').notNull(),
    initiatedBy: uuid('initiated_by').notNull(),
    requestId: text('request_id').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    /** Set by the first step: every token of the organization issued before it is refused. */
    accessRevokedAt: timestamp('access_revoked_at', { withTimezone: true, mode: 'date', precision: 3 }),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date', precision: 3 }),
    status: text('status').notNull().default('running'),
    errorCode: text('error_code'),
    /** Step name → `{ status, attempts, at, error? }`. */
    steps: jsonb('steps').notNull().default({}),
    finalExport: jsonb('final_export'),
  },
  (t) => [
    check('organization_deletions_status_check', sql`${t.status} in ('running', 'succeeded', 'failed')`),
    // One deletion at a time: a failed one leaves the organization usable and deletable again.
    uniqueIndex('organization_deletions_active_idx').on(t.organizationId).where(sql`${t.status} <> 'failed'`),
  ],
);
