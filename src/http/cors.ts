/**
 * CORS (SPEC §5): browsers on the origins listed in `CORS_ALLOWED_ORIGINS` (space-separated, exact
 * `scheme://host[:port]`; empty or absent: same-origin only) may call the API. Tokens travel in
 * `Authorization`, never in cookies, so there is no credentials mode and `*` is never sent: an allowed
 * origin is echoed exactly, an unlisted one gets no CORS header at all (the browser then refuses to hand
 * the response to the page). Preflights for the API's methods and headers are answered here, before any
 * actor is resolved; a preflight that asks for something not allowed is a 400 in the SPEC's envelope.
 * Not here: WebSocket upgrades (browsers don't apply CORS to them; the room checks its credentials).
 */
import { ValidationFailed } from '../errors.ts';

const METHODS = ['GET', 'POST', 'PATCH', 'DELETE'];
/** What a browser may send beyond the CORS-safelisted headers. */
const HEADERS = ['authorization', 'content-type'];
/** What a page may read beyond the CORS-safelisted response headers. */
const EXPOSED = ['x-request-id', 'retry-after'];
/** How long a browser may cache a preflight's answer (Chromium caps it at 2 hours). */
const MAX_AGE_SECONDS = 600;

/** The allowlist: exact origins only. A malformed entry (or `*`) allows nothing rather than everything. */
export function allowedOrigins(setting: string | undefined): ReadonlySet<string> {
  const origins = new Set<string>();
  for (const entry of (setting ?? '').split(/\s+/)) {
    if (!entry) continue;
    try {
      const url = new URL(entry);
      if ((url.protocol === 'https:' || url.protocol === 'http:') && url.origin === entry.replace(/\/$/, '')) {
        origins.add(url.origin);
      }
    } catch {
      // not an origin: ignored
    }
  }
  return origins;
}

export function isPreflight(request: Request): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.has('origin') &&
    request.headers.has('access-control-request-method')
  );
}

/** Answers a preflight: 204 with the allowance for a listed origin, asking for allowed methods and headers. */
export function preflight(request: Request, allowed: ReadonlySet<string>): Response {
  const origin = request.headers.get('origin') ?? '';
  if (!allowed.has(origin)) {
    throw new ValidationFailed([{ path: 'origin', message: 'This origin may not call the API from a browser.' }]);
  }
  const method = (request.headers.get('access-control-request-method') ?? '').toUpperCase();
  if (!METHODS.includes(method)) {
    throw new ValidationFailed([{ path: 'access-control-request-method', message: 'Method not allowed.' }]);
  }
  const asked = (request.headers.get('access-control-request-headers') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (asked.some((h) => !HEADERS.includes(h) && h !== 'accept')) {
    throw new ValidationFailed([{ path: 'access-control-request-headers', message: 'Header not allowed.' }]);
  }
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': METHODS.join(', '),
      'access-control-allow-headers': [...HEADERS, 'accept'].join(', '),
      'access-control-max-age': String(MAX_AGE_SECONDS),
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    },
  });
}

/** Stamps a response (success or error) for a listed origin; every response varies by `Origin`. */
export function withCors(headers: Headers, request: Request, allowed: ReadonlySet<string>): void {
  if (allowed.size === 0 || headers.has('access-control-allow-origin')) return;
  headers.append('vary', 'Origin');
  const origin = request.headers.get('origin');
  if (origin === null || !allowed.has(origin)) return;
  headers.set('access-control-allow-origin', origin);
  headers.set('access-control-expose-headers', EXPOSED.join(', '));
}
