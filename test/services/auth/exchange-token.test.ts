import { env } from 'cloudflare:test';
import { jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../../src/index.ts';
import { hashApiKeySecret, newApiKeySecret } from '../../../src/services/auth/api-key-secret.ts';
import { me } from '../../support/actors.ts';
import { addMembership, adminSql, createOrganization, unique } from '../../support/database.ts';
import { call, errorCode, executionContext } from '../../support/http.ts';
import { idpKey, idToken } from '../../support/idp.ts';

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  actor: { type: string; id: string; organizationId: string | null; role?: string | null; scopes?: string[] };
}

describe('POST /v1/auth/token', () => {
  let org: { id: string; slug: string };
  let editorEmail: string;

  beforeAll(async () => {
    org = await createOrganization();
    editorEmail = `${unique('editor')}@example.com`;
    await addMembership(org.id, editorEmail, 'editor');
  });

  describe('dev grant', () => {
    it('creates the user on first use and returns an org-less user token', async () => {
      const email = `${unique('new')}@example.com`;
      const { status, body } = await call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email } });
      expect(status).toBe(200);
      const token = body as TokenBody;
      expect(token).toMatchObject({
        token_type: 'Bearer',
        expires_in: 900,
        actor: { type: 'user', organizationId: null, role: null },
      });
      const [row] = await adminSql()`select id from users where email = ${email}`;
      expect(token.actor.id).toBe((row as { id: string }).id);
    });

    it('finds the same user again', async () => {
      const email = `${unique('again')}@example.com`;
      const first = (await call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email } })).body as TokenBody;
      const second = (await call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email } })).body as TokenBody;
      expect(second.actor.id).toBe(first.actor.id);
    });

    it('binds the organization by slug or id, with the membership role', async () => {
      for (const organization of [org.slug, org.id]) {
        const { status, body } = await call('POST', '/v1/auth/token', {
          body: { grant_type: 'dev', email: editorEmail, organization },
        });
        expect(status).toBe(200);
        expect((body as TokenBody).actor).toMatchObject({ type: 'user', organizationId: org.id, role: 'editor' });
      }
    });

    it('answers 404 for an organization the user is not a member of, as for one that does not exist', async () => {
      const other = await createOrganization();
      const notMember = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'dev', email: editorEmail, organization: other.slug },
      });
      const missing = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'dev', email: editorEmail, organization: 'no-such-org' },
      });
      expect([notMember.status, missing.status]).toEqual([404, 404]);
      expect((notMember.body as { error: { message: string } }).error.message).toBe(
        (missing.body as { error: { message: string } }).error.message,
      );
    });

    it('honours ttl_seconds within 5..3600 and refuses values outside', async () => {
      const ok = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'dev', email: editorEmail, ttl_seconds: 60 },
      });
      expect((ok.body as TokenBody).expires_in).toBe(60);
      for (const ttl_seconds of [4, 3601, 1.5, '60']) {
        const bad = await call('POST', '/v1/auth/token', {
          body: { grant_type: 'dev', email: editorEmail, ttl_seconds },
        });
        expect(bad.status).toBe(400);
        expect(errorCode(bad.body)).toBe('VALIDATION_FAILED');
      }
    });

    it('is an unknown grant type outside development', async () => {
      const request = new Request('http://signet.test/v1/auth/token', {
        method: 'POST',
        body: JSON.stringify({ grant_type: 'dev', email: editorEmail }),
      });
      const response = await worker.fetch(request, { ...env, ENVIRONMENT: 'production' }, executionContext);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string; details: { path: string }[] } };
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.details[0]!.path).toBe('grant_type');
    });

    it('produces a token any party can verify with a stock JOSE library and our JWKS', async () => {
      const token = (
        (await call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email: editorEmail } })).body as TokenBody
      ).access_token;
      const jwks = (await call('GET', '/.well-known/jwks.json')).body as { keys: Record<string, unknown>[] };
      expect(jwks.keys.length).toBe(2);
      for (const key of jwks.keys) expect(key.d).toBeUndefined();
      const { createLocalJWKSet } = await import('jose');
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
        issuer: env.ACTOR_ISSUER,
        audience: env.ACTOR_AUDIENCE,
      });
      expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'actor+jwt' });
      expect(payload).toMatchObject({ actor_type: 'user' });
      expect(payload.act).toBeUndefined();
    });
  });

  describe('malformed requests', () => {
    it.each([
      ['not JSON', '{"grant_type": "dev",'],
      ['an unknown grant type', JSON.stringify({ grant_type: 'password', username: 'a', password: 'b' })],
      ['an unknown field', JSON.stringify({ grant_type: 'dev', email: 'a@example.com', admin: true })],
      ['a wrong type', JSON.stringify({ grant_type: 'dev', email: 42 })],
      ['no body', ''],
      ['an array', '[]'],
    ])('answers 400 VALIDATION_FAILED for %s', async (_name, rawBody) => {
      const { status, body } = await call('POST', '/v1/auth/token', { rawBody });
      expect(status).toBe(400);
      expect(errorCode(body)).toBe('VALIDATION_FAILED');
    });

    it('answers 413 for a body over 64 KiB', async () => {
      const { status, body } = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'dev', email: 'a@example.com', pad: 'x'.repeat(70 * 1024) },
      });
      expect(status).toBe(413);
      expect(errorCode(body)).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('api_key grant', () => {
    async function apiKey(scopes: string[], creatorRole: string, revoked = false) {
      const creator = await addMembership(org.id, `${unique('creator')}@example.com`, creatorRole);
      const secret = newApiKeySecret();
      const [row] =
        await adminSql()`insert into api_keys (organization_id, name, scopes, secret_hash, created_by, revoked_at)
        values (${org.id}, 'ci', ${scopes}, ${await hashApiKeySecret(secret)}, ${creator}, ${revoked ? new Date() : null}) returning id`;
      return { secret, id: (row as { id: string }).id };
    }

    it('exchanges a key for a service actor with its scopes', async () => {
      const key = await apiKey(['documents:read', 'documents:write'], 'admin');
      const { status, body } = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'api_key', api_key: key.secret },
      });
      expect(status).toBe(200);
      expect((body as TokenBody).actor).toMatchObject({
        type: 'service',
        id: key.id,
        organizationId: org.id,
        scopes: ['documents:read', 'documents:write'],
      });
      const response = await me((body as TokenBody).access_token);
      expect(((await response.json()) as TokenBody).actor.type).toBe('service');
    });

    it('never grants more than the key creator may do now', async () => {
      const key = await apiKey(['documents:read', 'documents:delete', 'audit:read'], 'editor');
      const { body } = await call('POST', '/v1/auth/token', { body: { grant_type: 'api_key', api_key: key.secret } });
      expect((body as TokenBody).actor.scopes).toEqual(['documents:read']);
    });

    it('refuses an unknown key with 401 INVALID_TOKEN and a revoked one with TOKEN_REVOKED', async () => {
      const unknown = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'api_key', api_key: newApiKeySecret() },
      });
      expect([unknown.status, errorCode(unknown.body)]).toEqual([401, 'INVALID_TOKEN']);
      const revoked = await apiKey(['documents:read'], 'admin', true);
      const refused = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'api_key', api_key: revoked.secret },
      });
      expect([refused.status, errorCode(refused.body)]).toEqual([401, 'TOKEN_REVOKED']);
    });

    it('stores only a hash of the secret', async () => {
      const key = await apiKey(['documents:read'], 'admin');
      const rows = await adminSql()`select * from api_keys where id = ${key.id}`;
      expect(JSON.stringify(rows)).not.toContain(key.secret);
    });
  });

  describe('id_token grant', () => {
    it('exchanges a verified IdP token for a user token, binding the organization', async () => {
      const { status, body } = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'id_token', id_token: await idToken({ email: editorEmail }), organization: org.slug },
      });
      expect(status).toBe(200);
      expect((body as TokenBody).actor).toMatchObject({ type: 'user', organizationId: org.id, role: 'editor' });
    });

    it.each([
      ['a wrong audience', () => idToken({ email: 'x@example.com' }, { audience: 'someone-else' }), 'INVALID_TOKEN'],
      [
        'a wrong issuer',
        () => idToken({ email: 'x@example.com' }, { issuer: 'https://evil.example/' }),
        'INVALID_TOKEN',
      ],
      ['an expired token', () => idToken({ email: 'x@example.com' }, { expiresIn: '-2m' }), 'TOKEN_EXPIRED'],
    ])('refuses %s', async (_name, make, code) => {
      const { status, body } = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'id_token', id_token: await make() },
      });
      expect(status).toBe(401);
      expect(errorCode(body)).toBe(code);
    });

    it('refuses a Signet token presented as an ID token', async () => {
      const { body } = await call('POST', '/v1/auth/token', { body: { grant_type: 'dev', email: editorEmail } });
      const { status } = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'id_token', id_token: (body as TokenBody).access_token },
      });
      expect(status).toBe(401);
    });

    it('signs nothing with a key the IdP never published', async () => {
      const key = { ...(await idpKey()), kid: 'not-published' };
      const { status } = await call('POST', '/v1/auth/token', {
        body: { grant_type: 'id_token', id_token: await idToken({ email: 'x@example.com' }, { key }) },
      });
      expect(status).toBe(401);
    });
  });
});
