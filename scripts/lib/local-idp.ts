/**
 * A local OpenID identity provider for tests and benchmarks: serves a JWKS at `/jwks.json`, counts how
 * often it is fetched (`GET /__idp/stats`, or `?suite=X` for fetches of `/jwks.json?suite=X`), and rotates its key on `POST /__idp/rotate`. Tests sign ID
 * tokens with the private keys it hands out (`privateJwks`), exactly as Clerk or Auth0 would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface LocalIdp {
  readonly url: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** The current signing key, private, with `kid` and `alg`. */
  currentKey(): JWK;
  close(): Promise<void>;
}

async function newKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `idp-${crypto.randomUUID().slice(0, 8)}`;
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
  };
}

export async function startLocalIdp(): Promise<LocalIdp> {
  const keys = [await newKey()];
  let fetches = 0;
  /** Fetches per `suite` query parameter, so parallel test files each count only their own. */
  const fetchesBySuite = new Map<string, number>();
  const server = http.createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://idp');
    const suite = url.searchParams.get('suite') ?? '';
    if (req.method === 'GET' && url.pathname === '/jwks.json') {
      fetches += 1;
      fetchesBySuite.set(suite, (fetchesBySuite.get(suite) ?? 0) + 1);
      return send(200, { keys: keys.map((k) => k.publicJwk) });
    }
    if (req.method === 'GET' && url.pathname === '/__idp/stats') {
      return send(200, { fetches: url.searchParams.has('suite') ? (fetchesBySuite.get(suite) ?? 0) : fetches });
    }
    if (req.method === 'POST' && req.url === '/__idp/rotate') {
      keys.unshift(await newKey());
      return send(200, { privateJwk: keys[0]!.privateJwk });
    }
    if (req.method === 'GET' && req.url === '/__idp/key') return send(200, { privateJwk: keys[0]!.privateJwk });
    return send(404, { message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    jwksUrl: `${url}/jwks.json`,
    issuer: `${url}/`,
    audience: 'signet-local-client',
    currentKey: () => keys[0]!.privateJwk,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
