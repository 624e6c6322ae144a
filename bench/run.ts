/**
 * `npm run bench`: every benchmark in one go, on loopback only, bounded in count and time; prints a table
 * and writes `bench/results.json`. See bench/README.md for what each figure means.
 *
 * Order: the bundle (no server); the token figures inside workerd (`bench/workers/actor`); the request
 * path against Hono inside workerd (`bench/workers/http`); row-level security on the machine's PostgreSQL
 * (skipped where none answers); the revocation cache at 10,000 organizations (in this process); then
 * Signet as `npm run dev` serves it (embedded Postgres, Neon bridge, local IdP) for round trips, JWKS
 * fetches, token exchanges and HTTP, and next to a PartyServer room (`bench/workers/partyserver`) for
 * room fan-out. `--only a,b` runs chosen suites (see `SUITES`). Every process it
 * starts is stopped at the end, on failure and on Ctrl-C. A suite that fails is reported and the run
 * exits 1, after the others have run.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalIdp, startLocalIdp } from '../scripts/lib/local-idp.ts';
import { outputs, removeTemporaries, root, stopAll, stopOnSignals } from './lib/processes.ts';
import { Results } from './lib/results.ts';
import { type Server, type SignetServer, startBenchWorker, startSignet } from './lib/servers.ts';
import { snapshotTree } from './lib/snapshot.ts';
import { benchActor } from './suites/actor.ts';
import { benchBundle } from './suites/bundle.ts';
import { benchRoundTrips } from './suites/db.ts';
import { benchHttp } from './suites/http.ts';
import { benchJwks } from './suites/jwks.ts';
import { benchPipeline } from './suites/pipeline.ts';
import { benchRevocations } from './suites/revocations.ts';
import { benchRls } from './suites/rls.ts';
import { benchRooms10k } from './suites/room-10k.ts';
import { benchRoomJoins } from './suites/room-joins.ts';
import { benchRoomYjs } from './suites/room-yjs.ts';
import { benchRooms } from './suites/rooms.ts';

/** The whole run is abandoned (and everything stopped) past this. */
const BUDGET_MS = 40 * 60_000;

/**
 * Each suite by name, with the group (the figures' prefix) it belongs to. `npm run bench -- --only
 * pipeline,rls` runs the suites named; a name that is no suite's names a group (`--only http,db`,
 * `--only rooms`). Without `--only`, all of them.
 */
const SUITES = {
  bundle: 'bundle',
  actor: 'actor',
  pipeline: 'http',
  rls: 'db',
  revocations: 'scale',
  roundtrips: 'db',
  jwks: 'actor',
  load: 'http',
  'rooms.fanout': 'rooms',
  'rooms.joins': 'rooms',
  'rooms.yjs': 'rooms',
  'rooms.10k': 'rooms',
} as const;
type SuiteName = keyof typeof SUITES;

function selected(argv: readonly string[]): (name: SuiteName) => boolean {
  const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (at === -1) return () => true;
  const arg = argv[at]!;
  const list = (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[at + 1] ?? '')).split(',').filter(Boolean);
  const known = new Set<string>([...Object.keys(SUITES), ...Object.values(SUITES)]);
  const unknown = list.filter((name) => !known.has(name));
  if (list.length === 0 || unknown.length > 0) {
    throw new Error(
      `--only takes suites or groups among ${[...known].join(', ')} (got ${unknown.join(', ') || 'none'})`,
    );
  }
  const suites = new Set<string>(Object.keys(SUITES));
  return (name) => list.includes(name) || list.some((group) => !suites.has(group) && SUITES[name] === group);
}

async function main(): Promise<number> {
  const wanted = selected(process.argv.slice(2));
  const startedAt = new Date();
  const results = new Results();
  let idp: LocalIdp | undefined;
  stopOnSignals(async () => {
    await idp?.close();
    removeTemporaries();
  });
  const budget = setTimeout(() => {
    console.error(`bench: over the ${BUDGET_MS / 60_000}-minute budget; stopping`);
    process.kill(process.pid, 'SIGTERM');
  }, BUDGET_MS);

  const suite = async (name: string, run: () => Promise<void>) => {
    if (!wanted(name as SuiteName)) return;
    const started = performance.now();
    console.log(`bench: ${name}…`);
    try {
      await run();
    } catch (error) {
      results.fail(name, error);
    }
    console.log(`bench: ${name} took ${Math.round((performance.now() - started) / 1000)} s`);
  };
  const started = async <T extends Server>(name: string, start: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await start();
    } catch (error) {
      results.fail(name, error);
      return undefined;
    }
  };

  try {
    const tree = snapshotTree();
    await suite('bundle', () => benchBundle(results, tree));

    if (wanted('actor')) {
      const actorWorker = await started('bench worker (actor)', () => startBenchWorker(tree, 'actor', '/'));
      if (actorWorker) {
        await suite('actor', () => benchActor(results, actorWorker));
        await actorWorker.stop();
      }
    }
    if (wanted('pipeline')) {
      const httpWorker = await started('bench worker (http)', () => startBenchWorker(tree, 'http', '/'));
      if (httpWorker) {
        await suite('pipeline', () => benchPipeline(results, httpWorker));
        await httpWorker.stop();
      }
    }
    await suite('rls', () => benchRls(results));
    await suite('revocations', () => benchRevocations(results));

    const needsSignet: SuiteName[] = [
      'roundtrips',
      'jwks',
      'load',
      'rooms.fanout',
      'rooms.joins',
      'rooms.yjs',
      'rooms.10k',
    ];
    if (needsSignet.some(wanted)) {
      idp = await startLocalIdp();
      const localIdp = idp;
      const signet: SignetServer | undefined = await started('npm run dev', () => startSignet(tree, localIdp));
      if (signet) {
        await suite('roundtrips', () => benchRoundTrips(results, signet));
        await suite('jwks', () => benchJwks(results, signet, localIdp));
        await suite('load', () => benchHttp(results, signet));
        if (wanted('rooms.fanout') || wanted('rooms.joins') || wanted('rooms.yjs')) {
          const party = await started('bench worker (partyserver)', () => startBenchWorker(tree, 'partyserver', '/'));
          if (party) {
            await suite('rooms.fanout', () => benchRooms(results, signet, party));
            await suite('rooms.joins', () => benchRoomJoins(results, signet, party));
            await suite('rooms.yjs', () => benchRoomYjs(results, signet, party));
            await party.stop();
          }
        }
        await suite('rooms.10k', () => benchRooms10k(results, signet));
        await signet.stop();
      }
    }
  } finally {
    clearTimeout(budget);
    await stopAll();
    await idp?.close();
    removeTemporaries();
  }

  const path = results.write(startedAt);
  const minutes = (Date.now() - startedAt.getTime()) / 60_000;
  console.log(`\n${results.table()}\n`);
  console.log(`bench: ${minutes.toFixed(1)} min; results in ${path}`);
  for (const warning of results.warnings()) console.warn(`bench: ${warning}`);
  const missed = Object.entries(results.metrics).filter(([, m]) => m.met === false);
  if (missed.length > 0) console.log(`bench: goals missed: ${missed.map(([name]) => name).join(', ')}`);
  if (results.failures.length > 0) {
    const log = join(root, 'bench/last-run.log');
    writeFileSync(log, outputs());
    for (const failure of results.failures) console.error(`bench: FAILED ${failure}`);
    console.error(`bench: the servers' output is in ${log}`);
  }
  return results.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(`bench: ${(error as Error)?.stack ?? String(error)}`);
    await stopAll();
    removeTemporaries();
    process.exit(1);
  },
);
