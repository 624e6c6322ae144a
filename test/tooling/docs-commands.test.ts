/**
 * The commands of the README and docs work as written. Every command they show — each line of a `sh` block,
 * and each inline code span that starts like a command (`npm …`, `npx …`, `node …`, `curl …`, `VAR=… npm …`)
 * — must be classified below, and is either run here exactly as written, or run verbatim by `.ci/run`
 * (checked), or skipped for a stated reason (it needs a Cloudflare or Neon account, a real identity provider,
 * or it is this suite itself). A command added to the docs without a classification fails the test.
 *
 * The one substitution: port 8787 becomes the free port of the `npm run dev` this test starts (tests never
 * take a fixed port). Usage templates (`…`, `[optional]`, `<placeholder>`) are not commands and are left out.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/dev-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = [
  'README.md',
  'docs/deploy.md',
  'docs/identity-providers.md',
  'docs/troubleshooting.md',
  'bench/README.md',
  'SECURITY.md',
];

type How =
  /** Run here, without a server; `expect` must match its output. */
  | { run: 'offline'; expect: RegExp }
  /** Run here in one shell, in document order, against the `npm run dev` this test starts. */
  | { run: 'with-server' }
  /** `.ci/run` runs it verbatim (checked below): running it twice would only cost time. */
  | { run: 'ci' }
  | { skip: string };

