/**
 * `POST /v1/auth/token` (SPEC §3): turns a credential into a Signet actor token.
 *
 * - `id_token`: an external IdP's OIDC ID token → a user, identified by the provider's (`iss`, `sub`);
 *   on that identity's first sign-in a *verified* email links an existing user who has no identity yet
 *   (invited or seeded), and an email already bound to another identity is refused. With
 *   `organization` (id or slug) the user must be a member and the token carries the membership's role.
 * - `api_key`: an API key secret → a service actor with the key's scopes, never more than its creator
 *   may do now (scopes ∩ the creator's current role), naming the creator as its `grantor`.
 * - RFC 8693 token exchange: a member's own user token → an agent acting for them, with a delegation
 *   record (`../delegations.ts`); scopes ⊆ what the user may do now.
 * - `dev` (only when `ENVIRONMENT=development`): an email → a user, as `id_token` but without an IdP.
 *
 * Loading the user or the key is a bootstrap action of the system actor (SPEC §1).
 *
 * Revocation races: the read of the authority a token will carry (the membership, the key and its
 * creator's membership) share-locks those rows and reads the database's clock in the same transaction,
 * and the token is dated by that read (`iat`), not by when it is signed. A change to the membership or
 * the key waits for the lock and dates its revocation after it (`identity/revocations.ts`), so a token made from
 * the old authority is always dated before the revocation and refused — however late it is signed.
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import type * as z from 'zod';
import type { TokenActor } from '../../actor/actor.ts';
import { type IdpIdentity, verifyIdToken } from '../../actor/idp.ts';
import { systemActor } from '../../actor/system.ts';
import { clampLifetime, MAX_LIFETIME_SECONDS } from '../../actor/tokens/claims.ts';
import { loadActorKeys } from '../../actor/tokens/keys.ts';
import { type ActorTokenSubject, signActorToken } from '../../actor/tokens/sign.ts';
import type { Context } from '../../context.ts';
import {
  ACCESS_TOKEN_TYPE,
  type Grant,
  scopesOf,
  TOKEN_EXCHANGE_GRANT,
  type TokenExchangeGrant,
} from '../../contract/requests.ts';
import {
  apiKeys,
  memberships,
  organizationDeletions,
  organizations,
  revocations,
  userIdentities,
  users,
} from '../../db/schema.ts';
import { bootstrapScope } from '../../db/scopes.ts';
import { runScoped } from '../../db/session.ts';
import { InvalidToken, NotFound, TokenRevoked, ValidationFailed } from '../../errors.ts';
import { resolveBearer } from '../../identity/resolve-bearer.ts';
import { databaseNow } from '../../identity/revocations.ts';
import { capToGrantor } from '../../policy/authorize.ts';
import { isRole, type Role } from '../../policy/permissions.ts';
import { assertSystemAction } from '../../policy/system-actions.ts';
import { assertCleanText } from '../../text.ts';
import { UUID } from '../../uuid.ts';
import { createDelegation } from '../delegations.ts';
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
    case 'dev': {
      if (ctx.env.ENVIRONMENT !== 'development') {
        throw new ValidationFailed([{ path: 'grant_type', message: 'Unknown grant type.' }]);
      }
      const userId = await userForEmail(ctx, grant.email.toLowerCase());
      return signAuthority(ctx, await readUserAuthority(ctx, userId, grant.organization), grant.ttl_seconds);
    }
    case 'id_token': {
      const { IDP_JWKS_URL: jwksUrl, IDP_ISSUER: issuer, IDP_AUDIENCE: audience } = ctx.env;
      if (!jwksUrl || !issuer || !audience) {
        throw new ValidationFailed([{ path: 'grant_type', message: 'No identity provider is configured.' }]);
      }
      const identity = await verifyIdToken(grant.id_token, { jwksUrl, issuer, audience });
      // SPEC §3 "Text input": the claims are text the API accepts, refused like a body's (never a driver 500).
      assertCleanText({
        'id_token.iss': identity.issuer,
        'id_token.sub': identity.subject,
        'id_token.email': identity.email,
        'id_token.name': identity.name,
      });
      const userId = await userForIdentity(ctx, identity);
      return signAuthority(ctx, await readUserAuthority(ctx, userId, grant.organization), undefined);
    }
    case 'api_key':
      return signAuthority(ctx, await readApiKeyAuthority(ctx, grant.api_key), undefined);
    case TOKEN_EXCHANGE_GRANT:
      return exchangeForAgent(ctx, grant);
  }
}

/** The token-exchange response (RFC 8693 §2.2.1): the token, plus the delegation it stands for. */
export interface AgentTokenResponse extends TokenResponse {
  issued_token_type: typeof ACCESS_TOKEN_TYPE;
  scope: string;
  delegation_id: string;
}

