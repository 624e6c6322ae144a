/**
 * Token revocation (SPEC §3 `TOKEN_REVOKED`), without a database read per request in steady state.
 *
 * Design: removing a member or revoking an API key writes a `revocations` row (subject, `revoked_at`)
 * in the same transaction. Each isolate keeps, per organization, the rows of the last hour (the longest
 * token lifetime) and refreshes them at most every `REFRESH_MS` — one small indexed read per
 * organization per isolate per 30 s — so every isolate refuses a revoked token within 30 s; the isolate
 * that performed the revocation refuses it at once (`noteRevocation`). A token is revoked when it was
 * issued before its subject's `revoked_at`.
 */
import { and, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { TokenActor } from '../actor/actor.ts';
import type { RevocationSource } from '../actor/resolve.ts';
import { MAX_LIFETIME_SECONDS } from '../actor/tokens/claims.ts';
import type { Database } from '../db/client.ts';
import { organizationDeletions, revocations } from '../db/schema.ts';
import { runScoped } from '../db/session.ts';

export const REFRESH_MS = 30_000;

interface OrganizationRevocations {
  fetchedAt: number;
  /** `type:id` → revoked at, in seconds since the epoch. */
  bySubject: Map<string, number>;
}

const known = new Map<string, OrganizationRevocations>();
const inflight = new Map<string, Promise<OrganizationRevocations>>();

export function revocationSource(db: Database): RevocationSource {
  return {
    async isRevoked(actor: TokenActor): Promise<boolean> {
      const organizationId = actor.organizationId;
      if (organizationId === null) return false; // an org-less token reaches no tenant data
      const list = await revocationsOf(db, organizationId, actor);
      // `iat` has one-second resolution: a token issued in the second of its revocation counts as before.
      const revokedBefore = (key: string) => {
        const revokedAt = list.bySubject.get(key);
        return revokedAt !== undefined && actor.token.issuedAt <= revokedAt;
      };
      // The subject itself, or the whole organization (it is being deleted).
      return revokedBefore(`${actor.type}:${actor.id}`) || revokedBefore(`organization:${organizationId}`);
    },
  };
}

/** Records a revocation this isolate just committed, so it applies here at once. */
export function noteRevocation(
  organizationId: string,
  subjectType: 'user' | 'service' | 'organization',
  subjectId: string,
  at: Date,
): void {
  const entry = known.get(organizationId);
  if (entry) entry.bySubject.set(`${subjectType}:${subjectId}`, Math.floor(at.getTime() / 1000));
  else if (subjectType === 'organization') forgetRevocations(organizationId);
}

/** Forgets every cached list (tests, and organization deletion). */
export function forgetRevocations(organizationId?: string): void {
  if (organizationId === undefined) known.clear();
  else known.delete(organizationId);
}

async function revocationsOf(
  db: Database,
  organizationId: string,
  actor: TokenActor,
): Promise<OrganizationRevocations> {
  const cached = known.get(organizationId);
  if (cached && Date.now() - cached.fetchedAt < REFRESH_MS) return cached;
  let pending = inflight.get(organizationId);
  if (!pending) {
    pending = load(db, organizationId, actor).finally(() => inflight.delete(organizationId));
    inflight.set(organizationId, pending);
  }
  return pending;
}

async function load(db: Database, organizationId: string, actor: TokenActor): Promise<OrganizationRevocations> {
  const since = new Date(Date.now() - (MAX_LIFETIME_SECONDS + 60) * 1000);
  const [rows, deletion] = await runScoped(db, { organizationId, actorType: actor.type, actorId: actor.id }, [
    db
      .select({ type: revocations.subjectType, id: revocations.subjectId, at: revocations.revokedAt })
      .from(revocations)
      .where(and(eq(revocations.organizationId, organizationId), gt(revocations.revokedAt, since))),
    db
      .select({ at: organizationDeletions.accessRevokedAt })
      .from(organizationDeletions)
      .where(eq(organizationDeletions.organizationId, organizationId)),
  ]);
  const bySubject = new Map(rows.map((r) => [`${r.type}:${r.id}`, Math.floor(r.at.getTime() / 1000)]));
  const deletedAt = deletion[0]?.at;
  if (deletedAt) bySubject.set(`organization:${organizationId}`, Math.floor(deletedAt.getTime() / 1000));
  const entry: OrganizationRevocations = { fetchedAt: Date.now(), bySubject };
  known.set(organizationId, entry);
  return entry;
}

/**
 * The `revoked as (…)` CTE that records a revocation in the same statement as the change that causes
 * it (one row per row of a `changed` CTE); it returns `revoked_at`.
 */
export function revokedCte(
  organizationId: string,
  subjectType: 'user' | 'service',
  subjectId: SQL | string,
  at: SQL | Date,
): SQL {
  return sql`revoked as (
    insert into revocations (organization_id, subject_type, subject_id, revoked_at)
    select ${organizationId}, ${subjectType}, ${subjectId}, ${at} from changed
    on conflict (organization_id, subject_type, subject_id) do update set revoked_at = excluded.revoked_at
    returning revoked_at
  )`;
}
