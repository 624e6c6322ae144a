/**
 * Custom actor types, end to end (SPEC §1; issue 16 item 6): a `bot` proven by a signed webhook
 * credential, added through `registerActorType` alone — the README's "Adding an actor type" is this
 * file's code. It works in guards, `GET /v1/me`, policies, tenancy (row-level security), the audit
 * principal and log lines.
 */
import { env } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isActor } from '../../src/actor/guards.ts';
import { customActorType, registerActorType } from '../../src/actor/registry.ts';
import { requireActor } from '../../src/actor/require.ts';
import { InvalidToken } from '../../src/errors.ts';
import { can } from '../../src/policy/authorize.ts';
import { adminSql } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

// ── The README example ─────────────────────────────────────────────────────────────────────────────
interface BotActor {
  readonly type: 'bot';
  readonly id: string;
  readonly organizationId: string;
}

declare module '../../src/actor/actor.ts' {
  interface CustomActors {
    bot: BotActor;
  }
}

const isBotActor = (v: unknown): v is BotActor =>
  typeof v === 'object' &&
  v !== null &&
  (v as BotActor).type === 'bot' &&
  typeof (v as BotActor).id === 'string' &&
  typeof (v as BotActor).organizationId === 'string';

/** The webhook's shared secret (in a real deployment: a Worker secret). */
const WEBHOOK_SECRET = 'a-shared-secret-for-the-test-only';

async function hmac(message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(WEBHOOK_SECRET),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** `Authorization: Webhook <bot id>.<organization id>.<HMAC-SHA256 of both, hex>` */
async function verifyWebhookCredential(credential: string): Promise<BotActor> {
  const [id, organizationId, mac] = credential.split('.');
  if (!id || !organizationId || !mac) throw new InvalidToken();
  const expected = await hmac(`${id}.${organizationId}`);
  // Constant-time enough for a test: compare digests of equal length.
  if (mac.length !== expected.length || mac !== expected) throw new InvalidToken();
  return Object.freeze({ type: 'bot', id, organizationId });
}

function register() {
  if (customActorType({ type: 'bot', id: 'x', organizationId: 'y' })) return; // once per module instance
  registerActorType<BotActor>('bot', {
    is: isBotActor,
    view: (bot) => ({ type: 'bot', id: bot.id, organizationId: bot.organizationId }),
    principal: (bot) => ({ type: 'bot', id: bot.id }),
    permissions: () => new Set(['documents:read'] as const),
    credential: { scheme: 'Webhook', verify: verifyWebhookCredential },
  });
}
// ───────────────────────────────────────────────────────────────────────────────────────────────────

describe('a custom actor type registered with registerActorType', () => {
  let t: Tenant;
  let credential: string;
  const botId = crypto.randomUUID();

  beforeAll(async () => {
    register();
    t = await createTenant();
    credential = `${botId}.${t.id}.${await hmac(`${botId}.${t.id}`)}`;
  });
  afterEach(() => vi.restoreAllMocks());

  // The Worker as this module instance has it (the registration lives in the isolate's module graph).
  const asBot = (method: string, path: string, body?: unknown, auth = `Webhook ${credential}`) =>
    call(method, path, { headers: { authorization: auth }, body, env });

  it('is an actor to the guards and to requireActor, typed', () => {
    const bot: BotActor = { type: 'bot', id: botId, organizationId: 'o' };
    expect(isActor(bot)).toBe(true);
    expect(isActor({ type: 'bot', id: 42 })).toBe(false);
    const narrowed = requireActor({ actor: bot }, { type: 'bot' });
    expect(narrowed.organizationId).toBe('o');
    expect(can(bot, 'documents:read')).toBe(true);
    expect(can(bot, 'documents:write')).toBe(false);
  });

  it('is proven by its credential and shown by GET /v1/me', async () => {
    const me = await asBot('GET', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ actor: { type: 'bot', id: botId, organizationId: t.id } });
    const forged = await asBot('GET', '/v1/me', undefined, `Webhook ${botId}.${t.id}.${'0'.repeat(64)}`);
    expect([forged.status, errorCode(forged.body)]).toEqual([401, 'INVALID_TOKEN']);
    const unknownScheme = await asBot('GET', '/v1/me', undefined, 'Robot abc');
    expect([unknownScheme.status, errorCode(unknownScheme.body)]).toEqual([401, 'INVALID_TOKEN']);
  });

  it('acts in its organization through the policies, under row-level security, audited as itself', async () => {
    const doc = await createDoc(t.tokens.editor, { title: 'For the bot' });
    const other = await createTenant();
    const foreign = await createDoc(other.tokens.editor, { title: 'Not for the bot' });
    const read = await asBot('GET', `/v1/documents/${doc.id}`);
    expect([read.status, (read.body as { document: { title: string } }).document?.title]).toEqual([200, 'For the bot']);
    expect((await asBot('GET', `/v1/documents/${foreign.id}`)).status).toBe(404);
    const list = await asBot('GET', '/v1/documents');
    expect((list.body as { documents: { id: string }[] }).documents.map((d) => d.id)).toContain(doc.id);

    const log = vi.spyOn(console, 'log');
    const write = await asBot('POST', '/v1/documents', { title: 'no' });
    expect([write.status, errorCode(write.body)]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
    const requestId = write.headers.get('x-request-id')!;
    const [event] =
      await adminSql()`select actor_type, actor_id, outcome from audit_events where request_id = ${requestId}`;
    expect(event).toEqual({ actor_type: 'bot', actor_id: botId, outcome: 'denied' });
    const line = log.mock.calls.map((c) => JSON.parse(String(c[0]))).find((l) => l.requestId === requestId);
    expect(line).toMatchObject({ msg: 'request', actor: { type: 'bot', id: botId }, organizationId: t.id });
  });

  it('can never take a built-in type or a taken scheme', () => {
    const isUserLike = (v: unknown): v is { type: 'user' } => false;
    expect(() =>
      registerActorType<{ type: 'user' }>('user', {
        is: isUserLike,
        view: () => ({}),
        principal: () => ({ type: 'user', id: '' }),
      }),
    ).toThrow();
    expect(() =>
      registerActorType('robot', {
        is: (v: unknown): v is { type: 'robot' } => false,
        view: () => ({}),
        principal: () => ({ type: 'robot', id: '' }),
        credential: { scheme: 'Bearer', verify: async () => ({ type: 'robot' }) },
      }),
    ).toThrow();
  });
});