/**
 * A member's own user token → an agent token for a delegation written now. Its scopes must be a subset
 * of what the user may do *now* (read share-locked, like any exchange) and never what isn't delegable;
 * it lives at most the subject token's remaining life and an hour.
 */
async function exchangeForAgent(ctx: Context, grant: z.infer<typeof TokenExchangeGrant>): Promise<AgentTokenResponse> {
  const subject = await resolveBearer(grant.subject_token, ctx.env, () => ctx.db);
  if (subject.type !== 'user' || subject.organizationId === null) {
    throw new ValidationFailed([
      { path: 'subject_token', message: "The subject token must be an organization member's own user token." },
    ]);
  }
  const authority = await readUserAuthority(ctx, subject.id, subject.organizationId);
  const roleNow = authority.subject.type === 'user' ? authority.subject.role : null;
  // The role read must be the subject organization's own, never another's.
  if (!roleNow || authority.subject.org !== subject.organizationId) {
    throw new NotFound('No such organization, or not a member of it.');
  }
  const issuedAtMs = Math.max(authority.readAt, authority.notBefore);
  const start = Math.floor(issuedAtMs / 1000);
  const wanted = grant.ttl_seconds ?? clampLifetime(Number(ctx.env.ACTOR_TOKEN_TTL_SECONDS ?? '') || undefined);
  const expiresAt = Math.min(subject.token.expiresAt, start + Math.min(wanted, MAX_LIFETIME_SECONDS));
  if (expiresAt - start < 5) {
    throw new ValidationFailed([{ path: 'subject_token', message: 'The subject token expires too soon to delegate.' }]);
  }
  const scopes = scopesOf(grant.scope);
  const delegation = await createDelegation(
    { ...ctx, actor: subject },
    { name: grant.agent.name, scopes, roleNow, expiresAt: new Date(expiresAt * 1000) },
  );
  const response = await signSubject(
    ctx,
    {
      type: 'agent',
      sub: subject.id,
      org: subject.organizationId,
      scopes,
      delegation: delegation.id,
      name: grant.agent.name,
    },
    { now: issuedAtMs / 1000, ttlSeconds: expiresAt - start },
  );
  return {
    ...response,
    issued_token_type: ACCESS_TOKEN_TYPE,
    scope: scopes.join(' '),
    delegation_id: delegation.id,
  };
}

/**
 * What an exchange read and will sign: the token's subject, dated by the database's clock at the read
 * (`readAt`), and never at or before the subject's chain's latest revocation (`notBefore`).
 */
export interface Authority {
  readonly subject: ActorTokenSubject;
  /** Milliseconds since the epoch: the database's clock inside the transaction that share-locked the authority. */
  readonly readAt: number;
  /** Milliseconds since the epoch: one past the latest revocation of the chain this read already saw. */
  readonly notBefore: number;
}

function bootstrap(reason: 'bootstrap:load-user' | 'bootstrap:load-api-key') {
  const system = systemActor('token exchange');
  assertSystemAction(system, reason);
  return bootstrapScope(system.reason);
}

const databaseClock = sql`select (extract(epoch from ${databaseNow}) * 1000)::bigint as "now"`;

function millisecondsOf(result: { rows: unknown[] }): number {
  return Number((result.rows[0] as { now: number | string }).now);
}

/** One millisecond past the latest of these revocation times, or 0. */
function after(times: (Date | null | undefined)[]): number {
  const latest = Math.max(0, ...times.filter((t): t is Date => t instanceof Date).map((t) => t.getTime()));
  return latest === 0 ? 0 : latest + 1;
}

/** The dev grant: finds or creates the user by email (development only). */
async function userForEmail(ctx: Context, email: string): Promise<string> {
  const { db } = ctx;
  const [, found] = await runScoped(db, bootstrap('bootstrap:load-user'), [
    db.insert(users).values({ email }).onConflictDoNothing({ target: users.email }),
    db.select({ id: users.id }).from(users).where(eq(users.email, email)),
  ]);
  const id = found[0]?.id;
  if (!id) throw new Error('user upsert returned no row');
  return id;
}

