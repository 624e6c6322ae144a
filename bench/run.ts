/**
 * `npm run bench`: every benchmark in one go, on loopback only, bounded in count and time; prints a table
 * and writes `bench/results.json`. See bench/README.md for what each figure means.
 *
 * Order: the bundle (no server); the token figures inside workerd (`bench/workers/actor`); then Signet as
 * `npm run dev` serves it (embedded Postgres, Neon bridge, local IdP) for round trips, JWKS fetches and
 * HTTP, and next to a PartyServer room (`bench/workers/partyserver`) for room fan-out. Every process it
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
import { benchRooms10k } from './suites/room-10k.ts';
import { benchRoomJoins } from './suites/room-joins.ts';
import { benchRooms } from './suites/rooms.ts';

/** The whole run is abandoned (and everything stopped) past this. */
const BUDGET_MS = 30 * 60_000;

/**
 * `npm run bench -- --only rooms` (or `--only rooms.joins,http`): only the suites whose name starts
 * with one of the words; the servers they need are started, the others not.
 */
function onlyFilter(argv: readonly string[]): (suite: string) => boolean {
  const at = argv.indexOf('--only');
  if (at < 0) return () => true;
  const words = (argv[at + 1] ?? '').split(',').filter(Boolean);
  if (words.length === 0) throw new Error('--only needs a suite name: bundle, actor, db, jwks, http, rooms');
  return (suite) => words.some((w) => suite === w || suite.startsWith(`${w}.`) || w.startsWith(`${suite}.`));
}

async function main(): Promise<number> {
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

  const only = onlyFilter(process.argv.slice(2));
  const suite = async (name: string, run: () => Promise<void>) => {
    if (!only(name)) return;
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

    if (only('actor')) {
      const actorWorker = await started('bench worker (actor)', () => startBenchWorker(tree, 'actor', '/'));
      if (actorWorker) {
        await suite('actor', () => benchActor(results, actorWorker));
        await actorWorker.stop();
      }
    }

    idp = await startLocalIdp();
    const localIdp = idp;
    const needsSignet = ['db', 'jwks', 'http', 'rooms'].some(only);
    const signet: SignetServer | undefined = needsSignet
      ? await started('npm run dev', () => startSignet(tree, localIdp))
      : undefined;
    if (signet) {
      await suite('db', () => benchRoundTrips(results, signet));
      await suite('jwks', () => benchJwks(results, signet, localIdp));
      await suite('http', () => benchHttp(results, signet));
      const party = ['rooms.fanout', 'rooms.joins'].some(only)
        ? await started('bench worker (partyserver)', () => startBenchWorker(tree, 'partyserver', '/'))
        : undefined;
      if (party) {
        await suite('rooms.fanout', () => benchRooms(results, signet, party));
        await suite('rooms.joins', () => benchRoomJoins(results, signet, party));
        await party.stop();
      }
      await suite('rooms.10k', () => benchRooms10k(results, signet));
      await signet.stop();
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
