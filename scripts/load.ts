/**
 * `npm run load [-- --profile ci]`: a load generator against `npm run dev`, bounded in time and in
 * requests, on loopback only. Without `SIGNET_URL` it starts its own isolated dev server (fresh
 * embedded database, free port) and stops it at the end.
 *
 * It builds several organizations through the API, then runs mixed traffic at ≥ 50 requests in flight
 * — document reads, lists, writes with optimistic concurrency, creates, bad tokens — next to WebSocket
 * clients publishing in a room per organization. It reports throughput, p50/p99 latency and answers by
 * class, then verifies: zero 5xx (and no request without an answer), no answer an operation didn't
 * expect, no lost update, every created document there, audit events equal to the landed mutations,
 * and every room message delivered in `seq` order. Exit code 1 when a check fails.
 */
import { parseArgs } from 'node:util';
import { type DevServer, startDevServer } from './lib/dev-server.ts';
import { HttpTraffic } from './lib/load/http-traffic.ts';
import { NO_ANSWER, Recorder } from './lib/load/recorder.ts';
import { RoomTraffic } from './lib/load/room-traffic.ts';
import { createOrganization, type LoadOrganization } from './lib/load/tenants.ts';
import { type Check, verifyOrganization } from './lib/load/verify.ts';

interface Profile {
  /** How long traffic runs. */
  seconds: number;
  /** Virtual users: each keeps one request in flight. */
  virtualUsers: number;
  organizations: number;
  documentsPerOrganization: number;
  /** Upper bound on requests, whatever the throughput. */
  maxRequests: number;
}

const PROFILES = {
  ci: { seconds: 15, virtualUsers: 64, organizations: 4, documentsPerOrganization: 6, maxRequests: 30_000 },
  full: { seconds: 60, virtualUsers: 64, organizations: 6, documentsPerOrganization: 8, maxRequests: 150_000 },
} satisfies Record<string, Profile>;

