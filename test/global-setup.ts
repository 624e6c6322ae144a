/**
 * Runs in Node before the Workers-runtime tests: brings up the database the suite runs against —
 * the embedded Postgres (PGlite) unless DATABASE_URL names a server — applies the migrations, starts
 * the Neon bridge the Worker's driver talks to (and a fault proxy in front of it for the fault tests), a
 * local OIDC identity provider, and generates the suite's own signing keys (so tests never depend on a
 * developer's .dev.vars).
 */
import type { TestProject } from 'vitest/node';
import { generateSigningKeySet } from '../scripts/lib/dev-vars.ts';
import { startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.ts';
import { startFaultProxy } from '../scripts/lib/fault-proxy.ts';
import { startLocalIdp } from '../scripts/lib/local-idp.ts';
import { applyMigrations } from '../scripts/lib/migrate.ts';
import { startNeonBridge } from '../scripts/lib/neon-bridge.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Worker's DATABASE_URL: the bridge's connection string (scripts/lib/neon-bridge.ts), with its secret. */
    databaseUrl: string;
    databaseProxyUrl: string;
    /** The fault proxy in front of the bridge (scripts/lib/fault-proxy.ts), for test/hardening/faults.test.ts. */
    faultProxyUrl: string;
    databaseKind: 'embedded' | 'postgres';
    signingKeys: string;
    idpUrl: string;
    idpIssuer: string;
    idpAudience: string;
  }
}

export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres();
  const databaseUrl = external ?? embedded!.url;
  await applyMigrations(databaseUrl);
  // The Worker gets the bridge's connection string: the database's, with the bridge's per-run secret as password.
  const bridge = await startNeonBridge({ database: databaseUrl });
  const idp = await startLocalIdp();
  const faultProxy = await startFaultProxy(bridge.url);
  // Two keys: the first (EdDSA) signs; the second (ES256) is a previous key that must still verify.
  const current = JSON.parse(await generateSigningKeySet('EdDSA')).keys;
  const previous = JSON.parse(await generateSigningKeySet('ES256')).keys;
  project.provide('databaseUrl', bridge.connectionString);
  project.provide('databaseProxyUrl', bridge.url);
  project.provide('faultProxyUrl', faultProxy.url);
  project.provide('databaseKind', external ? 'postgres' : 'embedded');
  project.provide('signingKeys', JSON.stringify({ keys: [...current, ...previous] }));
  project.provide('idpUrl', idp.url);
  project.provide('idpIssuer', idp.issuer);
  project.provide('idpAudience', idp.audience);
  return async () => {
    await faultProxy.close();
    await idp.close();
    await bridge.close();
    await embedded?.close();
  };
}
