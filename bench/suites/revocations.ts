/**
 * `scale.revocation_cache_*`: the per-isolate revocation cache (`RevocationCache`, src/identity/revocations.ts)
 * as the number of organizations an isolate serves grows to 10,000 — its memory, the CPU of a refresh,
 * and what its bound (`MAX_CACHED_ORGANIZATIONS`) does to the hit rate. Measured in this Node process
 * (one V8 isolate, the same engine as workerd) with loaders that answer at once: the database's side of
 * a refresh (one indexed read) is `db.*`'s and the EXPLAIN test's (test/tooling/rls-plans.test.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Results, report } from '../lib/results.ts';
import { round } from '../lib/stats.ts';

/** What this suite uses of src/identity/revocations.ts. */
interface RevocationCacheLike {
  subjects(
    organizationId: string,
    load: () => Promise<ReadonlyMap<string, number>>,
  ): Promise<ReadonlyMap<string, number>>;
  readonly size: number;
}
interface RevocationsModule {
  RevocationCache: new (options?: { capacity?: number; now?: () => number }) => RevocationCacheLike;
  MAX_CACHED_ORGANIZATIONS: number;
  REFRESH_MS: number;
}

/**
 * Imported by URL: src/ is typed for Workers (its modules reach the Workers bindings' types), bench/ for
 * Node (scripts/tsconfig.json), so the module is typed here by what the suite calls.
 */
const revocationsModule = (): Promise<RevocationsModule> =>
  import(new URL('../../src/identity/revocations.ts', import.meta.url).href) as Promise<RevocationsModule>;

const ORGANIZATIONS = 10_000;
/** Revoked subjects per organization in the last hour: a handful (removed members, revoked keys, ended delegations). */
const REVOKED_PER_ORGANIZATION = 5;

function collect(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function lists(): Map<string, Map<string, number>> {
  const byOrganization = new Map<string, Map<string, number>>();
  for (let o = 0; o < ORGANIZATIONS; o++) {
    const subjects = new Map<string, number>();
    for (let s = 0; s < REVOKED_PER_ORGANIZATION; s++) subjects.set(`user:${uuid(o * 100 + s)}`, Date.now() - s * 1000);
    byOrganization.set(uuid(o), subjects);
  }
  return byOrganization;
}

export async function benchRevocations(results: Results): Promise<void> {
  const { MAX_CACHED_ORGANIZATIONS, REFRESH_MS, RevocationCache } = await revocationsModule();
  const gc = collect();
  const data = lists();
  const organizations = [...data.keys()];
  let clock = 0;
  const load = (id: string) => () => Promise.resolve(data.get(id)!);

  // Memory: the heap the cache holds after 10,000 distinct organizations have been asked for.
  gc();
  const before = process.memoryUsage().heapUsed;
  const cache = new RevocationCache({ now: () => clock });
  for (const id of organizations) await cache.subjects(id, load(id));
  gc();
  const held = process.memoryUsage().heapUsed - before;
  const kib = round(held / 1024, 0);
  results.add(
    'scale.revocation_cache_kib_10k_orgs',
    kib,
    'KiB',
    report,
    `${ORGANIZATIONS.toLocaleString('en')} organizations asked for, ${cache.size.toLocaleString('en')} kept ` +
      `(bound ${MAX_CACHED_ORGANIZATIONS.toLocaleString('en')}, least recently used evicted), ` +
      `${REVOKED_PER_ORGANIZATION} revoked subjects each: ~${round(held / cache.size, 0)} B an organization`,
  );

  // CPU of a refresh (the cache's side): every entry stale, the loader answers at once.
  const perRefresh: number[] = [];
  for (let run = 0; run < 7; run++) {
    clock += REFRESH_MS + 1;
    const kept = organizations.slice(-MAX_CACHED_ORGANIZATIONS);
    const start = performance.now();
    for (const id of kept) await cache.subjects(id, load(id));
    perRefresh.push(((performance.now() - start) * 1000) / kept.length);
  }
  results.addRuns(
    'scale.revocation_refresh_us',
    perRefresh,
    'µs',
    report,
    'CPU of one stale organization refreshed (the database read answered at once), 7 runs of 5,000',
    2,
  );

  // What the bound does: requests spread over 10,000 active organizations within one refresh period.
  const hitRate = async (order: string[]): Promise<number> => {
    const c = new RevocationCache({ now: () => 0 });
    let loads = 0;
    const counted = (id: string) => () => {
      loads++;
      return Promise.resolve(data.get(id)!);
    };
    for (const id of order) await c.subjects(id, counted(id)); // fill
    loads = 0;
    for (const id of order) await c.subjects(id, counted(id));
    return 1 - loads / order.length;
  };
  const cyclic = await hitRate(organizations);
  let seed = 19;
  const random = Array.from({ length: 50_000 }, () => {
    // mulberry32: a fixed, well-spread sequence (an LCG's low bits would visit few organizations)
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return organizations[((t ^ (t >>> 14)) >>> 0) % ORGANIZATIONS]!;
  });
  const uniform = await hitRate(random);
  const hot = await hitRate(
    Array.from({ length: 50_000 }, (_, i) => organizations[(i * 7) % MAX_CACHED_ORGANIZATIONS]!),
  );
  results.add(
    'scale.revocation_cache_hit_rate_10k_orgs',
    round(uniform, 3),
    'ratio',
    report,
    `requests spread uniformly over 10,000 organizations within 30 s; ${round(hot, 3)} when 5,000 of them are ` +
      `active, ${round(cyclic, 3)} when all 10,000 come round in turn (LRU thrash: a read per request)`,
  );
}
