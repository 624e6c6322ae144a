/**
 * The attack corpus (issue: signed actors): every hostile or broken token gets 401 with the SPEC's
 * code — never a 5xx, never a silent guest — and `WWW-Authenticate: Bearer`.
 */
import { env, SELF } from 'cloudflare:test';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  craftToken,
  me,
  privateSigningJwks,
  rawSignedToken,
  signedToken,
  userSubject,
  validClaims,
  validHeader,
} from '../support/actors.ts';

const now = () => Math.floor(Date.now() / 1000);

async function attackerJwk() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

function segments(token: string): [string, string, string] {
  return token.split('.') as [string, string, string];
}

function encodeJson(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes spelled non-canonically: the last character with its unused low bits set (4 bits
 * after 2 leftover characters, 2 after 3). A lenient decoder reads it as the original.
 */
function nonCanonical(segment: string): string {
  const leftover = segment.length % 4;
  if (leftover === 0) throw new Error('a segment without unused bits');
  const last = ALPHABET.indexOf(segment.at(-1)!);
  return `${segment.slice(0, -1)}${ALPHABET[last | (leftover === 2 ? 0b1111 : 0b11)]}`;
}

type Case = [name: string, token: () => Promise<string>, code: string];

const cases: Case[] = [
  [
    'alg none',
    async () => `${encodeJson({ alg: 'none', typ: 'actor+jwt' })}.${encodeJson(validClaims())}.`,
    'INVALID_TOKEN',
  ],
  [
    'alg none with our kid and a junk signature',
    async () =>
      `${encodeJson({ alg: 'none', typ: 'actor+jwt', kid: privateSigningJwks()[0]!.kid })}.${encodeJson(validClaims())}.AAAA`,
    'INVALID_TOKEN',
  ],
  [
    'HS256 keyed with our public key (algorithm confusion)',
    async () => {
      const ours = privateSigningJwks()[0]!;
      const publicJson = JSON.stringify({ kty: ours.kty, crv: ours.crv, x: ours.x });
      return new SignJWT(validClaims())
        .setProtectedHeader({ alg: 'HS256', kid: ours.kid, typ: 'actor+jwt' })
        .sign(new TextEncoder().encode(publicJson));
    },
    'INVALID_TOKEN',
  ],
  [
    'tampered payload (role raised to owner)',
    async () => {
      const [h, , s] = segments(await signedToken(userSubject(crypto.randomUUID(), 'viewer')));
      return `${h}.${encodeJson(validClaims({ org: crypto.randomUUID(), role: 'owner' }))}.${s}`;
    },
    'INVALID_TOKEN',
  ],
  [
    'stripped signature',
    async () => {
      const [h, p] = segments(await signedToken(userSubject()));
      return `${h}.${p}.`;
    },
    'INVALID_TOKEN',
  ],
  [
    'signature re-spelled non-canonically (its last character changed, its bytes the same)',
    async () => {
      const [h, p, sig] = segments(await signedToken(userSubject()));
      return `${h}.${p}.${nonCanonical(sig)}`;
    },
    'INVALID_TOKEN',
  ],
  [
    'a signature of impossible length (1 mod 4)',
    async () => {
      const [h, p, sig] = segments(await signedToken(userSubject()));
      return `${h}.${p}.${sig}${'A'.repeat((5 - (sig.length % 4)) % 4 || 4)}`;
    },
    'INVALID_TOKEN',
  ],
  [
    'signature swapped from another valid token',
    async () => {
      const [h, p] = segments(await signedToken(userSubject()));
      const [, , s] = segments(await signedToken(userSubject()));
      return `${h}.${p}.${s}`;
    },
    'INVALID_TOKEN',
  ],
  [
    'attacker key with our kid',
    async () => craftToken(validHeader(), validClaims(), (await attackerJwk()).privateJwk),
    'INVALID_TOKEN',
  ],
  [
    'attacker key embedded as jwk',
    async () => {
      const attacker = await attackerJwk();
      return craftToken(
        { alg: 'EdDSA', typ: 'actor+jwt', jwk: attacker.publicJwk },
        validClaims(),
        attacker.privateJwk,
      );
    },
    'INVALID_TOKEN',
  ],
  [
    'attacker key embedded as jwk, with our kid',
    async () => {
      const attacker = await attackerJwk();
      return craftToken(validHeader({ jwk: attacker.publicJwk }), validClaims(), attacker.privateJwk);
    },
    'INVALID_TOKEN',
  ],
  [
    'attacker key set by jku',
    async () =>
      craftToken(
        validHeader({ jku: 'http://127.0.0.1:9/evil.json', x5u: 'http://127.0.0.1:9/x' }),
        validClaims(),
        (await attackerJwk()).privateJwk,
      ),
    'INVALID_TOKEN',
  ],
  [
    'kid path traversal',
    async () => craftToken(validHeader({ kid: '../../../../etc/passwd' }), validClaims()),
    'INVALID_TOKEN',
  ],
  ['kid SQL injection', async () => craftToken(validHeader({ kid: "' OR '1'='1" }), validClaims()), 'INVALID_TOKEN'],
  ['kid prototype key', async () => craftToken(validHeader({ kid: '__proto__' }), validClaims()), 'INVALID_TOKEN'],
  ['kid not a string', async () => craftToken(validHeader({ kid: 7 }), validClaims()), 'INVALID_TOKEN'],
  ['unknown kid', async () => craftToken(validHeader({ kid: 'retired-key' }), validClaims()), 'INVALID_TOKEN'],
  ['typ JWT', async () => craftToken(validHeader({ typ: 'JWT' }), validClaims()), 'INVALID_TOKEN'],
  ['typ missing', async () => craftToken(validHeader({ typ: undefined }), validClaims()), 'INVALID_TOKEN'],
  ['wrong iss', async () => craftToken(validHeader(), validClaims({ iss: 'https://evil.example' })), 'INVALID_TOKEN'],
  ['wrong aud', async () => craftToken(validHeader(), validClaims({ aud: 'another-service' })), 'INVALID_TOKEN'],
  [
    'expired',
    async () => craftToken(validHeader(), validClaims({ iat: now() - 1000, exp: now() - 100 })),
    'TOKEN_EXPIRED',
  ],
  ['nbf in the future', async () => craftToken(validHeader(), validClaims({ nbf: now() + 300 })), 'INVALID_TOKEN'],
  [
    'iat in the future',
    async () => craftToken(validHeader(), validClaims({ iat: now() + 300, exp: now() + 900 })),
    'INVALID_TOKEN',
  ],
  [
    'lifetime over one hour',
    async () => craftToken(validHeader(), validClaims({ iat: now(), exp: now() + 7200 })),
    'INVALID_TOKEN',
  ],
  [
    'issued over an hour ago',
    async () => craftToken(validHeader(), validClaims({ iat: now() - 4000, exp: now() + 60 })),
    'INVALID_TOKEN',
  ],
  ...(['sub', 'exp', 'iat', 'jti', 'actor_type', 'iss', 'aud', 'sid'] as const).map(
    (claim): Case => [
      `missing ${claim}`,
      async () => craftToken(validHeader(), validClaims({ [claim]: undefined })),
      'INVALID_TOKEN',
    ],
  ),
  ['sub a number', async () => craftToken(validHeader(), validClaims({ sub: 42 })), 'INVALID_TOKEN'],
  [
    'sub not a uuid',
    async () => craftToken(validHeader(), validClaims({ sub: "x'; drop table users; --" })),
    'INVALID_TOKEN',
  ],
  ['exp a string', async () => craftToken(validHeader(), validClaims({ exp: 'tomorrow' })), 'INVALID_TOKEN'],
  ['actor_type system', async () => craftToken(validHeader(), validClaims({ actor_type: 'system' })), 'INVALID_TOKEN'],
  ['actor_type unknown', async () => craftToken(validHeader(), validClaims({ actor_type: 'admin' })), 'INVALID_TOKEN'],
  // Before RFC 8693 objects, the actor type travelled in a string `act`: such tokens are refused now.
  [
    'a string act (the old token shape)',
    async () => craftToken(validHeader(), validClaims({ actor_type: undefined, act: 'user' })),
    'INVALID_TOKEN',
  ],
  [
    'a string act next to actor_type',
    async () => craftToken(validHeader(), validClaims({ act: 'user' })),
    'INVALID_TOKEN',
  ],
  [
    'an act object on a user token',
    async () => craftToken(validHeader(), validClaims({ act: { sub: `agent:${crypto.randomUUID()}`, name: 'x' } })),
    'INVALID_TOKEN',
  ],
  ...(
    [
      ['a string act', 'agent'],
      ['no act', undefined],
      ['act.sub without the agent: prefix', { sub: crypto.randomUUID(), name: 'bot' }],
      ['act.sub not a uuid', { sub: 'agent:root', name: 'bot' }],
      ['act with extra members', { sub: `agent:${crypto.randomUUID()}`, name: 'bot', act: { sub: 'x' } }],
      ['act without a name', { sub: `agent:${crypto.randomUUID()}` }],
    ] as const
  ).map(
    ([name, act]): Case => [
      `agent token with ${name}`,
      async () =>
        craftToken(
          validHeader(),
          validClaims({ actor_type: 'agent', org: crypto.randomUUID(), scope: 'documents:read', sid: undefined, act }),
        ),
      'INVALID_TOKEN',
    ],
  ),
  [
    'agent token without an organization',
    async () =>
      craftToken(
        validHeader(),
        validClaims({
          actor_type: 'agent',
          scope: 'documents:read',
          sid: undefined,
          act: { sub: `agent:${crypto.randomUUID()}`, name: 'bot' },
        }),
      ),
    'INVALID_TOKEN',
  ],
  [
    'service token without its grantor',
    async () =>
      craftToken(
        validHeader(),
        validClaims({ actor_type: 'service', org: crypto.randomUUID(), scope: 'documents:read', sid: undefined }),
      ),
    'INVALID_TOKEN',
  ],
  [
    'role unknown',
    async () => craftToken(validHeader(), validClaims({ org: crypto.randomUUID(), role: 'superuser' })),
    'INVALID_TOKEN',
  ],
  ['role without organization', async () => craftToken(validHeader(), validClaims({ role: 'owner' })), 'INVALID_TOKEN'],
  [
    'org not a uuid',
    async () => craftToken(validHeader(), validClaims({ org: 'acme', role: 'owner' })),
    'INVALID_TOKEN',
  ],
  [
    'service scope with an unknown permission',
    async () =>
      craftToken(
        validHeader(),
        validClaims({
          actor_type: 'service',
          org: crypto.randomUUID(),
          scope: 'documents:read root',
          grantor: crypto.randomUUID(),
          sid: undefined,
        }),
      ),
    'INVALID_TOKEN',
  ],
  [
    'crit header',
    async () => rawSignedToken(validHeader({ crit: ['exp'], exp: now() + 60 }), validClaims()),
    'INVALID_TOKEN',
  ],
  [
    'unencoded payload (b64: false)',
    async () => rawSignedToken(validHeader({ b64: false, crit: ['b64'] }), validClaims()),
    'INVALID_TOKEN',
  ],
  [
    'a correctly signed raw token is accepted (control)',
    async () => rawSignedToken(validHeader(), validClaims()),
    'OK',
  ],
  ['one segment', async () => 'abcdef', 'INVALID_TOKEN'],
  ['two segments', async () => 'abc.def', 'INVALID_TOKEN'],
  ['four segments', async () => `${await signedToken(userSubject())}.extra`, 'INVALID_TOKEN'],
  ['header not JSON', async () => `${base64url.encode('not json')}.${encodeJson(validClaims())}.AAAA`, 'INVALID_TOKEN'],
  ['not base64url', async () => 'a+b/c.d+e/f.g+h/i', 'INVALID_TOKEN'],
  [
    'oversized (64 KiB)',
    async () => craftToken(validHeader(), validClaims({ pad: 'x'.repeat(64 * 1024) })),
    'INVALID_TOKEN',
  ],
  [
    'an IdP ID token presented as a bearer',
    async () => {
      const key = (await (await fetch(`${env.IDP_JWKS_URL!.replace('/jwks.json', '')}/__idp/key`)).json()) as {
        privateJwk: { kid: string };
      };
      return new SignJWT({ email: 'someone@example.com' })
        .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid })
        .setIssuer(env.IDP_ISSUER!)
        .setAudience(env.IDP_AUDIENCE!)
        .setSubject('idp-user-1')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(await importJWK(key.privateJwk, 'ES256'));
    },
    'INVALID_TOKEN',
  ],
];

