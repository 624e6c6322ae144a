/** The claims of an actor token (SPEC §2) and the limits on its lifetime. */

export const ACTOR_TOKEN_TYPE = 'actor+jwt';
/** The `act.sub` of an agent token: `agent:<delegation id>`. */
export const AGENT_SUBJECT_PREFIX = 'agent:';
export const MAX_LIFETIME_SECONDS = 3600;
export const DEFAULT_LIFETIME_SECONDS = 900;
export const MAX_CLOCK_TOLERANCE_SECONDS = 30;
/** Larger tokens are refused before any parsing: a real one is well under 1 KiB. */
export const MAX_TOKEN_LENGTH = 4096;

/**
 * Whether a token with this `exp` is expired at `now` (seconds), given the clock tolerance: the one
 * predicate the verifier and the verified-token cache share, so neither accepts what the other refuses.
 *
 * @example
 * isExpired(1000, 1030) // true: exactly exp + 30 s is expired
 */
export function isExpired(exp: number, now: number, tolerance: number = MAX_CLOCK_TOLERANCE_SECONDS): boolean {
  return exp <= now - tolerance;
}

/** The lifetime a caller asked for, clamped to SPEC §2's limits (at least 5 s, at most 1 h). */
export function clampLifetime(seconds: number | undefined, fallback: number = DEFAULT_LIFETIME_SECONDS): number {
  const value = seconds ?? fallback;
  if (!Number.isFinite(value)) return DEFAULT_LIFETIME_SECONDS;
  return Math.min(MAX_LIFETIME_SECONDS, Math.max(5, Math.floor(value)));
}
