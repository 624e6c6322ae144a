/**
 * `POST /v1/auth/token` (SPEC §3): turns a credential into a Signet actor token.
 *
 * - `id_token`: an external IdP's OIDC ID token → a user (found or created by its verified email); with
 *   `organization` (id or slug) the user must be a member and the token carries the membership's role.
 * - `api_key`: an API key secret → a service actor with the key's scopes, never more than its creator
 *   may do now (scopes ∩ the creator's current role).
 * - `dev` (only when `ENVIRONMENT=development`): an email → a user, as `id_token` but without an IdP.
 *
 * Loading the user or the key is a bootstrap action of the system actor (SPEC §1), in one round trip.
 */
import { and, eq, or, sql } from 'drizzle-orm';
import type { TokenActor } from '../../actor/actor.ts';
import { verifyIdToken } from '../../actor/idp.ts';
import { systemActor } from '../../actor/system.ts';
import { clampLifetime } from '../../actor/tokens/claims.ts';
import { loadActorKeys } from '../../actor/tokens/keys.ts';
import { signActorToken } from '../../actor/tokens/sign.ts';
import type { Context } from '../../context.ts';
import type { Grant } from '../../contract/requests.ts';
import { apiKeys, memberships, organizationDeletions, organizations, revocations, users } from '../../db/schema.ts';
import { runScoped } from '../../db/session.ts';
import { InvalidToken, NotFound, TokenRevoked, ValidationFailed } from '../../errors.ts';
import { assertSystemAction } from '../../policy/bootstrap.ts';
import { isPermission, isRole, type Permission, permissionsOf } from '../../policy/permissions.ts';
import { hashApiKeySecret, looksLikeApiKeySecret } from './api-key-secret.ts';
import { type ActorView, actorView } from './views.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  actor: ActorView;
}

export async function exchangeToken(ctx: Context, grant: Grant): Promise<TokenResponse> {
  switch (grant.grant_type) {
    case 'dev':
      if (ctx.env.ENVIRONMENT !== 'development') {
        throw new ValidationFailed([{ path: 'grant_type', message: 'Unknown grant type.' }]);
      }
      return issueForUser(ctx, grant.email.toLowerCase(), null, grant.organization, grant.ttl_seconds);
    case 'id_token': {
      const { IDP_JWKS_URL: jwksUrl, IDP_ISSUER: issuer, IDP_AUDIENCE: audience } = ctx.env;
      if (!jwksUrl || !issuer || !audience) {
        throw new ValidationFailed([{ path: 'grant_type', message: 'No identity provider is configured.' }]);
      }
      const identity = await verifyIdToken(grant.id_token, { jwksUrl, issuer, audience });
      return issueForUser(ctx, identity.email, identity.name, grant.organization, undefined);
    }
    case 'api_key':
      return issueForApiKey(ctx, grant.api_key);
  }
}

async function issueForUser(
  ctx: Context,
  email: string,
  name: string | null,
  organization: string | undefined,
  ttlSeconds: number | undefined,
): Promise<TokenResponse> {
  const system = systemActor('token exchange');
  assertSystemAction(system, 'bootstrap:load-user');
  const { db } = ctx;
  const scope = { organizationId: null, actorType: 'system', actorId: system.reason, bootstrap: true };
  const orgMatches = or(
    eq(organizations.slug, organization ?? ''),
    sql`${organizations.id}::text = ${organization ?? ''}`,
  );
  const [, found, membership, revoked, deleting] = await runScoped(db, scope, [
    db.insert(users).values({ email, name }).onConflictDoNothing({ target: users.email }),
    db.select({ id: users.id }).from(users).where(eq(users.email, email)),
    db
      .select({ organizationId: organizations.id, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(users.email, email), orgMatches)),
    db
      .select({ at: revocations.revokedAt })
      .from(revocations)
      .innerJoin(organizations, eq(organizations.id, revocations.organizationId))
      .innerJoin(users, eq(users.id, revocations.subjectId))
      .where(and(eq(users.email, email), eq(revocations.subjectType, 'user'), orgMatches)),
    db
      .select({ id: organizationDeletions.id })
      .from(organizationDeletions)
      .innerJoin(organizations, eq(organizations.id, organizationDeletions.organizationId))
      .where(orgMatches),
  ]);
  const userId = found[0]?.id;
  if (!userId) throw new Error('user upsert returned no row');
  let org: string | null = null;
  let role: ReturnType<typeof toRole> = null;
  if (organization !== undefined) {
    const row = membership[0];
    // Not a member and no such organization look the same: existence is never disclosed.
    // A member of an organization being deleted gets no new token for it.
    if (!row || deleting.length > 0) throw new NotFound('No such organization, or not a member of it.');
    org = row.organizationId;
    role = toRole(row.role);
  }
  const subject = { act: 'user' as const, sub: userId, org, role, sid: crypto.randomUUID() };
  // `iat` has one-second resolution and tokens issued at or before a revocation's second are refused:
  // date this one after the subject's latest revocation (at most a second ahead, well within tolerance).
  const revokedAt = org ? revoked[0]?.at : undefined;
  const notBefore = revokedAt ? Math.floor(revokedAt.getTime() / 1000) + 1 : 0;
  return sign(ctx, subject, ttlSeconds, notBefore);
}

