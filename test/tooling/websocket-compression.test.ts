/**
 * Rooms decline per-message compression: wrangler.toml's `no_web_socket_compression` (why: there). Under
 * `wrangler dev` and the vitest plugin, miniflare's own entry Worker answers every upgrade with its own
 * compatibility flags and negotiates compression whatever ours say, so the flag's effect is checked here
 * in workerd itself — the binary wrangler runs, with wrangler.toml's compatibility date and flags — on a
 * minimal Worker that accepts the upgrade, as the edge runs our Worker: a stock `ws` client offers
 * `permessage-deflate` (as browsers do) and must get no extension. The same Worker without the flag
 * gets it, so the check can fail.
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

const WORKER = `export default {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    return new Response(null, { status: 101, webSocket: client });
  },
};`;

const capnpList = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

function workerdConfig(ports: { declines: number; negotiates: number }): string {
  const worker = (name: string, workerFlags: readonly string[]) => `const ${name} :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(config.compatibility_date)},
  compatibilityFlags = ${capnpList(workerFlags)},
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

/** The extensions a stock `ws` client (offering permessage-deflate) ends up with; retried until workerd listens. */
async function negotiated(port: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        ws.once('open', () => {
          resolve(ws.extensions);
          ws.terminate();
        });
        ws.once('error', reject);
      });
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe("rooms' WebSocket compression, in workerd with wrangler.toml's flags", () => {
  const dir = mkdtempSync(join(tmpdir(), 'signet-ws-compression-'));
  let child: ChildProcess | undefined;
  let ports: { declines: number; negotiates: number };

  beforeAll(async () => {
    ports = { declines: await freePort(), negotiates: await freePort() };
    writeFileSync(join(dir, 'worker.js'), WORKER);
    writeFileSync(join(dir, 'config.capnp'), workerdConfig(ports));
    child = spawn(workerd, ['serve', join(dir, 'config.capnp')], { stdio: 'ignore' });
  });

  afterAll(() => {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('wrangler.toml asks for it', () => {
    expect(flags).toContain('no_web_socket_compression');
  });

  it('a client offering permessage-deflate gets no extension', async () => {
    expect(await negotiated(ports.declines)).toBe('');
  });

  it('without the flag the same Worker negotiates it (the check can fail)', async () => {
    expect(await negotiated(ports.negotiates)).toContain('permessage-deflate');
  });
});
