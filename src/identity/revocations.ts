/**
 * Token revocation (SPEC §1 "Derived authority", §3 `TOKEN_REVOKED`), without a database read per
 * request in steady state.
 *
 * Design: whatever removes or reduces a link of a chain of grants — a member removed or demoted, an API
 * key revoked, the organization being deleted — writes a `revocations` row (subject, `revoked_at`) in the
 * same transaction as the change. A token is revoked when **any link of its chain** (`chainOf`: itself,
 * then what it derives from) was revoked at or after the token's `iat`. Both times come from the
 * database's clock: `revoked_at` is taken after the change holds its row locks, and a token exchange
 * dates its token by the moment it read (and share-locked) the authority it signs — so an exchange that
 * read the old membership always yields a token dated before the revocation (see `exchange-token.ts`).
 *
 * Each isolate keeps, per organization, the rows of the last hour (the longest token lifetime) and
 * refreshes them at most every `REFRESH_MS` — one small indexed read per organization per isolate per
 * 30 s — so every isolate refuses a revoked token within 30 s; the isolate that performed the revocation
 * refuses it at once (`noteRevocation`), even when a refresh that began before the revocation lands
 * after it (notes outlive the refreshes that can't have seen them).
 *
 * Bounds: at most `MAX_CACHED_ORGANIZATIONS` organizations per isolate (least recently used go first;
 * an evicted one is simply read again), each holding its revocations of the last 61 minutes.
 */
import { and, eq, gt, type SQL, sql } from 'drizzle-orm';
import { chainOf, type TokenActor } from '../actor/actor.ts';
import type { RevocationSource } from '../actor/resolve.ts';
import { MAX_LIFETIME_SECONDS } from '../actor/tokens/claims.ts';
import type { Database } from '../db/client.ts';
import { organizationDeletions, revocations } from '../db/schema.ts';
import { tenantScope } from '../db/scopes.ts';
import { runScoped } from '../db/session.ts';

export const REFRESH_MS = 30_000;
export const MAX_CACHED_ORGANIZATIONS = 5_000;

export type RevocationSubject = 'user' | 'service' | 'agent' | 'organization';

/** `type:id` → revoked at, in milliseconds since the epoch (database clock). */
export type RevokedSubjects = ReadonlyMap<string, number>;

interface Entry {
  fetchedAt: number;
  bySubject: Map<string, number>;
}

interface Note {
  at: number;
  notedAt: number;
}

const subjectKey = (type: string, id: string) => `${type}:${id}`;

function keepLatest(into: Map<string, number>, key: string, at: number): void {
  const current = into.get(key);
  if (current === undefined || at > current) into.set(key, at);
}

/**
 * The per-isolate cache of organizations' revocation lists. Exported as a class so tests can drive
 * its interleavings (a refresh in flight while a revocation is noted) with a loader they control.
 */
