/**
 * The servers a bench run measures, each on a free loopback port with its state in a temporary folder:
 * Signet exactly as `npm run dev` serves it (embedded Postgres, the Neon bridge, `wrangler dev`), with
 * the local IdP configured; and a bench Worker (`bench/workers/…`) under `wrangler dev`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalIdp } from '../../scripts/lib/local-idp.ts';
import { type Child, freePort, start, temporaryDir, waitFor } from './processes.ts';

export interface Server {
  readonly base: string;
  readonly child: Child;
  stop(): Promise<void>;
}

export interface SignetServer extends Server {
  /** The local Neon bridge (round-trip counter). */
  readonly bridge: string;
  /** A dev-grant token for a demo user of the demo organization (`role` e.g. `editor`). */
  token(role: 'owner' | 'admin' | 'editor' | 'viewer'): Promise<string>;
}

/** Signet as `npm run dev` serves it, from the source tree at `tree` (see `snapshot.ts`). */
export async function startSignet(tree: string, idp: LocalIdp): Promise<SignetServer> {
  const port = await freePort();
  const stateDir = temporaryDir('signet-bench-');
  const extraEnv = join(stateDir, 'bench.env');
  writeFileSync(
    extraEnv,
    [`IDP_JWKS_URL=${idp.jwksUrl}`, `IDP_ISSUER=${idp.issuer}`, `IDP_AUDIENCE=${idp.audience}`, ''].join('\n'),
  );
  const child = start('npm run dev', [join(tree, 'scripts/dev.ts')], {
    cwd: tree,
    // DATABASE_URL empty: always the embedded database, never a server the shell happens to name.
    env: { PORT: String(port), SIGNET_STATE_DIR: stateDir, SIGNET_EXTRA_ENV_FILE: extraEnv, DATABASE_URL: '' },
  });
  await waitFor(child, () => child.output().includes('Signet is running at'), 120_000);
  const devEnv = readFileSync(join(stateDir, 'dev.env'), 'utf8');
  const bridge = /^DATABASE_PROXY_URL=(.+)$/m.exec(devEnv)?.[1];
  if (!bridge) throw new Error('npm run dev wrote no DATABASE_PROXY_URL');
  const base = `http://127.0.0.1:${port}`;
  const tokens = new Map<string, string>();
  return {
    base,
    bridge,
    child,
    stop: () => child.stop(),
    async token(role) {
      let token = tokens.get(role);
      if (!token) {
        const response = await fetch(`${base}/v1/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'dev',
            email: `${role}@demo.signet.dev`,
            organization: 'demo',
            ttl_seconds: 3600,
          }),
        });
        if (!response.ok) throw new Error(`dev grant for ${role}: ${response.status} ${await response.text()}`);
        token = ((await response.json()) as { access_token: string }).access_token;
        tokens.set(role, token);
      }
      return token;
    },
  };
}

/** A bench Worker (`bench/workers/<name>/wrangler.toml` in `tree`) under `wrangler dev`, ready when `probe` answers. */
export async function startBenchWorker(tree: string, name: string, probe: string): Promise<Server> {
  const port = await freePort();
  const stateDir = temporaryDir(`signet-bench-${name}-`);
  const child = start(
    `wrangler dev (bench/workers/${name})`,
    [
      join(tree, 'node_modules/wrangler/bin/wrangler.js'),
      'dev',
      '--config',
      join(tree, `bench/workers/${name}/wrangler.toml`),
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--show-interactive-dev-session=false',
      '--persist-to',
      stateDir,
    ],
    { cwd: tree },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(child, async () => (await fetch(`${base}${probe}`)).status < 500, 90_000);
  return { base, child, stop: () => child.stop() };
}
