/**
 * Rate limits at the edge (SPEC §3: 429 `RATE_LIMITED` with `retry-after`), on the Workers Rate Limiting
 * API, per Cloudflare location: token exchanges per client address (`cf-connecting-ip`, set by
 * Cloudflare — never a header a client can choose) in 10-second windows; organization creation per user
 * in 60-second windows. (Refused attempts are limited per actor where they are audited: services/action.ts.)
 */
import { RateLimited } from '../errors.ts';

const WINDOW_SECONDS = 10;

export async function limitTokenExchange(request: Request, limiter: RateLimit | undefined): Promise<void> {
  if (!limiter) return; // no binding configured (e.g. a custom deployment): no edge limit
  const client = request.headers.get('cf-connecting-ip') ?? 'local';
  const { success } = await limiter.limit({ key: `token-exchange:${client}` });
  if (!success) throw new RateLimited(WINDOW_SECONDS, 'Too many token exchanges; retry later.');
}

export async function limitOrganizationCreation(userId: string, limiter: RateLimit | undefined): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key: `organization-create:${userId}` });
  if (!success) throw new RateLimited(60, 'Too many organizations created; retry later.');
}
