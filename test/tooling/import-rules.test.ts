/**
 * The import rules of `.dependency-cruiser.cjs`, which `npm run lint` runs: the source tree keeps
 * them, and each rule fails on a small tree that breaks it — a cycle (through a type-only import), a
 * leaf importing a service, actor/ and policy/ importing what is above them, identity/ importing a
 * service, services importing jobs/ or a Durable Object, the client importing the server. The checker
 * runs as `npm run lint` runs it (the CLI: its exit status, and its JSON report for the details), in a
 * temporary folder for the fixture.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const config = join(root, '.dependency-cruiser.cjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string; readonly severity: string };
}

function depcruise(cwd: string, args: readonly string[]) {
  return spawnSync(process.execPath, [cli, '--config', config, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** As `npm run lint` runs it: its exit status, and the violations of its JSON report. */
function cruise(cwd: string, ...paths: string[]): { status: number | null; violations: Violation[] } {
  const { status } = depcruise(cwd, paths);
  const report = JSON.parse(depcruise(cwd, ['--output-type', 'json', ...paths]).stdout) as {
    summary: { violations: Violation[] };
  };
  return { status, violations: report.summary.violations };
}

const fixture = mkdtempSync(join(tmpdir(), 'signet-import-rules-'));
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

/** Writes `files` (path → imported paths) as modules that import each other, `import type` where marked. */
function tree(files: Record<string, readonly string[]>): void {
  for (const [path, imports] of Object.entries(files)) {
    const file = join(fixture, path);
    mkdirSync(dirname(file), { recursive: true });
    const lines = imports.map((target, i) => {
      const typeOnly = target.startsWith('type:');
      const to = typeOnly ? target.slice('type:'.length) : target;
      return `import ${typeOnly ? 'type ' : ''}{ x as x${i} } from '${to}';`;
    });
    writeFileSync(file, `${lines.join('\n')}\nexport const x = 1;\n`);
  }
}

// Each case starts the CLI (about 1.5 s alone, several seconds on a busy 2-core machine).
describe('import rules (npm run lint)', () => {
  it('hold for src/ and the client package', { timeout: 60_000 }, () => {
    const { status, violations } = cruise(root, 'src', 'packages/client');
    expect(violations).toEqual([]);
    expect(status).toBe(0);
  });

  it('fail on a cycle, and on every import against the layering', { timeout: 60_000 }, () => {
    tree({
      // a cycle inside one layer, closed by a type-only import: a type cycle is still a cycle
      'src/services/a.ts': ['./b.ts'],
      'src/services/b.ts': ['type:./a.ts'],
      // allowed: services take from rooms/ what knows no Durable Object, and identity, policy, db
      'src/services/ok.ts': [
        '../rooms/protocol.ts',
        '../rooms/attachment.ts',
        'type:../rooms/shared-document.ts',
        '../identity/i.ts',
        '../db/d.ts',
      ],
      'src/rooms/protocol.ts': [],
      'src/rooms/attachment.ts': [],
      'src/rooms/shared-document.ts': [],
      // services never import jobs/, http/, workflows/ or a Durable Object
      'src/services/c.ts': ['../jobs/j.ts', '../rooms/room.ts'],
      'src/jobs/j.ts': [],
      'src/rooms/room.ts': [],
      // a leaf (env.ts) importing a service, as env.ts once did
      'src/env.ts': ['type:./services/ok.ts'],
      // actor/ and policy/ know nothing of http, rooms, services or the database
      'src/actor/a.ts': ['../http/h.ts', '../db/d.ts'],
      'src/http/h.ts': [],
      'src/db/d.ts': ['../errors.ts'],
      'src/errors.ts': [],
      'src/policy/p.ts': ['../actor/a.ts', '../services/c.ts'],
      // identity/ builds on actor/, policy/ and db/ only
      'src/identity/i.ts': ['../actor/a.ts', '../policy/p.ts', '../db/d.ts', '../services/c.ts'],
      // the client imports the contract only
      'src/client/index.ts': ['../contract/schemas.ts', '../errors.ts'],
      'src/contract/schemas.ts': [],
    });
    const { status, violations } = cruise(fixture, 'src');
    const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(found).toEqual(
      [
        'actor-knows-no-layer-above: src/actor/a.ts → src/db/d.ts',
        'actor-knows-no-layer-above: src/actor/a.ts → src/http/h.ts',
        'client-imports-only-the-contract: src/client/index.ts → src/errors.ts',
        'identity-depends-only-downward: src/identity/i.ts → src/services/c.ts',
        'leaves-import-only-leaves: src/env.ts → src/services/ok.ts',
        'no-circular: src/services/a.ts → src/services/b.ts',
        'policy-knows-actors-and-permissions-only: src/policy/p.ts → src/services/c.ts',
        'services-never-import-entry-layers: src/services/c.ts → src/jobs/j.ts',
        'services-never-import-entry-layers: src/services/c.ts → src/rooms/room.ts',
      ].sort(),
    );
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
    expect(status).not.toBe(0);
  });
});
