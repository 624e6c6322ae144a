/**
 * Delegated agents (SPEC §1, §2 token exchange, §3 delegations, §4 rooms; issue 18): a user hands part
 * of their authority to an agent; the chain (agent → user) is visible in tokens, audit and rooms, and
 * revocable everywhere.
 */
import { env } from 'cloudflare:test';
import fc from 'fast-check';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { resolveBearer } from '../../src/identity/resolve-bearer.ts';
import { NEVER_DELEGATED, permissionsOfActor } from '../../src/policy/authorize.ts';
import { PERMISSIONS, type Permission, permissionsOf, type Role } from '../../src/policy/permissions.ts';
import { craftToken, devToken, signedToken, validClaims, validHeader } from '../support/actors.ts';
import { adminSql } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { connected } from '../support/sockets.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';
import { withTimeout } from '../support/timeout.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';

interface AgentTokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  issued_token_type: string;
  scope: string;
  delegation_id: string;
  actor: { type: string; id: string; onBehalfOf: { type: string; id: string }; name: string; scopes: string[] };
}

function exchange(subject: string, scope: string, extra: Record<string, unknown> = {}) {
  return call('POST', '/v1/auth/token', {
    body: {
      grant_type: GRANT,
      subject_token: subject,
      subject_token_type: ACCESS,
      scope,
      agent: { name: 'drafting assistant' },
      ...extra,
    },
  });
}

