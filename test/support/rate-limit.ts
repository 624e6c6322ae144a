/**
 * The tight Workers Rate Limiting binding the tests configure (3 per 10 s, in vitest.config.ts), and a way to
 * run a burst against it inside one of its windows.
 *
 * The local binding counts in windows aligned to the wall clock (`floor(now / period)`), as the hosted one
 * does: a burst that straddles a boundary is counted in two windows, and a test expecting the fourth call
 * refused sees it admitted. That happened in CI. So a burst starts only with most of a window ahead of it.
 */
import { env } from 'cloudflare:test';

const PERIOD_MS = 10_000;
/** A burst needs well under a second even on a slow machine; leave it three. */
const HEADROOM_MS = 3_000;

export function tightLimiter(): RateLimit {
  return (env as unknown as { TEST_TIGHT_RATE_LIMIT: RateLimit }).TEST_TIGHT_RATE_LIMIT;
}

/** Resolves at once when the current window has `HEADROOM_MS` left, else just after the next window opens. */
export async function atFreshWindow(): Promise<void> {
  const left = PERIOD_MS - (Date.now() % PERIOD_MS);
  if (left < HEADROOM_MS) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
