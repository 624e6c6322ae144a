/**
 * Rate limits at the edge (SPEC §3: 429 `RATE_LIMITED` with `retry-after`), on the Workers Rate Limiting
 * API: counted per client address (`cf-connecting-ip`, set by Cloudflare — never a header a client can
 * choose) and per Cloudflare location, in 10-second windows.
 */
import { RateLimited } from '../errors.ts';

const WINDOW_SECONDS = 10;

export async function limitTokenExchange(request: Request, limiter: RateLimit | undefined): Promise<void> {
  if (!limiter) return; // no binding configured (e.g. a custom deployment): no edge limit
  const client = request.headers.get('cf-connecting-ip') ?? 'local';
  const { success } = await limiter.limit({ key: `token-exchange:${client}` });
  if (!success) throw new RateLimited(WINDOW_SECONDS, 'Too many token exchanges; retry later.');
}
