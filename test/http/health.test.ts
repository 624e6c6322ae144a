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

describe('unknown routes', () => {
  it('answer 404 in the error envelope', async () => {
    const response = await SELF.fetch('http://signet.test/nope/nothing');
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.requestId).toBe(response.headers.get('x-request-id'));
  });
});
