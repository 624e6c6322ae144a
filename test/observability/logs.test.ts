import { afterEach, describe, expect, it, vi } from 'vitest';
import { signedToken, userSubject } from '../support/actors.ts';
import { call, type ErrorBody } from '../support/http.ts';
import { createDoc, createTenant } from '../support/tenants.ts';

function lines(spy: { mock: { calls: unknown[][] } }): Record<string, unknown>[] {
  return spy.mock.calls.flatMap((args) => {
    try {
      return [JSON.parse(String(args[0])) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('structured request logs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('log one JSON line per request with request id, actor, organization, route, status and duration — and no token', async () => {
    const t = await createTenant();
    const doc = await createDoc(t.tokens.editor, { body: 'SECRET-BODY-TEXT' });
    const info = vi.spyOn(console, 'log');
    const response = await call('GET', `/v1/documents/${doc.id}?`, { token: t.tokens.editor });
    const requestId = response.headers.get('x-request-id');
    const line = lines(info).find((l) => l.requestId === requestId);
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      route: '/v1/documents/:id',
      status: 200,
      actor: { type: 'user', id: t.userIds.editor },
      organizationId: t.id,
      durationMs: expect.any(Number),
    });
    const text = JSON.stringify(info.mock.calls);
    expect(text).not.toContain(t.tokens.editor.split('.')[2]);
    expect(text).not.toContain('SECRET-BODY-TEXT');
  });

  it('log refusals with their status and the guest actor', async () => {
    const info = vi.spyOn(console, 'log');
    const response = await call('GET', '/v1/members');
    const line = lines(info).find((l) => l.requestId === response.headers.get('x-request-id'));
    expect(line).toMatchObject({ status: 401, route: '/v1/members', actor: { type: 'guest' } });
  });

  it('log a request refused before routing (an expired token) with the route it was for', async () => {
    const expired = await signedToken(userSubject(), { ttlSeconds: 60, now: Math.floor(Date.now() / 1000) - 600 });
    const info = vi.spyOn(console, 'log');
    const response = await call('GET', `/v1/documents/${crypto.randomUUID()}`, { token: expired });
    expect((response.body as ErrorBody).error.code).toBe('TOKEN_EXPIRED');
    const line = lines(info).find((l) => l.requestId === response.headers.get('x-request-id'));
    expect(line).toMatchObject({ status: 401, route: '/v1/documents/:id' });
    const nowhere = await call('GET', '/v1/nowhere', { token: expired });
    expect(lines(info).find((l) => l.requestId === nowhere.headers.get('x-request-id'))).toMatchObject({
      status: 401,
      route: 'unmatched',
    });
  });
});
