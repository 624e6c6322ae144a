import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

describe('GET /health', () => {
  it('answers ok with a request id', async () => {
    const response = await SELF.fetch('http://signet.test/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives each request its own id', async () => {
    const [a, b] = await Promise.all([
      SELF.fetch('http://signet.test/health'),
      SELF.fetch('http://signet.test/health'),
    ]);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});

describe('HEAD', () => {
  it('answers as GET does, without the body (RFC 9110; health checkers send it)', async () => {
    for (const path of ['/health', '/openapi.json', '/.well-known/jwks.json', '/v1/me']) {
      const [head, get] = await Promise.all([
        SELF.fetch(`http://signet.test${path}`, { method: 'HEAD' }),
        SELF.fetch(`http://signet.test${path}`),
      ]);
      expect([path, head.status]).toEqual([path, get.status]);
      expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
      expect(await head.text()).toBe('');
    }
    // An unknown route is as unknown.
    expect((await SELF.fetch('http://signet.test/nope', { method: 'HEAD' })).status).toBe(404);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error envelope', async () => {
    const response = await SELF.fetch('http://signet.test/nope/nothing');
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
  });
});