describe('the attack corpus', () => {
  it.each(cases.map(([name, make, code]) => [name, code, make] as const))('%s → %s', async (_name, code, makeToken) => {
    const response = await me(await makeToken());
    if (code === 'OK') {
      expect(response.status).toBe(200);
      return;
    }
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
  });

  it('never echoes the token in the error', async () => {
    const token = await craftToken(validHeader({ kid: 'retired-key' }), validClaims());
    const response = await me(token);
    const text = await response.text();
    for (const part of segments(token)) expect(text).not.toContain(part);
  });

  it.each([
    ['a Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
    ['a bearer with two tokens', 'Bearer a.b.c d.e.f'],
  ])('refuses %s with 401 INVALID_TOKEN, not a guest', async (_name, header) => {
    const response = await SELF.fetch('http://signet.test/v1/me', { headers: { authorization: header } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('INVALID_TOKEN');
  });

  it('accepts a token signed by a previous key that is still configured (rotation)', async () => {
    const previous = privateSigningJwks()[1]!;
    expect(previous.alg).toBe('ES256');
    const token = await craftToken({ alg: 'ES256', kid: previous.kid, typ: 'actor+jwt' }, validClaims(), previous);
    const response = await me(token);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { actor: { type: string } }).actor.type).toBe('user');
  });

  it('refuses a key used with another algorithm than its own', async () => {
    const previous = privateSigningJwks()[1]!;
    const ours = privateSigningJwks()[0]!;
    // Our EdDSA key's kid, but the token says ES256 and is signed with the ES256 key.
    const token = await craftToken({ alg: 'ES256', kid: ours.kid, typ: 'actor+jwt' }, validClaims(), previous);
    expect((await me(token)).status).toBe(401);
  });
});