const { values } = parseArgs({
  options: { profile: { type: 'string', default: 'full' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help || !(values.profile! in PROFILES)) {
  console.error('usage: npm run load [-- --profile ci|full]   (SIGNET_URL: a running npm run dev, loopback only)');
  process.exit(values.help ? 0 : 1);
}
const profileName = values.profile as keyof typeof PROFILES;
const profile: Profile = PROFILES[profileName];

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<number> {
  let server: DevServer | undefined;
  const target = process.env.SIGNET_URL;
  if (target && !isLoopback(target)) {
    console.error(`signet load: ${target} is not a loopback address; the load only runs against a local server`);
    return 1;
  }
  const stop = async () => {
    await server?.stop();
    server = undefined;
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    if (!target) {
      console.log('signet load: starting an isolated npm run dev (fresh embedded database)…');
      server = await startDevServer();
    }
    const base = (target ?? server!.base).replace(/\/$/, '');
    const health = await fetch(`${base}/health`).catch(() => undefined);
    if (!health?.ok) {
      console.error(`signet load: no Signet server answers at ${base}`);
      return 1;
    }
    // wrangler dev rebuilds and restarts the Worker when a source file changes: requests and sockets in
    // flight then fail, which is the dev server's doing, not the service's. Counted so the report says so.
    const reloads = () =>
      (server?.output().match(/Reloading local server|Detected changes, restarted server/g) ?? []).length;
    return await run(base, reloads);
  } finally {
    await stop();
  }
}

async function run(base: string, reloads: () => number): Promise<number> {
  const runId = Date.now().toString(36);
  console.log(
    `signet load: profile ${profileName} — ${profile.seconds} s, ${profile.virtualUsers} virtual users, ` +
      `${profile.organizations} organizations, against ${base}`,
  );
  const setup = new Recorder(base);
  const organizations: LoadOrganization[] = await Promise.all(
    Array.from({ length: profile.organizations }, (_, i) =>
      createOrganization(setup, runId, i, profile.documentsPerOrganization),
    ),
  );

  const recorder = new Recorder(base);
  const http = new HttpTraffic(recorder, organizations);
  const rooms = new RoomTraffic();
  await rooms.join(base, organizations);
  const reloadsBefore = reloads();
  rooms.start();
  recorder.startSampling();
  const started = performance.now();
  const limits = { deadline: started + profile.seconds * 1000, maxRequests: profile.maxRequests };
  await Promise.all(Array.from({ length: profile.virtualUsers }, (_, vu) => http.virtualUser(vu, limits)));
  const elapsed = (performance.now() - started) / 1000;
  recorder.stopSampling();
  const roomReport = await rooms.stop();
  const reloaded = reloads() - reloadsBefore;

  const verifier = new Recorder(base);
  const checks: Check[] = [];
  const summary = recorder.summary();
  const fivexx = summary.classes.filter((c) => /^5\d\d/.test(c.outcome)).reduce((sum, c) => sum + c.count, 0);
  const unanswered = summary.classes
    .filter((c) => c.outcome === 'network error' || c.outcome === 'timeout')
    .reduce((sum, c) => sum + c.count, 0);
  checks.push({ name: 'zero 5xx', ok: fivexx === 0, detail: `${fivexx} answers with a 5xx status` });
  checks.push({ name: 'every request answered', ok: unanswered === 0, detail: `${unanswered} without an answer` });
  const unexpected = http.unexpected.filter((u) => u.status !== NO_ANSWER && u.status < 500);
  checks.push({
    name: 'no unexpected answer',
    ok: unexpected.length === 0,
    detail: unexpected.length
      ? unexpected
          .slice(0, 5)
          .map((u) => `${u.op}: ${u.status} ${u.code ?? ''}`)
          .join('; ')
      : 'reads 200, writes 200 or 409, creates 201, bad tokens 401',
  });
  for (const organization of organizations) checks.push(...(await verifyOrganization(verifier, organization)));
  if (reloaded > 0) {
    checks.push({
      name: 'the dev server ran unchanged',
      ok: false,
      detail: `wrangler dev reloaded the Worker ${reloaded} time(s): a source file changed during the load; run it again`,
    });
  }
  checks.push({
    name: 'rooms: every message delivered once, in seq order',
    ok: roomReport.problems.length === 0,
    detail: roomReport.problems.length ? roomReport.problems.slice(0, 5).join('; ') : `${roomReport.clients} clients`,
  });

  const accepted = organizations.reduce((sum, o) => sum + o.accepted.length, 0);
  const created = organizations.reduce((sum, o) => sum + o.created.length, 0);
  console.log(`
== Signet load: profile ${profileName} ==
duration        ${elapsed.toFixed(1)} s, ${summary.requests} HTTP requests, ${(summary.requests / elapsed).toFixed(1)} requests/s
in flight       ${summary.meanInFlight.toFixed(1)} on average, ${summary.maxInFlight} at most (${profile.virtualUsers} virtual users)
latency         p50 ${ms(summary.p50)}, p99 ${ms(summary.p99)}, max ${ms(summary.max)}
mutations       ${accepted} writes accepted (${http.conflicts} 409s re-read and retried, ${http.gaveUp} gave up), ${created} documents created
rooms           ${roomReport.rooms} rooms, ${roomReport.clients} clients, ${roomReport.published} messages published, ${roomReport.delivered} delivered; echo p50 ${ms(roomReport.echo.p50)}, p99 ${ms(roomReport.echo.p99)}

by operation
${summary.byOp.map((o) => `  ${o.op.padEnd(15)} ${String(o.count).padStart(7)}   p50 ${ms(o.p50).padStart(10)}   p99 ${ms(o.p99).padStart(10)}`).join('\n')}

answers by class
${summary.classes.map((c) => `  ${c.op.padEnd(15)} ${c.outcome.padEnd(28)} ${String(c.count).padStart(7)}`).join('\n')}

checks
${checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name} — ${c.detail}`).join('\n')}
`);
  const failed = checks.filter((c) => !c.ok);
  console.log(failed.length ? `signet load: ${failed.length} check(s) FAILED` : 'signet load: every check passed');
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`signet load: ${(error as Error).message ?? String(error)}`);
    process.exit(1);
  },
);
