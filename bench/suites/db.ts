/**
 * Database round trips per request, counted where they happen: at the local Neon bridge, which stands in
 * for Neon's HTTP endpoint (one HTTP request = one round trip from the edge to the database). The
 * requests are warmed first (token cache and the organization's revocation list, which a steady-state
 * isolate holds), so the count is the request's own.
 */
import { exactly, type Results } from '../lib/results.ts';
import type { SignetServer } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';

interface Document {
  id: string;
  version: number;
}

export async function benchRoundTrips(results: Results, signet: SignetServer): Promise<void> {
  const token = await signet.token('editor');
  const auth = { authorization: `Bearer ${token}` };
  const created = await fetch(`${signet.base}/v1/documents`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Bench: round trips', body: 'npm run bench' }),
  });
  if (created.status !== 201) throw new Error(`create document: ${created.status} ${await created.text()}`);
  const { document } = (await created.json()) as { document: Document };
  let version = document.version;

  const counted = async (request: () => Promise<Response>): Promise<number> => {
    // Warm: the same isolate, the same token, the organization's revocation list fresh.
    await (await fetch(`${signet.base}/v1/me`, { headers: auth })).arrayBuffer();
    await fetch(`${signet.bridge}/__bridge/reset`, { method: 'POST' });
    const response = await request();
    const body = await response.text();
    if (!response.ok) throw new Error(`${response.status} ${body}`);
    const stats = (await (await fetch(`${signet.bridge}/__bridge/stats`)).json()) as { roundTrips: number };
    if (response.headers.get('content-type')?.includes('json')) {
      const parsed = JSON.parse(body) as { document?: Document };
      if (parsed.document) version = parsed.document.version;
    }
    return stats.roundTrips;
  };

  const runs = 7;
  const reads: number[] = [];
  const writes: number[] = [];
  for (let run = 0; run < runs; run++) {
    reads.push(await counted(() => fetch(`${signet.base}/v1/documents/${document.id}`, { headers: auth })));
    writes.push(
      await counted(() =>
        fetch(`${signet.base}/v1/documents/${document.id}`, {
          method: 'PATCH',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `Bench: round trips ${run}`, version }),
        }),
      ),
    );
  }
  results.add(
    'db.roundtrips_tenant_read',
    median(reads),
    'round trips',
    exactly(1),
    `GET /v1/documents/:id, median of ${runs} (all: ${reads.join(' ')})`,
  );
  results.add(
    'db.roundtrips_tenant_write',
    median(writes),
    'round trips',
    exactly(1),
    `PATCH /v1/documents/:id with its audit event, median of ${runs} (all: ${writes.join(' ')})`,
  );
}
