/**
 * `http.pipeline_*`: CPU per request through Signet's whole fetch handler against a Hono app (`hono/jwk`)
 * verifying the same token, inside workerd in one isolate (`bench/workers/http`), the database answered
 * from memory at the driver's boundary. Each run alternates the four operations batch by batch; the
 * ratios are per run, and each figure is the median of the runs with its spread.
 */
import { atMost, type Results, report } from '../lib/results.ts';
import type { Server } from '../lib/servers.ts';
import { median, round } from '../lib/stats.ts';

interface Compare {
  us: Record<'signet_me' | 'hono_me' | 'signet_doc' | 'hono_doc' | 'session' | 'driver', number>;
  databaseRequests: number;
}

const OPS = 'ops=signet_me,hono_me,signet_doc,hono_doc';

async function compare(worker: Server, query: string): Promise<Compare> {
  const response = await fetch(`${worker.base}/compare?${query.startsWith('ops=') ? query : `${OPS}&${query}`}`);
  if (!response.ok) throw new Error(`bench worker (http): ${response.status} ${await response.text()}`);
  return (await response.json()) as Compare;
}

export async function benchPipeline(results: Results, worker: Server): Promise<void> {
  // Warm-up: JIT, key import, the organization's revocation list, first-call paths.
  await compare(worker, 'batch=50&rounds=4&fresh=1');
  await compare(worker, 'batch=100&rounds=4');

  const runs = 11;
  const first = { me: [] as number[], doc: [] as number[], worst: [] as number[] };
  const repeated = { me: [] as number[], doc: [] as number[], worst: [] as number[] };
  const us = { firstMe: [] as number[], firstDoc: [] as number[], me: [] as number[], doc: [] as number[] };
  const hono = { me: [] as number[], doc: [] as number[] };
  const parts = { session: [] as number[], driver: [] as number[] };
  for (let run = 0; run < runs; run++) {
    const fresh = await compare(worker, 'batch=100&rounds=6&fresh=1');
    const warm = await compare(worker, 'batch=200&rounds=6');
    const f = fresh.us;
    const w = warm.us;
    first.me.push(f.signet_me / f.hono_me);
    first.doc.push(f.signet_doc / f.hono_doc);
    first.worst.push(Math.max(f.signet_me / f.hono_me, f.signet_doc / f.hono_doc));
    repeated.me.push(w.signet_me / w.hono_me);
    repeated.doc.push(w.signet_doc / w.hono_doc);
    repeated.worst.push(Math.max(w.signet_me / w.hono_me, w.signet_doc / w.hono_doc));
    us.firstMe.push(f.signet_me);
    us.firstDoc.push(f.signet_doc);
    us.me.push(w.signet_me);
    us.doc.push(w.signet_doc);
    hono.me.push(w.hono_me);
    hono.doc.push(w.hono_doc);
    const breakdown = await compare(worker, 'ops=session,driver&batch=200&rounds=4');
    parts.session.push(breakdown.us.session);
    parts.driver.push(breakdown.us.driver);
  }
  const r = (values: number[]) => round(median(values), 3);
  const u = (values: number[]) => round(median(values), 1);
  results.addRuns(
    'http.pipeline_vs_hono_cpu_ratio',
    first.worst,
    'ratio',
    atMost(1.0),
    `a token's first request, the worse of GET /v1/me (${r(first.me)}) and GET /v1/documents/:id ` +
      `(${r(first.doc)}); ${runs} runs of 6 alternating batches of 100 each`,
  );
  results.addRuns(
    'http.pipeline_vs_hono_cpu_ratio_repeated',
    repeated.worst,
    'ratio',
    report,
    `a repeated token (Signet's cache; Hono verifies every time), the worse of /v1/me (${r(repeated.me)}) and ` +
      `/v1/documents/:id (${r(repeated.doc)}); Hono ${u(hono.me)} / ${u(hono.doc)} µs`,
  );
  results.addRuns(
    'http.pipeline_us',
    us.doc,
    'µs',
    report,
    `Signet, GET /v1/documents/:id with a repeated token; /v1/me ${u(us.me)} µs; a token's first request ` +
      `${u(us.firstMe)} / ${u(us.firstDoc)} µs; the read's runScoped batch alone ${u(parts.session)} µs, ` +
      `the same two statements straight through the driver ${u(parts.driver)} µs`,
    1,
  );
}