/**
 * The user an IdP identity signs in as (SPEC §2): the one bound to (`iss`, `sub`); on the identity's
 * first sign-in, the user holding its *verified* email if that user has no identity yet, else a new
 * user (with the email only when verified). An email bound to another identity is refused.
 */
async function userForIdentity(ctx: Context, identity: IdpIdentity): Promise<string> {
  const { db } = ctx;
  const scope = bootstrap('bootstrap:load-user');
  const bound = () =>
    db
      .select({ userId: userIdentities.userId })
      .from(userIdentities)
      .where(and(eq(userIdentities.issuer, identity.issuer), eq(userIdentities.subject, identity.subject)));
  const email = identity.emailVerified ? identity.email : null;
  const [linked, holders] = await runScoped(db, scope, [
    bound(),
    db
      .select({
        id: users.id,
        bound: sql<boolean>`exists (select 1 from user_identities i where i.user_id = ${users.id})`,
      })
      .from(users)
      .where(eq(users.email, email ?? '')),
  ]);
  if (linked[0]) return linked[0].userId;
  const holder = holders[0];
  // Another identity already signs in as the holder of this email: never a second way in by email.
  if (holder?.bound) throw new InvalidToken('The email is bound to another identity.');
  // Link the email's holder, or make a new user; a concurrent first sign-in of the same identity wins once.
  const chosen = holder
    ? sql`select ${holder.id}::uuid as id`
    : sql`insert into users (email, name) values (${email}, ${identity.name}) returning id`;
  const [created, again] = await runScoped(db, scope, [
    db.execute(sql`with chosen as (${chosen})
      insert into user_identities (issuer, subject, user_id)
      select ${identity.issuer}, ${identity.subject}, id from chosen
      on conflict (issuer, subject) do nothing
      returning user_id as "userId"`),
    bound(),
  ]);
  const userId = (created.rows[0] as { userId: string } | undefined)?.userId ?? again[0]?.userId;
  if (!userId) throw new Error('identity link returned no row');
  return userId;
}

/**
 * Reads, share-locked, what a user token for `organization` will carry: the membership's role (or an
 * org-less token), with the database's clock. Exported for the revocation-race tests, which change
 * the membership between this read and the signature.
 */
export async function readUserAuthority(
  ctx: Context,
  userId: string,
  organization: string | undefined,
): Promise<Authority> {
  const { db } = ctx;
  const subject = (org: string | null, role: Role | null): ActorTokenSubject => ({
    type: 'user',
    sub: userId,
    org,
    role,
    sid: crypto.randomUUID(),
  });
  if (organization === undefined) {
    const [clock] = await runScoped(db, bootstrap('bootstrap:load-user'), [db.execute(databaseClock)]);
    return { subject: subject(null, null), readAt: millisecondsOf(clock), notBefore: 0 };
  }
  // One organization at most: a reference shaped like an id is an id, anything else a slug (slugs can't
  // be shaped like ids: `CreateOrganization`). Matching either would let an organization whose slug is
  // another's id stand in for it.
  const orgMatches = UUID.test(organization)
    ? eq(organizations.id, organization)
    : eq(organizations.slug, organization);
  const [membership, revoked, deleting, clock] = await runScoped(db, bootstrap('bootstrap:load-user'), [
    db
      .select({ organizationId: organizations.id, role: memberships.role })
      .from(memberships)
      .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
      .where(and(eq(memberships.userId, userId), orgMatches))
      .for('share', { of: memberships }),
    db
      .select({ at: revocations.revokedAt })
      .from(revocations)
      .innerJoin(organizations, eq(organizations.id, revocations.organizationId))
      .where(and(eq(revocations.subjectId, userId), eq(revocations.subjectType, 'user'), orgMatches)),
    db
      .select({ id: organizationDeletions.id })
      .from(organizationDeletions)
      .innerJoin(organizations, eq(organizations.id, organizationDeletions.organizationId))
      .where(and(orgMatches, ne(organizationDeletions.status, 'failed'))),
    db.execute(databaseClock),
  ]);
  const row = membership[0];
  // Not a member and no such organization look the same: existence is never disclosed. A member of
  // an organization being deleted gets no new token for it (a failed deletion no longer counts).
  if (!row || deleting.length > 0) throw new NotFound('No such organization, or not a member of it.');
  return {
    subject: subject(row.organizationId, toRole(row.role)),
    readAt: millisecondsOf(clock),
    notBefore: after(revoked.map((r) => r.at)),
  };
}

