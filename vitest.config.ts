import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Two projects. `workers`: the Worker's suite, inside workerd with the real wrangler.toml bindings; its
// database comes from test/global-setup.ts (the embedded Postgres, or the server in DATABASE_URL,
// behind the Neon bridge). `node`: what runs in Node — test/e2e (against a real `npm run dev`, in
// Chromium or over raw sockets) and test/tooling (migrations, the bridge, scripts, configuration, docs).
const NODE_SUITES = ['test/e2e/**/*.test.ts', 'test/tooling/**/*.test.ts'];
export default defineConfig({
  test: {
    reporters: ['default', './test/reporters/secret-scan.ts'],
    // Console output only for failed tests (the Worker logs every request); the secret scan reads all of it.
    silent: 'passed-only',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ENVIRONMENT: 'development',
                DATABASE_URL: inject<string>('databaseUrl'),
                DATABASE_PROXY_URL: inject<string>('databaseProxyUrl'),
                DATABASE_KIND: inject<string>('databaseKind'),
                ACTOR_SIGNING_KEYS: inject<string>('signingKeys'),
                IDP_JWKS_URL: `${inject<string>('idpUrl')}/jwks.json`,
                IDP_ISSUER: inject<string>('idpIssuer'),
                IDP_AUDIENCE: inject<string>('idpAudience'),
              },
              // A tight limiter for the rate-limit tests (the real one, AUTH_RATE_LIMIT, is generous). The
              // per-actor limit on refused attempts is lifted for the suite, whose property tests make
              // thousands of deliberate 403s as one actor; its own test runs against the tight one.
              ratelimits: {
                TEST_TIGHT_RATE_LIMIT: { namespace_id: '9001', simple: { limit: 3, period: 10 } },
                DENIED_RATE_LIMIT: { namespace_id: '9002', simple: { limit: 1_000_000, period: 60 } },
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          globalSetup: ['./test/global-setup.ts'],
          include: ['test/**/*.test.ts'],
          exclude: NODE_SUITES,
        },
      },
      {
        test: {
          name: 'node',
          environment: 'node',
          include: NODE_SUITES,
        },
      },
    ],
  },
});
