/**
 * The typed client as a package (`@signet/client`, packages/client) type-checks and runs outside this repo:
 * `npm run build` makes it, then two plain consumer projects in a temporary folder, which see nothing of
 * this repo but the package (and the packages it depends on), type-check against it with the repo's tsc —
 * a Node one (`types: ["node"]`, strict, NodeNext) and a browser one (the DOM lib, no Node types, bundler
 * resolution) — and the Node one runs. That holds only while the client imports the contract alone
 * (src/contract): a server module would drag in the Workers bindings.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');

const USE_THE_CLIENT = `
import { createClient, isSignetError, type Document, type SignetClient } from '@signet/client';

export async function demo(baseUrl: string): Promise<string> {
  const signet: SignetClient = createClient({ baseUrl, getToken: async () => 'a-token' });
  try {
    const { document }: { document: Document } = await signet.documents.create({ title: 'Plan' });
    await signet.documents.update(document.id, { body: 'v2', version: document.version });
    const room = signet.room(document.id);
    room.on('message', (m) => console.log(m.seq, m.from.actor.id, m.data));
    room.close();
    return document.createdBy;
  } catch (error) {
    if (isSignetError(error, 'NETWORK_ERROR', 'CONFLICT')) return error.code;
    throw error;
  }
}
`;

/** Compile-time checks that the types are the contract's, not \`any\`. */
const TYPE_ERRORS = `
import { createClient } from '@signet/client';
const signet = createClient({ baseUrl: 'http://x' });
// @ts-expect-error title is required
void signet.documents.create({ body: 'no title' });
// @ts-expect-error role must be one of the contract's roles
void signet.members.add({ email: 'a@b.example', role: 'superuser' });
`;

function project(dir: string, files: Record<string, string>, links: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  // The package itself is copied in, as `npm install` of its tarball would; its dependencies are linked.
  cpSync(join(work, 'package'), join(dir, 'node_modules/@signet/client'), { recursive: true });
  for (const [name, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  }
}

/** What `npm install` of the package would put beside it in node_modules: its dependencies. */
const installed = () => ({
  zod: join(root, 'node_modules/zod'),
  partysocket: join(root, 'node_modules/partysocket'),
  yjs: join(root, 'node_modules/yjs'),
  'y-protocols': join(root, 'node_modules/y-protocols'),
  lib0: join(root, 'node_modules/lib0'),
  'event-target-polyfill': join(root, 'node_modules/event-target-polyfill'),
});

const typecheck = (dir: string) =>
  spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });

let work: string;

describe('the @signet/client package', () => {
  beforeAll(() => {
    const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    work = mkdtempSync(join(tmpdir(), 'signet-consumers-'));
    // The package as `npm pack` would ship it (package.json and dist/), copied out of the repo.
    mkdirSync(join(work, 'package'));
    cpSync(join(root, 'packages/client/package.json'), join(work, 'package/package.json'));
    cpSync(join(root, 'packages/client/dist'), join(work, 'package/dist'), { recursive: true });
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('depends only on the contract, zod, partysocket and Yjs, never on a server module', () => {
    const declarations = spawnSync('grep', ['-rhoE', 'from [\'"][^\'"]+[\'"]', join(work, 'package/dist')], {
      encoding: 'utf8',
    }).stdout;
    const imported = new Set(declarations.split('\n').filter(Boolean));
    for (const specifier of imported) {
      expect(specifier).toMatch(
        /^from ['"](zod|partysocket|yjs|y-protocols\/(sync|awareness)|lib0\/(encoding|decoding)|\.\/[\w-]+\.(ts|js)|\.\.\/contract\/[\w-]+\.(ts|js))['"]$/,
      );
    }
    const manifest = JSON.parse(readFileSync(join(root, 'packages/client/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['lib0', 'partysocket', 'y-protocols', 'zod']);
    expect(Object.keys(manifest.peerDependencies)).toEqual(['yjs']);
  });

  it('type-checks and runs in a plain Node project (types: ["node"], strict, NodeNext)', () => {
    const dir = join(work, 'node-consumer');
    project(
      dir,
      {
        'package.json': JSON.stringify({ name: 'node-consumer', private: true, type: 'module' }),
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            lib: ['es2023'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            types: ['node'],
            strict: true,
            noEmit: true,
            allowImportingTsExtensions: true,
          },
          include: ['*.ts'],
        }),
        'demo.ts': USE_THE_CLIENT,
        'type-errors.ts': TYPE_ERRORS,
        'main.ts': `import { demo } from './demo.ts';\nconsole.log(await demo('http://127.0.0.1:9'));\n`,
      },
      {
        ...installed(),
        '@types/node': join(root, 'node_modules/@types/node'),
        'undici-types': join(root, 'node_modules/undici-types'),
      },
    );
    const checked = typecheck(dir);
    // Yjs's own declarations name DOM types (YXmlFragment#toDOM), which a project without the DOM lib lacks:
    // every Yjs user there sees these. Nothing else may fail — the client's declarations least of all.
    const errors = (checked.stdout + checked.stderr).split('\n').filter((line) => / error TS\d+/.test(line));
    const yjsDomOnly =
      /^node_modules\/yjs\/dist\/src\/types\/YXml\w+\.d\.ts\(\d+,\d+\): error TS(2304|2552): Cannot find name '(Document|Node|Element|Text|self)'/;
    expect(errors.filter((line) => !yjsDomOnly.test(line))).toEqual([]);
    // It runs, too: nothing listens on port 9, so the typed error comes back.
    const ran = spawnSync(process.execPath, [join(dir, 'main.ts')], { cwd: dir, encoding: 'utf8' });
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe('NETWORK_ERROR');
  });

  it('type-checks in a browser project (the DOM lib, no Node types)', () => {
    const dir = join(work, 'browser-consumer');
    project(
      dir,
      {
        'package.json': JSON.stringify({ name: 'browser-consumer', private: true, type: 'module' }),
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            target: 'es2022',
            lib: ['es2023', 'dom', 'dom.iterable'],
            module: 'esnext',
            moduleResolution: 'bundler',
            types: [],
            strict: true,
            noEmit: true,
          },
          include: ['*.ts'],
        }),
        'demo.ts': USE_THE_CLIENT,
        'type-errors.ts': TYPE_ERRORS,
        'page.ts': `import { demo } from './demo';\nvoid demo(window.location.origin).then((t) => { document.title = t; });\n`,
      },
      installed(),
    );
    const checked = typecheck(dir);
    expect(checked.status, checked.stdout + checked.stderr).toBe(0);
  });
});