/**
 * Reads, share-locked, what a service token for an API key will carry: the key's scopes capped by what
 * its creator may do now, the creator as the chain's next link, and the database's clock.
 */
export async function readApiKeyAuthority(ctx: Context, secret: string): Promise<Authority> {
  if (!looksLikeApiKeySecret(secret)) throw new InvalidToken('The API key is invalid.');
  const { db } = ctx;
  const hash = await hashApiKeySecret(secret);
  const [keys, creators, creatorRevoked, clock] = await runScoped(db, bootstrap('bootstrap:load-api-key'), [
    db
      .select({
        id: apiKeys.id,
        organizationId: apiKeys.organizationId,
        scopes: apiKeys.scopes,
        createdBy: apiKeys.createdBy,
        revokedAt: apiKeys.revokedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.secretHash, hash))
      .for('share'),
    db
      .select({ role: memberships.role })
      .from(memberships)
      .innerJoin(
        apiKeys,
        and(eq(apiKeys.organizationId, memberships.organizationId), eq(apiKeys.createdBy, memberships.userId)),
      )
      .where(eq(apiKeys.secretHash, hash))
      .for('share', { of: memberships }),
    db
      .select({ at: revocations.revokedAt })
      .from(revocations)
      .innerJoin(
        apiKeys,
        and(eq(apiKeys.organizationId, revocations.organizationId), eq(apiKeys.createdBy, revocations.subjectId)),
      )
      .where(and(eq(apiKeys.secretHash, hash), eq(revocations.subjectType, 'user'))),
    db.execute(databaseClock),
  ]);
  const key = keys[0];
  if (!key) throw new InvalidToken('The API key is invalid.');
  if (key.revokedAt !== null) throw new TokenRevoked('The API key has been revoked.');
  const creator = creators[0];
  const scopes = capToGrantor(key.scopes, creator?.role);
  return {
    subject: { type: 'service', sub: key.id, org: key.organizationId, scopes, grantor: key.createdBy },
    readAt: millisecondsOf(clock),
    notBefore: after(creatorRevoked.map((r) => r.at)),
  };
}

/** Signs what was read, dated by the read (never by now): see the module header. */
export async function signAuthority(
  ctx: Context,
  authority: Authority,
  ttlSeconds: number | undefined,
): Promise<TokenResponse> {
  const fallback = clampLifetime(Number(ctx.env.ACTOR_TOKEN_TTL_SECONDS ?? '') || undefined);
  // Dated by the read, to the millisecond (a NumericDate may be fractional, RFC 7519 §2).
  const now = Math.max(authority.readAt, authority.notBefore) / 1000;
  return signSubject(ctx, authority.subject, { now, ttlSeconds: ttlSeconds ?? fallback });
}

async function signSubject(
  ctx: Context,
  subject: ActorTokenSubject,
  timing: { now: number; ttlSeconds: number },
): Promise<TokenResponse> {
  const keys = await loadActorKeys(ctx.env.ACTOR_SIGNING_KEYS);
  const issued = await signActorToken(keys, subject, {
    issuer: ctx.env.ACTOR_ISSUER,
    audience: ctx.env.ACTOR_AUDIENCE,
    ttlSeconds: timing.ttlSeconds,
    now: timing.now,
  });
  const token = { jti: issued.jti, issuedAt: issued.issuedAt, expiresAt: issued.expiresAt };
  return {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    actor: actorView(actorOf(subject, token)),
  };
}

/** The actor a token for `subject` proves (as the verifier will build it). */
function actorOf(subject: ActorTokenSubject, token: TokenActor['token']): TokenActor {
  switch (subject.type) {
    case 'user':
      return {
        type: 'user',
        id: subject.sub,
        organizationId: subject.org,
        role: subject.role,
        sessionId: subject.sid,
        token,
      };
    case 'service':
      return {
        type: 'service',
        id: subject.sub,
        organizationId: subject.org,
        scopes: subject.scopes,
        grantor: subject.grantor,
        token,
      };
    case 'agent':
      return {
        type: 'agent',
        id: subject.delegation,
        organizationId: subject.org,
        onBehalfOf: { type: 'user', id: subject.sub },
        name: subject.name,
        scopes: subject.scopes,
        token,
      };
  }
}

function toRole(value: string | null | undefined): Role | null {
  return isRole(value) ? value : null;
}
