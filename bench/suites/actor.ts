/**
 * Token → actor inside workerd (`bench/workers/actor`): the uncached resolution of a real actor token
 * against a raw `crypto.subtle.verify` of the same signature, interleaved in the same isolate; and the
 * repeated-token (cache hit) path.
 */

import { atMost, type Results, report } from '../lib/results.ts';
import type { Server } from '../lib/servers.ts';
import { median, round } from '../lib/stats.ts';

interface Compare {
  us: Record<string, number>;
}

async function compare(worker: Server, query: string): Promise<Compare> {
  const response = await fetch(`${worker.base}/compare?${query}`);
  if (!response.ok) throw new Error(`bench worker: ${response.status} ${await response.text()}`);
  return (await response.json()) as Compare;
}

export async function benchActor(results: Results, worker: Server): Promise<void> {
  // Warm-up: JIT, key import, first-call paths.
  await compare(worker, 'ops=raw,resolve&batch=100&rounds=5');
  await compare(worker, 'ops=raw,resolve&batch=100&rounds=5&alg=ES256');

  const runs = 15;
  const ratios: number[] = [];
  const raw: number[] = [];
  const resolved: number[] = [];
  const es256: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { us } = await compare(worker, 'ops=raw,resolve&batch=200&rounds=20');
    ratios.push(us.resolve! / us.raw!);
    raw.push(us.raw!);
    resolved.push(us.resolve!);
    if (run % 3 === 0) {
      const { us: es } = await compare(worker, 'ops=raw,resolve&batch=200&rounds=10&alg=ES256');
      es256.push(es.resolve! / es.raw!);
    }
  }
  results.addRuns(
    'actor.verify_overhead_ratio',
    ratios,
    'ratio',
    atMost(1.15),
    `EdDSA, median of ${runs} interleaved runs of 4,000 each: ${round(median(resolved), 1)} µs vs raw ` +
      `${round(median(raw), 1)} µs`,
  );
  results.addRuns(
    'actor.verify_overhead_ratio_es256',
    es256,
    'ratio',
    report,
    `ES256, the same, ${es256.length} runs of 2,000 each`,
  );

  const cached: number[] = [];
  for (let run = 0; run < 7; run++) {
    const { us } = await compare(worker, 'ops=cached&batch=20000&rounds=5');
    cached.push(us.cached!);
  }
  results.add(
    'actor.cached_verify_us',
    round(median(cached), 2),
    'µs',
    atMost(5),
    'median of 7 runs of 100,000 resolutions of one token (loop included)',
  );
}
