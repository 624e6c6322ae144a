import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import { executionContext } from '../support/http.ts';
import { atFreshWindow, tightLimiter } from '../support/rate-limit.ts';

function exchange(ip: string, limiter: RateLimit) {
  const request = new Request('http://signet.test/v1/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
    body: JSON.stringify({ grant_type: 'dev', email: `limited-${crypto.randomUUID()}@example.com` }),
  });
  return worker.fetch(request, { ...env, AUTH_RATE_LIMIT: limiter }, executionContext);
}

describe('token exchange rate limit', () => {
  it('answers 429 RATE_LIMITED with retry-after once a client exceeds the limit, per client', async () => {
    // The Workers Rate Limiting binding itself, configured tight for the test (3 per 10 s).
    const tight = tightLimiter();
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const statuses = [];
    await atFreshWindow();
    for (let i = 0; i < 4; i++) statuses.push((await exchange(ip, tight)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await exchange(ip, tight);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    // Another client is not affected.
    expect((await exchange('203.0.113.7', tight)).status).toBe(200);
  });
});
