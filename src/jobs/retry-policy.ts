/**
 * How the consumer treats a failed attempt. Permanent failures (`isPermanentFailure` of `errors.ts`: the
 * actor may not, the document is gone) fail the job at once; anything else — the database unreachable,
 * an unexpected error — is transient and retried with exponential backoff, up to the queue's
 * `max_retries`. The attempt after the last retry records the job as failed and hands the message back,
 * which makes the platform move it to the dead-letter queue.
 *
 * Pure values and functions: no bindings, so Node-side tests can check them against `wrangler.toml`.
 */

/** `max_retries` of the `signet-jobs` consumer in `wrangler.toml` (a Node test keeps them equal). */
export const MAX_RETRIES = 3;

/** Deliveries of one message: the first one and its retries. `message.attempts` counts from 1. */
export const MAX_DELIVERIES = MAX_RETRIES + 1;

/** Jobs still unfinished this long after their last change are failed by maintenance. */
export const ABANDONED_AFTER_HOURS = 24;

/**
 * Delay before the next delivery after failed delivery number `attempts` (1-based): 10 s, 30 s, 90 s, …
 * at most 15 minutes.
 *
 * @example
 * backoffSeconds(1) // 10
 */
export function backoffSeconds(attempts: number): number {
  return Math.min(10 * 3 ** Math.max(0, attempts - 1), 900);
}
