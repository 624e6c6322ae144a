/**
 * Rooms decline per-message compression: wrangler.toml's `no_web_socket_compression` (why: there). Under
 * `wrangler dev` and the vitest plugin, miniflare's own entry Worker answers every upgrade with its own
 * compatibility flags and negotiates compression whatever ours say, so the flag's effect is checked here
 * in workerd itself — the binary wrangler runs, with wrangler.toml's compatibility date and flags — as
 * the edge runs the Worker: a Worker that hands the upgrade to a Durable Object, which accepts it as a
 * hibernatable WebSocket and answers 101, as `services/rooms.ts` and `rooms/room.ts` do. A stock `ws`
 * client offers `permessage-deflate` (as browsers do) and must get no extension; the same Worker without
 * the flag gets it, so the check can fail.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';
import WebSocket from 'ws';
import { freePort } from '../../scripts/lib/dev-server.ts';

const config = unstable_readConfig({ config: fileURLToPath(new URL('../../wrangler.toml', import.meta.url)) });
const flags: readonly string[] = config.compatibility_flags ?? [];
const withoutFlag = flags.filter((flag) => flag !== 'no_web_socket_compression');

/** The workerd binary wrangler itself runs (its own dependency, not whichever the tree hoists). */
const requireFromWrangler = createRequire(createRequire(import.meta.url).resolve('wrangler/package.json'));
const workerd = (requireFromWrangler('workerd') as { default: string }).default;

/** A room's path in miniature: the Worker forwards the upgrade to a Durable Object, which accepts it. */
const WORKER = `export class Room {
  constructor(ctx) { this.ctx = ctx; }
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }
  webSocketMessage() {}
}
export default {
  async fetch(request, env) {
    const room = env.ROOM.get(env.ROOM.idFromName('room'));
    const response = await room.fetch('https://room.internal/connect', { headers: { upgrade: 'websocket' } });
    const headers = new Headers(response.headers);
    headers.set('x-worker', env.NAME);
    return new Response(null, { status: 101, webSocket: response.webSocket, headers });
  },
};`;

const capnpList = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

function workerdConfig(ports: { declines: number; negotiates: number }): string {
  const worker = (name: string, workerFlags: readonly string[]) => `const ${name} :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(config.compatibility_date)},
  compatibilityFlags = ${capnpList(workerFlags)},
  bindings = [(name = "ROOM", durableObjectNamespace = "Room"), (name = "NAME", text = "${name}")],
  durableObjectNamespaces = [(className = "Room", uniqueKey = "room-${name}")],
  durableObjectStorage = (inMemory = void),
);`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "declines", worker = .declines), (name = "negotiates", worker = .negotiates)],
  sockets = [
    (name = "declines", address = "127.0.0.1:${ports.declines}", http = (), service = "declines"),
    (name = "negotiates", address = "127.0.0.1:${ports.negotiates}", http = (), service = "negotiates"),
  ],
);
${worker('declines', flags)}
${worker('negotiates', withoutFlag)}
`;
}

interface Answer {
  /** Which Worker answered (its `x-worker` header): not some other server that took the port. */
  worker: string | undefined;
  extensions: string;
}

/** What a stock `ws` client, offering permessage-deflate, ends up with; retried while workerd starts. */
async function negotiated(port: number, exited: () => string | null): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<Answer>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        let worker: string | undefined;
        ws.once('upgrade', (response) => {
          worker = response.headers['x-worker'] as string | undefined;
        });
        ws.once('open', () => {
          resolve({ worker, extensions: ws.extensions });
          ws.terminate();
        });
        ws.once('error', reject);
      });
    } catch (error) {
      const why = exited();
      if (why !== null) throw new Error(`workerd exited: ${why}`);
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe("rooms' WebSocket compression, in workerd with wrangler.toml's flags", () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-ws-compression-'));
  let child: ChildProcess | undefined;
  let stderr = '';
  let exit: string | null = null;
  let ports: { declines: number; negotiates: number };

  beforeAll(async () => {
    ports = { declines: await freePort(), negotiates: await freePort() };
    writeFileSync(join(dir, 'worker.js'), WORKER);
    writeFileSync(join(dir, 'config.capnp'), workerdConfig(ports));
    child = spawn(workerd, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error) => {
      exit = error.message;
    });
    child.on('exit', (code, signal) => {
      exit = `code ${code ?? signal}: ${stderr.trim()}`;
    });
  });

  afterAll(() => {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wrangler.toml asks for it', () => {
    expect(flags).toContain('no_web_socket_compression');
  });

  it("a client offering permessage-deflate gets no extension from a Durable Object's WebSocket", async () => {
    expect(await negotiated(ports.declines, () => exit)).toEqual({ worker: 'declines', extensions: '' });
  });

  it('without the flag the same Worker negotiates it (the check can fail)', async () => {
    const answer = await negotiated(ports.negotiates, () => exit);
    expect(answer.worker).toBe('negotiates');
    expect(answer.extensions).toContain('permessage-deflate');
  });
});