async function issueForApiKey(ctx: Context, secret: string): Promise<TokenResponse> {
  if (!looksLikeApiKeySecret(secret)) throw new InvalidToken('The API key is invalid.');
  const system = systemActor('token exchange');
  assertSystemAction(system, 'bootstrap:load-api-key');
  const { db } = ctx;
  const hash = await hashApiKeySecret(secret);
  const scope = { organizationId: null, actorType: 'system', actorId: system.reason, bootstrap: true };
  const [rows] = await runScoped(db, scope, [
    db
      .select({
        id: apiKeys.id,
        organizationId: apiKeys.organizationId,
        scopes: apiKeys.scopes,
        revokedAt: apiKeys.revokedAt,
        creatorRole: memberships.role,
      })
      .from(apiKeys)
      .leftJoin(
        memberships,
        and(eq(memberships.organizationId, apiKeys.organizationId), eq(memberships.userId, apiKeys.createdBy)),
      )
      .where(eq(apiKeys.secretHash, hash)),
  ]);
  const key = rows[0];
  if (!key) throw new InvalidToken('The API key is invalid.');
  if (key.revokedAt !== null) throw new TokenRevoked('The API key has been revoked.');
  const creatorRole = toRole(key.creatorRole);
  const allowed = creatorRole ? permissionsOf(creatorRole) : new Set<Permission>();
  const scopes = key.scopes.filter(isPermission).filter((p) => allowed.has(p));
  return sign(ctx, { act: 'service', sub: key.id, org: key.organizationId, scopes }, undefined, 0);
}

async function sign(
  ctx: Context,
  subject: Parameters<typeof signActorToken>[1],
  ttlSeconds: number | undefined,
  notBefore: number,
): Promise<TokenResponse> {
  const keys = await loadActorKeys(ctx.env.ACTOR_SIGNING_KEYS);
  const fallback = clampLifetime(Number(ctx.env.ACTOR_TOKEN_TTL_SECONDS ?? '') || undefined);
  const issued = await signActorToken(keys, subject, {
    issuer: ctx.env.ACTOR_ISSUER,
    audience: ctx.env.ACTOR_AUDIENCE,
    ttlSeconds: ttlSeconds ?? fallback,
    now: Math.max(Math.floor(Date.now() / 1000), notBefore),
  });
  const token = { jti: issued.jti, issuedAt: issued.issuedAt, expiresAt: issued.expiresAt };
  const actor: TokenActor =
    subject.act === 'user'
      ? {
          type: 'user',
          id: subject.sub,
          organizationId: subject.org,
          role: subject.role,
          sessionId: subject.sid,
          token,
        }
      : { type: 'service', id: subject.sub, organizationId: subject.org, scopes: subject.scopes, token };
  return { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, actor: actorView(actor) };
}

function toRole(value: string | null | undefined) {
  return isRole(value) ? value : null;
}
