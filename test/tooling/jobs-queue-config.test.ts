/**
 * The jobs queue as `wrangler.toml` declares it (read with wrangler's own parser) must match what the
 * consumer assumes: the last delivery it recognises is the last one the platform makes, after which a
 * retried message goes to the dead-letter queue.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import { MAX_DELIVERIES, MAX_RETRIES } from '../../src/jobs/retry-policy.ts';

const config = unstable_readConfig({ config: fileURLToPath(new URL('../../wrangler.toml', import.meta.url)) });

describe('the jobs queue configuration', () => {
  it('has a producer binding and a consumer with the retries and dead-letter queue the consumer expects', () => {
    expect(config.queues.producers).toContainEqual(expect.objectContaining({ binding: 'JOBS', queue: 'signet-jobs' }));
    const consumer = config.queues.consumers?.find((c) => c.queue === 'signet-jobs');
    expect(consumer).toMatchObject({ max_retries: MAX_RETRIES, dead_letter_queue: 'signet-jobs-dlq' });
    expect(MAX_DELIVERIES).toBe(MAX_RETRIES + 1);
  });

  it('runs maintenance from a cron trigger', () => {
    expect(config.triggers.crons?.length).toBeGreaterThan(0);
  });
});
