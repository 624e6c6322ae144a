import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import { allowedOrigins } from '../../src/http/cors.ts';
import { call, type ErrorBody } from '../support/http.ts';

const APP = 'https://app.example';
const withOrigins = (origins: string) => ({ ...(env as unknown as Env), CORS_ALLOWED_ORIGINS: origins });
const preflightHeaders = (origin: string, method = 'POST', headers = 'authorization, content-type') => ({
  origin,
  'access-control-request-method': method,
  'access-control-request-headers': headers,
});

describe('CORS (SPEC §5)', () => {
  it('with no allowed origins (the default), answers no cross-origin request and refuses every preflight', async () => {
    const simple = await call('GET', '/health', { headers: { origin: APP } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await call('OPTIONS', '/v1/documents', { headers: preflightHeaders(APP) });
    expect(pre.status).toBe(400);
    expect((pre.body as ErrorBody).error.code).toBe('VALIDATION_FAILED');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('x-request-id')).toBeTruthy();
  });

  it("answers a listed origin's preflight for the API's methods and headers, without credentials", async () => {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      const pre = await call('OPTIONS', '/v1/documents/0b7e8a8e-4f5c-4d3a-9a57-3c1f2e6d9b10', {
        headers: preflightHeaders(APP, method),
        env: withOrigins(`https://other.example ${APP}`),
      });
      expect(pre.status, method).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
      expect(pre.headers.get('access-control-allow-methods')).toContain(method);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization.*content-type/);
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
      expect(pre.headers.get('vary')).toMatch(/Origin/);
    }
  });

  it('refuses a preflight for an unlisted origin, method or header, never reflecting the origin', async () => {
    const origins = withOrigins(APP);
    const cases = [
      preflightHeaders('https://evil.example'),
      preflightHeaders(`${APP}.evil.example`),
      preflightHeaders('null'),
      preflightHeaders(APP, 'PUT'),
      preflightHeaders(APP, 'POST', 'authorization, x-tenant'),
    ];
    for (const headers of cases) {
      const pre = await call('OPTIONS', '/v1/documents', { headers, env: origins });
      expect(pre.status, JSON.stringify(headers)).toBe(400);
      expect((pre.body as ErrorBody).error.code).toBe('VALIDATION_FAILED');
      if (headers.origin !== APP) expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('lets a listed origin read answers, errors included, with x-request-id and retry-after exposed', async () => {
    const origins = withOrigins(APP);
    const ok = await call('GET', '/v1/me', { headers: { origin: APP }, env: origins });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    expect(ok.headers.get('vary')).toMatch(/Origin/);
    const refused = await call('GET', '/v1/documents', { headers: { origin: APP }, token: 'x.y.z', env: origins });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
    const other = await call('GET', '/v1/me', { headers: { origin: 'https://evil.example' }, env: origins });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-expose-headers')).toBeNull();
  });

  it('takes exact origins only: a wildcard, a path or garbage allows nothing', () => {
    expect([...allowedOrigins('*')]).toEqual([]);
    expect([...allowedOrigins('https://app.example/path not-a-url ftp://x.example')]).toEqual([]);
    expect([...allowedOrigins(' https://a.example  http://localhost:5173/ ')]).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    expect([...allowedOrigins(undefined)]).toEqual([]);
  });
});