async function agentToken(subject: string, scope: string, extra: Record<string, unknown> = {}) {
  const response = await exchange(subject, scope, extra);
  if (response.status !== 200) throw new Error(`exchange: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as AgentTokenBody;
}

describe('the token-exchange grant', () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await createTenant();
  });

  it('turns a member’s own token into an agent token naming the user (sub) and the agent (act)', async () => {
    const body = await agentToken(t.tokens.editor, 'documents:read documents:write');
    expect(body).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: ACCESS,
      scope: 'documents:read documents:write',
      actor: {
        type: 'agent',
        id: body.delegation_id,
        onBehalfOf: { type: 'user', id: t.userIds.editor },
        name: 'drafting assistant',
        scopes: ['documents:read', 'documents:write'],
      },
    });
    // It is RFC 8693-shaped, and any party verifies it with a stock JOSE library and our JWKS.
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({
      sub: t.userIds.editor,
      actor_type: 'agent',
      org: t.id,
      scope: 'documents:read documents:write',
      act: { sub: `agent:${body.delegation_id}`, name: 'drafting assistant' },
    });
    const jwks = (await call('GET', '/.well-known/jwks.json')).body as JSONWebKeySet;
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
      issuer: env.ACTOR_ISSUER,
      audience: env.ACTOR_AUDIENCE,
    });
    expect(payload.act).toEqual({ sub: `agent:${body.delegation_id}`, name: 'drafting assistant' });
    // `GET /v1/me` shows the agent with its user.
    const me = await call('GET', '/v1/me', { token: body.access_token });
    expect((me.body as { actor: unknown }).actor).toMatchObject({
      type: 'agent',
      onBehalfOf: { id: t.userIds.editor },
    });
    // The delegation is recorded, with its audit event, as the user.
    const [row] =
      await adminSql()`select user_id, agent_name, scopes, ended_at from delegations where id = ${body.delegation_id}`;
    expect(row).toMatchObject({ user_id: t.userIds.editor, agent_name: 'drafting assistant', ended_at: null });
    const [event] = await adminSql()`select actor_type, actor_id, outcome from audit_events
      where action = 'delegations.create' and resource_id = ${body.delegation_id}`;
    expect(event).toEqual({ actor_type: 'user', actor_id: t.userIds.editor, outcome: 'success' });
  });

  it('lives no longer than the subject token, and at most an hour', async () => {
    const short = await devToken(t.emails.editor, t.slug, 120);
    const body = await agentToken(short, 'documents:read', { ttl_seconds: 3600 });
    expect(body.expires_in).toBeLessThanOrEqual(120);
    const { exp } = decodeJwt(body.access_token);
    expect(exp).toBeLessThanOrEqual(decodeJwt(short).exp!);
    const long = await agentToken(t.tokens.editor, 'documents:read', { ttl_seconds: 600 });
    expect(long.expires_in).toBeLessThanOrEqual(600);
  });

  it.each([
    ['a scope the user lacks', 'viewer', 'documents:write', 403, 'INSUFFICIENT_PERMISSIONS'],
    ['api_keys:write, never delegated', 'owner', 'api_keys:write', 403, 'INSUFFICIENT_PERMISSIONS'],
    ['members:write, never delegated', 'admin', 'documents:read members:write', 403, 'INSUFFICIENT_PERMISSIONS'],
    ['org:delete, never delegated', 'owner', 'org:delete', 403, 'INSUFFICIENT_PERMISSIONS'],
    ['an unknown scope', 'editor', 'documents:read root', 400, 'VALIDATION_FAILED'],
    ['a duplicate scope', 'editor', 'documents:read documents:read', 400, 'VALIDATION_FAILED'],
    ['an empty scope', 'editor', '', 400, 'VALIDATION_FAILED'],
    ['a double space', 'editor', 'documents:read  rooms:join', 400, 'VALIDATION_FAILED'],
  ] as const)('refuses %s', async (_name, who, scope, status, code) => {
    const response = await exchange(t.tokens[who], scope);
    expect([response.status, errorCode(response.body)]).toEqual([status, code]);
    if (status === 403) {
      const [event] = await adminSql()`select outcome, actor_id from audit_events
        where request_id = ${response.headers.get('x-request-id')!}`;
      expect(event).toEqual({ outcome: 'denied', actor_id: t.userIds[who] });
    }
  });

  it('refuses every subject that is not a member’s own live user token, with the SPEC’s codes', async () => {
    const agent = await agentToken(t.tokens.editor, 'documents:read');
    const orgless = await devToken(t.emails.editor);
    const expired = await signedToken(
      { type: 'user', sub: t.userIds.editor, org: t.id, role: 'editor', sid: crypto.randomUUID() },
      { ttlSeconds: 60, now: Math.floor(Date.now() / 1000) - 200 },
    );
    const foreign = await craftToken(validHeader({ kid: 'someone-else' }), validClaims());
    const cases: [string, string, number, string][] = [
      ['a service token', t.tokens.service, 400, 'VALIDATION_FAILED'],
      ['an agent token', agent.access_token, 400, 'VALIDATION_FAILED'],
      ['an org-less user token', orgless, 400, 'VALIDATION_FAILED'],
      ['an expired token', expired, 401, 'TOKEN_EXPIRED'],
      ['a foreign token', foreign, 401, 'INVALID_TOKEN'],
      ['a malformed token', 'not.a.token', 401, 'INVALID_TOKEN'],
    ];
    for (const [name, subject, status, code] of cases) {
      const response = await exchange(subject, 'documents:read');
      expect([response.status, errorCode(response.body)], name).toEqual([status, code]);
    }
    const gone = await createTenant();
    await call('DELETE', `/v1/members/${gone.userIds.viewer}`, { token: gone.tokens.owner });
    const revoked = await exchange(gone.tokens.viewer, 'documents:read');
    expect([revoked.status, errorCode(revoked.body)]).toEqual([401, 'TOKEN_REVOKED']);
    const wrongType = await exchange(t.tokens.editor, 'documents:read', { subject_token_type: 'urn:x' });
    expect(wrongType.status).toBe(400);
  });
});

describe('an agent at work', () => {
  it('acts within its scopes, audited as the agent on behalf of its user, denials included', async () => {
    const t = await createTenant();
    const agent = await agentToken(t.tokens.editor, 'documents:read documents:write');
    const created = await call('POST', '/v1/documents', { token: agent.access_token, body: { title: 'Drafted' } });
    expect(created.status).toBe(201);
    const docId = (created.body as { document: { id: string } }).document.id;
    const refused = await call('DELETE', `/v1/documents/${docId}`, { token: agent.access_token });
    expect(refused.status).toBe(403);
    const noKeys = await call('POST', '/v1/api-keys', {
      token: agent.access_token,
      body: { name: 'x', scopes: ['documents:read'] },
    });
    expect(noKeys.status).toBe(403);
    const audit = (await call('GET', '/v1/audit?limit=100', { token: t.tokens.owner })).body as {
      events: { requestId: string; actor: unknown; onBehalfOf?: unknown; outcome: string }[];
    };
    for (const response of [created, refused, noKeys]) {
      const event = audit.events.find((e) => e.requestId === response.headers.get('x-request-id'));
      expect(event, String(response.status)).toMatchObject({
        actor: { type: 'agent', id: agent.delegation_id },
        onBehalfOf: { type: 'user', id: t.userIds.editor },
      });
    }
    // Nor may it delegate further, or list or end delegations.
    expect((await exchange(agent.access_token, 'documents:read')).status).toBe(400);
    expect((await call('GET', '/v1/delegations', { token: agent.access_token })).status).toBe(403);
  });

  it('joins and publishes in rooms per its scopes, shown with its user and name', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const reader = await agentToken(t.tokens.editor, 'rooms:join');
    const writer = await agentToken(t.tokens.editor, 'rooms:join rooms:publish');
    const watcher = await connected(doc.id, t.tokens.viewer);
    const a = await connected(doc.id, reader.access_token);
    const welcome = await a.next((f) => f.type === 'welcome');
    expect(welcome.actor).toEqual({
      type: 'agent',
      id: reader.delegation_id,
      onBehalfOf: { type: 'user', id: t.userIds.editor },
      name: 'drafting assistant',
    });
    a.send({ type: 'publish', data: 'nope' });
    expect((await a.next((f) => f.type === 'error')).code).toBe('INSUFFICIENT_PERMISSIONS');
    const b = await connected(doc.id, writer.access_token);
    b.send({ type: 'publish', data: { cursor: 1 } });
    const message = await watcher.next((f) => f.type === 'message');
    expect((message.from as { actor: unknown }).actor).toMatchObject({ type: 'agent', id: writer.delegation_id });
    for (const c of [watcher, a, b]) c.ws.close(1000);
  });
});

describe('revoking an agent', () => {
  it('ending the delegation refuses its tokens at once and closes its sockets with 4003', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const agent = await agentToken(t.tokens.editor, 'documents:read rooms:join');
    const socket = await connected(doc.id, agent.access_token);
    const listed = await call('GET', '/v1/delegations', { token: t.tokens.editor });
    expect((listed.body as { delegations: { id: string; endedAt: null }[] }).delegations).toEqual([
      expect.objectContaining({ id: agent.delegation_id, endedAt: null, agent: { name: 'drafting assistant' } }),
    ]);
    // Another user can neither see nor end it.
    expect((await call('GET', '/v1/delegations', { token: t.tokens.owner })).body).toEqual({ delegations: [] });
    expect((await call('DELETE', `/v1/delegations/${agent.delegation_id}`, { token: t.tokens.owner })).status).toBe(
      404,
    );
    expect((await call('DELETE', `/v1/delegations/${agent.delegation_id}`, { token: t.tokens.editor })).status).toBe(
      204,
    );
    const after = await call('GET', `/v1/documents/${doc.id}`, { token: agent.access_token });
    expect([after.status, errorCode(after.body)]).toEqual([401, 'TOKEN_REVOKED']);
    expect((await withTimeout(socket.closed, 2000, 'delegation end close')).code).toBe(4003);
    expect((await call('DELETE', `/v1/delegations/${agent.delegation_id}`, { token: t.tokens.editor })).status).toBe(
      404,
    );
  });

  it.each([
    [
      'demoted',
      (t: Tenant) =>
        call('PATCH', `/v1/members/${t.userIds.editor}`, { token: t.tokens.owner, body: { role: 'viewer' } }),
    ],
    ['removed', (t: Tenant) => call('DELETE', `/v1/members/${t.userIds.editor}`, { token: t.tokens.owner })],
  ])('the user %s: the agent’s tokens are refused and its sockets closed', async (_name, change) => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.owner);
    const agent = await agentToken(t.tokens.editor, 'documents:read rooms:join');
    const socket = await connected(doc.id, agent.access_token);
    expect([200, 204]).toContain((await change(t)).status);
    const after = await call('GET', `/v1/documents/${doc.id}`, { token: agent.access_token });
    expect([after.status, errorCode(after.body)]).toEqual([401, 'TOKEN_REVOKED']);
    expect((await withTimeout(socket.closed, 2000, 'user revocation close')).code).toBe(4003);
  });
});

describe('derived authority of agents, as a property', () => {
  const roles: Role[] = ['viewer', 'editor', 'admin', 'owner'];
  it('an agent may do p exactly when p is in its scopes and its user may do p', { timeout: 240_000 }, async () => {
    const t = await createTenant();
    const db = () => openDatabase(env);
    let current: Role = 'editor';
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...roles.filter((r) => r !== 'owner')),
        fc.subarray([...PERMISSIONS], { minLength: 1 }),
        async (role, scopes: Permission[]) => {
          if (role !== current) {
            const r = await call('PATCH', `/v1/members/${t.userIds.editor}`, { token: t.tokens.owner, body: { role } });
            expect(r.status).toBe(200);
            current = role;
          }
          const user = await devToken(t.emails.editor, t.slug);
          const response = await exchange(user, scopes.join(' '));
          const allowed = permissionsOf(role);
          const delegable = scopes.every((p) => allowed.has(p) && !NEVER_DELEGATED.has(p));
          expect(response.status).toBe(delegable ? 200 : 403);
          if (!delegable) return;
          const agent = await resolveBearer((response.body as AgentTokenBody).access_token, env, db);
          const effective = [...permissionsOfActor(agent)].sort();
          const expected = PERMISSIONS.filter((p) => scopes.includes(p) && allowed.has(p)).sort();
          expect(effective).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
  });
});
