/**
 * Imports run one way (README "Layers"; `npm run lint` runs this through dependency-cruiser):
 *
 *   index.ts ─▶ http · rooms · jobs · workflows ─▶ services · context ─▶ identity · policy ─▶ actor · db
 *            ─▶ errors · env · observability · contract · messages · text · uuid
 *   client ─▶ contract only
 *
 * A cycle, or an import against that order, is an error. Type-only imports count as much as value
 * imports (a type cycle is still a cycle). `test/tooling/import-rules.test.ts` proves each rule can fail.
 *
 * Parsed with swc: dependency-cruiser's TypeScript support needs the compiler API of TypeScript < 7,
 * which TypeScript 7 no longer ships; swc reads the same imports, `import type` included, from the AST.
 */

/** A folder (or a top-level module) of src/, as a path pattern. */
const src = (...names) => `^src/(${names.join('|')})(/|\\.ts$)`;

/** The bottom: modules that import nothing of src/ but each other. */
const LEAVES = ['errors', 'env', 'observability', 'contract', 'messages', 'text', 'uuid', 'types'];
/** The top: the entry point and the layers it wires to platform events. */
const UPPER = ['index', 'http', 'rooms', 'jobs', 'workflows'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle joins modules that should depend one way; break it by moving the shared part down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nothing-imports-the-entry-point',
      comment: 'index.ts composes the Worker; nothing in src/ builds on it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: src('index') },
    },
    {
      name: 'leaves-import-only-leaves',
      comment: 'errors, env, observability, the contract, the queue messages and text import no other part of src/.',
      severity: 'error',
      from: { path: src(...LEAVES) },
      to: { path: '^src/', pathNot: src(...LEAVES) },
    },
    {
      name: 'actor-knows-no-layer-above',
      comment: 'actor/ turns tokens into actors: it knows nothing of HTTP, rooms, services, policies or the database.',
      severity: 'error',
      from: { path: src('actor') },
      to: { path: src(...UPPER, 'services', 'identity', 'policy', 'context', 'db') },
    },
    {
      name: 'db-knows-no-layer-above',
      comment: 'db/ is the schema, the client and the tenant session: it takes a scope, never an actor.',
      severity: 'error',
      from: { path: src('db') },
      to: { path: src(...UPPER, 'services', 'identity', 'policy', 'context', 'actor') },
    },
    {
      name: 'policy-knows-actors-and-permissions-only',
      comment: 'policy/ decides from the actor alone: no HTTP, rooms, services, identity or database.',
      severity: 'error',
      from: { path: src('policy') },
      to: { path: src(...UPPER, 'services', 'identity', 'db', 'context') },
    },
    {
      name: 'identity-depends-only-downward',
      comment: 'identity/ (bearer → actor, revocations, actors rebuilt from references) builds on actor, policy and db only.',
      severity: 'error',
      from: { path: src('identity') },
      to: { path: src(...UPPER, 'services', 'context') },
    },
    {
      name: 'context-depends-only-downward',
      comment:
        'The per-operation context (actor, bindings, database, log fields) is the floor of services: it builds on policy, actor and db, never on a service or a layer above.',
      severity: 'error',
      from: { path: src('context') },
      to: { path: src(...UPPER, 'services') },
    },
    {
      name: 'services-never-import-entry-layers',
      comment:
        'services/ never import http, jobs or workflows (nor the Durable Objects): what they share moves down. From rooms/ they take only what knows no Durable Object: the wire protocol, the admission they hand a room, and the types of the shared document (shared-document.ts, Yjs state over an injected SQL).',
      severity: 'error',
      from: { path: src('services') },
      to: {
        path: src('index', 'http', 'jobs', 'workflows', 'rooms'),
        pathNot: '^src/rooms/(protocol|attachment|shared-document)\\.ts$',
      },
    },
    {
      name: 'client-imports-only-the-contract',
      comment: 'The typed client (src/client, packages/client) is built from itself and src/contract, nothing of the server.',
      severity: 'error',
      from: { path: '^(src/client|packages/client)/' },
      to: { path: '^(src|packages)/', pathNot: '^(src/client|src/contract|packages/client)/' },
    },
    {
      name: 'contract-imports-only-the-contract',
      comment: 'src/contract is what the client ships: it may import nothing else of src/.',
      severity: 'error',
      from: { path: src('contract') },
      to: { path: '^src/', pathNot: src('contract') },
    },
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    // The generated bindings (`npm run types`) name the Durable Object classes through index.ts, in types only.
    exclude: { path: '(^|/)node_modules/|(^|/)dist/|^src/worker-configuration\\.d\\.ts$' },
    includeOnly: { path: '^(src|packages/client)/' },
    moduleSystems: ['es6'],
    enhancedResolveOptions: { extensions: ['.ts', '.d.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
