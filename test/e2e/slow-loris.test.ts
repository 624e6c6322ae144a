/**
 * Slow-loris against a real `npm run dev`, over raw sockets: connections that send their headers and
 * then stall or trickle the body, or never finish their headers, don't tie up the service — other
 * requests keep being answered — and a request whose body never completes writes nothing.
 *
 * What does the holding: `wrangler dev` (workerd) accepts each connection and hands the Worker a
 * request as soon as its headers are in; the Worker awaits the body as a stream (an idle promise, no
 * CPU) and reads at most 64 KiB of it (src/http/json.ts), so a body trickled past that is refused with
 * 413 without waiting for its end. A connection whose headers never end never reaches the Worker.
 * Locally nothing times such a connection out; on Cloudflare the edge terminates client connections
 * before the Worker sees them and applies its own timeouts.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevServer, startDevServer } from './support/dev-server.ts';

let server: DevServer;
let token: string;

interface RawConnection {
  socket: net.Socket;
  received(): string;
}

function connect(request: string): RawConnection {
  const socket = net.connect(Number(new URL(server.base).port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => {}); // destroyed by the test at the end
  socket.write(request);
  return { socket, received: () => received };
}

function postHead(framing: string): string {
  return [
    'POST /v1/documents HTTP/1.1',
    'host: 127.0.0.1',
    `authorization: Bearer ${token}`,
    'content-type: application/json',
    framing,
    '',
    '',
  ].join('\r\n');
}

/** Resolves once `condition` holds (checked every 50 ms); rejects after `ms`, naming `what`. */
function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (!condition()) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    }, 50);
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`timed out: ${what}`));
    }, ms);
  });
}

describe('slow-loris', () => {
  beforeAll(async () => {
    server = await startDevServer();
    const response = await fetch(`${server.base}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'dev', email: 'editor@demo.signet.dev', organization: 'demo' }),
    });
    token = ((await response.json()) as { access_token: string }).access_token;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps answering other requests while bodies stall or trickle and headers never end', async () => {
    const stalled = Array.from({ length: 20 }, (_, i) =>
      connect(`${postHead('content-length: 2048')}{"title":"loris stalled ${i}`),
    );
    const trickled = Array.from({ length: 10 }, () => connect(postHead('content-length: 4096')));
    const trickle = '{"title":"loris trickled","body":"';
    let sent = 0;
    const dripping = setInterval(() => {
      for (const connection of trickled) connection.socket.write(trickle[sent % trickle.length]!);
      sent += 1;
    }, 100);
    const headless = Array.from({ length: 10 }, () =>
      connect(`GET /v1/documents HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n`),
    );
    const slow = [...stalled, ...trickled, ...headless];

    try {
      // Meanwhile, ordinary traffic: 60 requests, 10 at a time, each bounded.
      const statuses: number[] = [];
      const ordinary = async (n: number) => {
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        const signal = AbortSignal.timeout(15_000);
        const response =
          n % 3 === 0
            ? await fetch(`${server.base}/health`, { signal })
            : n % 3 === 1
              ? await fetch(`${server.base}/v1/documents?limit=5`, { headers, signal })
              : await fetch(`${server.base}/v1/documents`, {
                  method: 'POST',
                  headers,
                  body: JSON.stringify({ title: `ordinary ${n}` }),
                  signal,
                });
        await response.arrayBuffer();
        statuses.push(response.status);
      };
      for (let batch = 0; batch < 6; batch++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => ordinary(batch * 10 + i)));
      }
      expect(statuses.filter((s) => s !== 200 && s !== 201)).toEqual([]);
      expect(statuses).toHaveLength(60);
      expect(sent).toBeGreaterThan(0);

      // The slow connections are still waiting (or were answered, but never with a 5xx).
      for (const connection of slow) expect(connection.received()).not.toMatch(/^HTTP\/1\.1 5/);
      expect(slow.every((c) => !c.socket.destroyed)).toBe(true);
    } finally {
      clearInterval(dripping);
      for (const connection of slow) connection.socket.destroy();
    }

    // Once they are gone: still serving, nothing written from an unfinished body, no 5xx on record.
    const health = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(15_000) });
    expect(health.status).toBe(200);
    const titles: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : '?limit=100';
      const page = (await (
        await fetch(`${server.base}/v1/documents${query}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { documents: { title: string }[]; nextCursor: string | null };
      titles.push(...page.documents.map((d) => d.title));
      cursor = page.nextCursor;
    } while (cursor);
    expect(titles.filter((t) => t.startsWith('ordinary'))).toHaveLength(20);
    expect(titles.filter((t) => t.startsWith('loris'))).toEqual([]);
    // Each of the 30 unfinished bodies ended in the Worker as a 400 (the client went away), none as a 5xx.
    const unfinished = () => server.output().match(/"method":"POST","route":"\/v1\/documents","status":400/g) ?? [];
    await waitFor(() => unfinished().length >= stalled.length + trickled.length, 15_000, 'the unfinished bodies');
    expect(server.output()).not.toMatch(/"status":5\d\d/);
  }, 60_000);

  it('refuses a body trickled past 64 KiB with 413 without waiting for its end', async () => {
    const connection = connect(postHead('transfer-encoding: chunked'));
    try {
      // 70 chunks of 1 KiB, and never the final empty chunk.
      for (let i = 0; i < 70; i++) connection.socket.write(`400\r\n${'a'.repeat(1024)}\r\n`);
      await waitFor(() => connection.received().includes('PAYLOAD_TOO_LARGE'), 15_000, 'an answer');
      expect(connection.received()).toMatch(/^HTTP\/1\.1 413 /);
      expect(connection.received()).toContain('"code":"PAYLOAD_TOO_LARGE"');
    } finally {
      connection.socket.destroy();
    }
  });
});