export class RevocationCache {
  readonly #known = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();
  /** Revocations this isolate committed, kept until a refresh that began after them has landed. */
  readonly #notes = new Map<string, Map<string, Note>>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: { capacity?: number; now?: () => number } = {}) {
    this.#capacity = options.capacity ?? MAX_CACHED_ORGANIZATIONS;
    this.#now = options.now ?? Date.now;
  }

  /** The organization's revoked subjects, refreshed through `load` when older than `REFRESH_MS`. */
  async subjects(organizationId: string, load: () => Promise<RevokedSubjects>): Promise<RevokedSubjects> {
    const cached = this.#known.get(organizationId);
    if (cached && this.#now() - cached.fetchedAt < REFRESH_MS) {
      this.#touch(organizationId, cached);
      return cached.bySubject;
    }
    let pending = this.#inflight.get(organizationId);
    if (!pending) {
      const startedAt = this.#now();
      pending = load()
        .then((rows) => this.#landed(organizationId, rows, startedAt))
        .finally(() => this.#inflight.delete(organizationId));
      this.#inflight.set(organizationId, pending);
    }
    return (await pending).bySubject;
  }

  /** Records a revocation this isolate just committed, so it applies here at once. */
  note(organizationId: string, type: RevocationSubject, id: string, at: number): void {
    const key = subjectKey(type, id);
    const entry = this.#known.get(organizationId);
    if (entry) keepLatest(entry.bySubject, key, at);
    let notes = this.#notes.get(organizationId);
    if (!notes) {
      notes = new Map();
      this.#notes.set(organizationId, notes);
    }
    const previous = notes.get(key);
    notes.set(key, { at: Math.max(at, previous?.at ?? at), notedAt: this.#now() });
    if (this.#notes.size > this.#capacity) {
      const oldest = this.#notes.keys().next().value;
      if (oldest !== undefined) this.#notes.delete(oldest);
    }
  }

  forget(organizationId?: string): void {
    if (organizationId === undefined) {
      this.#known.clear();
      this.#notes.clear();
    } else {
      this.#known.delete(organizationId);
    }
  }

  get size(): number {
    return this.#known.size;
  }

  #landed(organizationId: string, rows: RevokedSubjects, startedAt: number): Entry {
    const bySubject = new Map(rows);
    const notes = this.#notes.get(organizationId);
    if (notes) {
      for (const [key, note] of notes) {
        keepLatest(bySubject, key, note.at);
        // A refresh that began after the revocation committed has read its row: the note is redundant.
        if (note.notedAt < startedAt) notes.delete(key);
      }
      if (notes.size === 0) this.#notes.delete(organizationId);
    }
    const entry = { fetchedAt: this.#now(), bySubject };
    this.#touch(organizationId, entry);
    return entry;
  }

  #touch(organizationId: string, entry: Entry): void {
    this.#known.delete(organizationId);
    this.#known.set(organizationId, entry);
    if (this.#known.size > this.#capacity) {
      const oldest = this.#known.keys().next().value;
      if (oldest !== undefined) this.#known.delete(oldest);
    }
  }
}

/**
 * Whether a token is revoked by what the organization revoked: any link of its chain, or the whole
 * organization, at or after its `iat`. Millisecond resolution: an exchange dates its token by its read
 * (`iat` may carry milliseconds), and a token issued in the millisecond of a revocation counts as before it.
 */
export function isRevokedBy(actor: TokenActor, revoked: RevokedSubjects): boolean {
  const issuedAt = Math.round(actor.token.issuedAt * 1000);
  const before = (key: string) => {
    const at = revoked.get(key);
    return at !== undefined && issuedAt <= at;
  };
  if (actor.organizationId !== null && before(subjectKey('organization', actor.organizationId))) return true;
  return chainOf(actor).some((link) => before(subjectKey(link.type, link.id)));
}

const isolate = new RevocationCache();

export function revocationSource(db: Database): RevocationSource {
  return {
    async isRevoked(actor: TokenActor): Promise<boolean> {
      const organizationId = actor.organizationId;
      if (organizationId === null) return false; // an org-less token reaches no tenant data
      const revoked = await isolate.subjects(organizationId, () => load(db, organizationId, actor));
      return isRevokedBy(actor, revoked);
    },
  };
}

/** Records a revocation this isolate just committed (its database time), so it applies here at once. */
export function noteRevocation(organizationId: string, type: RevocationSubject, id: string, at: Date): void {
  isolate.note(organizationId, type, id, at.getTime());
}

/** Forgets every cached list (tests: what the 30 s refresh does in production). */
export function forgetRevocations(organizationId?: string): void {
  isolate.forget(organizationId);
}

/** How many organizations this isolate caches (for `npm run bench`). */
export function cachedRevocationLists(): number {
  return isolate.size;
}

async function load(db: Database, organizationId: string, actor: TokenActor): Promise<RevokedSubjects> {
  const since = new Date(Date.now() - (MAX_LIFETIME_SECONDS + 60) * 1000);
  const [rows, deletions] = await runScoped(db, tenantScope({ type: actor.type, id: actor.id, organizationId }), [
    db
      .select({ type: revocations.subjectType, id: revocations.subjectId, at: revocations.revokedAt })
      .from(revocations)
      .where(and(eq(revocations.organizationId, organizationId), gt(revocations.revokedAt, since))),
    db
      .select({ at: organizationDeletions.accessRevokedAt })
      .from(organizationDeletions)
      .where(eq(organizationDeletions.organizationId, organizationId)),
  ]);
  const bySubject = new Map<string, number>();
  for (const r of rows) keepLatest(bySubject, subjectKey(r.type, r.id), r.at.getTime());
  for (const d of deletions) {
    if (d.at) keepLatest(bySubject, subjectKey('organization', organizationId), d.at.getTime());
  }
  return bySubject;
}

/** The database's clock, truncated to the millisecond the columns keep: as revocations and exchanges read it. */
export const databaseNow = sql`date_trunc('milliseconds', clock_timestamp())`;

/**
 * The `revoked as (…)` CTE that records a revocation in the same statement as the change that causes
 * it (one row per row of a `changed` CTE); it returns `revoked_at`. The time is the database's clock
 * when the row is written — after `changed` holds its row locks — never the Worker's; and a subject's
 * revocations strictly increase (at least 1 ms apart), so a token dated just after one revocation
 * (see `exchange-token.ts`) is still dated at or before the next.
 */
export function revokedCte(
  organizationId: string,
  subjectType: 'user' | 'service' | 'agent',
  subjectId: SQL | string,
): SQL {
  return sql`revoked as (
    insert into revocations (organization_id, subject_type, subject_id, revoked_at)
    select ${organizationId}, ${subjectType}, ${subjectId}, ${databaseNow} from changed
    on conflict (organization_id, subject_type, subject_id) do update
      set revoked_at = greatest(excluded.revoked_at, revocations.revoked_at + interval '1 millisecond')
    returning revoked_at
  )`;
}