const ACCOUNT = 'needs a Cloudflare account (wrangler login); --dry-run variant is run instead';
const HOW: Record<string, How> = {
  'npm run dev': { run: 'with-server' },
  'PORT=8790 npm run dev': { skip: 'the same as `npm run dev`, which this test starts with PORT set to a free port' },
  'npm test': { skip: 'this suite itself' },
  'npm ci': { run: 'ci' },
  'DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm test': {
    skip: 'this suite itself, on the shared test database (CI runs it on a database of its own)',
  },
  'npm run db:migrate': { run: 'offline', expect: /migrations applied to the embedded database/ },
  'npm run db:generate': { run: 'offline', expect: /No schema changes, nothing to migrate/ },
  'npm run types': { run: 'offline', expect: /Types written to src\/worker-configuration\.d\.ts/ },
  'npm run build': { run: 'offline', expect: /public\/client\/signet\.js/ },
  'npm run typecheck': { run: 'ci' },
  'npm run lint': { run: 'ci' },
  'npm run format': { skip: 'rewrites the working tree; `npm run lint` (CI) checks the same formatting' },
  'npm run bench': { skip: 'tens of minutes of benchmarks on 2 cores; run by hand (bench/README.md)' },
  'npm run bench -- --only rooms': { skip: 'the room benchmarks (10,000 sockets among them): run by hand' },
  'npm run bench -- --only rooms.joins,http': { skip: 'benchmarks, several minutes: run by hand' },
  'npm run load': { skip: 'the 60 s profile; CI runs the same generator with `--profile ci`' },
  'npm run load -- --profile ci': { run: 'ci' },
  'SIGNET_URL=http://127.0.0.1:8787 npm run load': {
    skip: 'the 60 s profile against a running server; CI runs `npm run load -- --profile ci`',
  },
  'npm run check:openapi': { run: 'ci' },
  'npm run deploy': { skip: ACCOUNT },
  'npm install /path/to/signet/packages/client': {
    skip: "run in the consumer's project; test/tooling/client-package.test.ts installs the built package the same way",
  },
  'npm pack --workspace @signet/client --pack-destination /tmp': {
    run: 'offline',
    expect: /signet-client-0\.1\.0\.tgz/,
  },
  "CORS_ALLOWED_ORIGINS='http://localhost:5173' npm run dev": {
    skip: 'npm run dev with that variable: test/e2e/cors-browser.test.ts starts it so, with origins of its own',
  },
  'npx wrangler': { skip: 'named as what not to use: it fails on a system Node older than 22' },
  'npm run deploy -- --dry-run --outdir /tmp/out': { run: 'offline', expect: /--dry-run: exiting now/ },
  'npm run -s signing-key -- ES256': { run: 'offline', expect: /^\{"keys":\[\{"kty":"EC".*"alg":"ES256"/ },
  'npm run -s signing-key | npm run -s wrangler -- secret put ACTOR_SIGNING_KEYS': { skip: ACCOUNT },
  'npm run -s wrangler -- secret put DATABASE_URL': { skip: ACCOUNT },
  'npm run wrangler -- queues create signet-jobs': { skip: ACCOUNT },
  'npm run wrangler -- queues create signet-jobs-dlq': { skip: ACCOUNT },
  'TOKEN=$(npm run -s token -- --email editor@demo.signet.dev --org demo)': { run: 'with-server' },
  'curl -s -H "authorization: Bearer $TOKEN" http://127.0.0.1:8787/v1/me': { run: 'with-server' },
  'curl -s -H "authorization: Bearer $TOKEN" -H \'content-type: application/json\' -d \'{"title":"Hello","body":"first draft"}\' http://127.0.0.1:8787/v1/documents':
    { run: 'with-server' },
  'curl -s -H "authorization: Bearer $TOKEN" \'http://127.0.0.1:8787/v1/documents?limit=10\'': { run: 'with-server' },
  'npm run -s token -- --email owner@demo.signet.dev --org demo': { run: 'with-server' },
  "curl 'http://127.0.0.1:8787/cdn-cgi/handler/scheduled?cron=*/15+*+*+*+*'": { run: 'with-server' },
  'curl -s https://signet.example/v1/auth/token -H \'content-type: application/json\' -d \'{"grant_type":"id_token","id_token":"<the IdP ID token>","organization":"acme"}\'':
    { skip: 'an example for your own deployment and identity provider (a placeholder host and ID token)' },
};

/** Commands as written in the docs, in document order. */
function documentedCommands(): string[] {
  const commands: string[] = [];
  for (const file of DOCS) {
    const text = readFileSync(join(root, file), 'utf8');
    // Fenced `sh` blocks: one command a line (continuations joined), comments dropped.
    for (const block of text.matchAll(/^[ \t]*```sh\n([\s\S]*?)^[ \t]*```/gm)) {
      const joined = (block[1] ?? '').replace(/\\\n\s*/g, '');
      for (const line of joined.split('\n')) {
        const command = line.replace(/(^|\s)#.*$/, '').trim();
        if (command) commands.push(command);
      }
    }
    // Inline spans outside fenced blocks that start like a command.
    const prose = text.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, '');
    for (const span of prose.matchAll(/`([^`\n]+)`/g)) {
      const command = span[1]!.trim();
      if (!/^([A-Z_]+=\S* )*(npm|npx|node|bash|curl) /.test(command) && command !== 'npm ci') continue;
      if (/[…[\]<>]/.test(command) && !HOW[command]) continue; // a usage template, not a command
      commands.push(command);
    }
  }
  return [...new Set(commands)];
}

const commands = documentedCommands();

describe('the commands of the README and docs', () => {
  it('are each run here, run by CI, or skipped for a stated reason', () => {
    expect(commands.length).toBeGreaterThan(20);
    expect(commands.filter((c) => !HOW[c])).toEqual([]);
    expect(Object.keys(HOW).filter((c) => !commands.includes(c))).toEqual([]); // no stale entries
  });

  it('marked as run by CI are in .ci/run', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8').replace(/ --silent| -s(?= )/g, '');
    for (const [command, how] of Object.entries(HOW)) {
      if ('run' in how && how.run === 'ci') expect(ci, command).toContain(command);
    }
  });

  it('that run offline work as written', { timeout: 300_000 }, () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'signet-docs-'));
    try {
      for (const command of commands) {
        const how = HOW[command];
        if (!how || !('run' in how) || how.run !== 'offline') continue;
        const result = spawnSync('bash', ['-c', command], {
          cwd: root,
          encoding: 'utf8',
          timeout: 180_000,
          // A state directory of its own, so `npm run db:migrate` never touches a developer's .signet/.
          env: { ...process.env, SIGNET_STATE_DIR: stateDir, DATABASE_URL: '' },
        });
        const output = `${result.stdout}${result.stderr}`;
        expect(result.status, `${command}\n${output}`).toBe(0);
        expect(output, command).toMatch(how.expect);
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  describe('against npm run dev', () => {
    let dev: ChildProcess;
    let port: number;
    let output = '';
    const stateDir = mkdtempSync(join(tmpdir(), 'signet-docs-dev-'));

    beforeAll(async () => {
      port = await freePort();
      // `npm run dev` as written, in a process group of its own so Ctrl-C reaches everything it started.
      dev = spawn('bash', ['-c', 'npm run dev'], {
        cwd: root,
        detached: true,
        env: { ...process.env, PORT: String(port), SIGNET_STATE_DIR: stateDir, DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      dev.stdout?.on('data', (chunk) => (output += chunk));
      dev.stderr?.on('data', (chunk) => (output += chunk));
      const deadline = Date.now() + 90_000;
      while (!output.includes('Try:') || !output.includes('/v1/me\n')) {
        if (Date.now() > deadline || dev.exitCode !== null) throw new Error(`npm run dev did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }, 120_000);

    afterAll(async () => {
      if (dev?.pid && dev.exitCode === null) {
        process.kill(-dev.pid, 'SIGINT');
        await new Promise((resolve) => dev.once('exit', resolve));
      }
      rmSync(stateDir, { recursive: true, force: true });
    });

    const shell = (script: string) =>
      spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PORT: String(port) },
      });

    it('work as written, in document order, in one shell', () => {
      const script = commands
        .filter((c) => {
          const how = HOW[c];
          return how && 'run' in how && how.run === 'with-server' && c !== 'npm run dev';
        })
        .map((c) => c.replaceAll(':8787', `:${port}`))
        .map((c) => `${c}\necho`)
        .join('\n');
      const result = shell(script);
      expect(result.status, `${script}\n${result.stdout}${result.stderr}`).toBe(0);
      const lines = result.stdout.split('\n').filter(Boolean);
      const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, never>);
      expect(json[0]).toMatchObject({ actor: { type: 'user', role: 'editor' } }); // GET /v1/me
      expect(json[1]).toMatchObject({ document: { title: 'Hello', body: 'first draft', version: 1 } });
      expect(json[2]).toMatchObject({
        documents: expect.arrayContaining([expect.objectContaining({ title: 'Hello' })]),
      });
      expect(lines.some((l) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(l))).toBe(true); // the owner's token
    });

    it("include the start-up banner's, which name the port the server runs on", () => {
      const banner = output
        .slice(output.indexOf('Try:') + 'Try:'.length)
        .trim()
        .split('\n')
        .slice(0, 2);
      expect(banner[0]).toContain(`:${port}`);
      const result = shell(banner.map((l) => l.trim()).join('\n'));
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ actor: { type: 'user', role: 'owner' } });
    });
  });
});
