/** Small HTTP helpers over `SELF` (the Worker under test), or the Worker called with another `env`. */
import { SELF } from 'cloudflare:test';
import type { Env } from '../../src/env.ts';
import worker from '../../src/index.ts';

/** An execution context for calling the Worker directly (`worker.fetch(request, env, executionContext)`). */
export const executionContext = {
  waitUntil() {},
  passThroughOnException() {},
  props: {},
} as unknown as ExecutionContext;

export const BASE = 'http://signet.test';

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown };
}

export async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string>; env?: Env } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = options.env
    ? await worker.fetch(new Request(`${BASE}${path}`, { method, headers, body }), options.env, executionContext)
    : await SELF.fetch(`${BASE}${path}`, { method, headers, body });
  const text = await response.text();
  assertNoSecrets(method, path, text);
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
const API_KEY = /sgk_[A-Za-z0-9_-]{43}/;
const PRIVATE_JWK = /"d"\s*:\s*"[A-Za-z0-9_-]{30,}"/;

/**
 * Every response of the suite is checked: tokens only come out of `POST /v1/auth/token`, an API key
 * secret only out of its creation, and private key material never.
 */
function assertNoSecrets(method: string, path: string, text: string): void {
  if (PRIVATE_JWK.test(text)) throw new Error(`${method} ${path} answered with private key material`);
  if (JWT.test(text) && !(method === 'POST' && path === '/v1/auth/token'))
    throw new Error(`${method} ${path} answered with a token`);
  if (API_KEY.test(text) && !(method === 'POST' && path === '/v1/api-keys')) {
    throw new Error(`${method} ${path} answered with an API key secret`);
  }
}

export function errorCode(body: unknown): string | undefined {
  return (body as ErrorBody | null)?.error?.code;
}
