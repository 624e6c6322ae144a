import { beforeAll, describe, expect, it } from 'vitest';
import { forgetRevocations } from '../../src/identity/revocations.ts';
import { devToken } from '../support/actors.ts';
import { addMembership, adminSql, countedDatabase, createOrganization, unique } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';

describe('GET /v1/me', () => {
  it('describes a guest', async () => {
    const { status, body } = await call('GET', '/v1/me');
    expect(status).toBe(200);
    expect(body).toMatchObject({ actor: { type: 'guest' } });
  });

  it('describes a user with the permissions of their role, and no secret', async () => {
    const org = await createOrganization();
    const email = `${unique('viewer')}@example.com`;
    await addMembership(org.id, email, 'viewer');
    const token = await devToken(email, org.slug);
    const { body } = await call('GET', '/v1/me', { token });
    expect(body).toMatchObject({
      actor: {
        type: 'user',
        organizationId: org.id,
        role: 'viewer',
        permissions: ['documents:read', 'rooms:join', 'exports:create'],
      },
    });
    expect(JSON.stringify(body)).not.toContain(token);
  });
});

describe('GET /v1/me/orgs', () => {
  it("lists exactly the user's memberships, across organizations", async () => {
    const [a, b, c] = await Promise.all([createOrganization(), createOrganization(), createOrganization()]);
    const email = `${unique('multi')}@example.com`;
    await addMembership(a!.id, email, 'owner');
    await addMembership(b!.id, email, 'viewer');
    await addMembership(c!.id, `${unique('someone-else')}@example.com`, 'owner');
    const token = await devToken(email);
    const { status, body } = await call('GET', '/v1/me/orgs', { token });
    expect(status).toBe(200);
    const orgs = (body as { organizations: { id: string; role: string }[] }).organizations;
    expect(orgs.map((o) => [o.id, o.role]).sort()).toEqual(
      [
        [a!.id, 'owner'],
        [b!.id, 'viewer'],
      ].sort(),
    );
  });

  it('asks a guest to authenticate', async () => {
    const { status, body, headers } = await call('GET', '/v1/me/orgs');
    expect(status).toBe(401);
    expect(errorCode(body)).toBe('AUTHENTICATION_REQUIRED');
    expect(headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});

describe('revocation', () => {
  let org: { id: string; slug: string };
  let userId: string;
  let email: string;

  beforeAll(async () => {
    org = await createOrganization();
    email = `${unique('revoked')}@example.com`;
    userId = await addMembership(org.id, email, 'editor');
  });

  it('refuses tokens issued before the revocation with TOKEN_REVOKED, and accepts newer ones', async () => {
    const before = await devToken(email, org.slug);
    expect((await call('GET', '/v1/me', { token: before })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // let the clock pass the token's iat second
    await adminSql()`insert into revocations (organization_id, subject_type, subject_id) values (${org.id}, 'user', ${userId})`;
    forgetRevocations(org.id); // what the 30 s refresh does in production
    const refused = await call('GET', '/v1/me', { token: before });
    expect([refused.status, errorCode(refused.body)]).toEqual([401, 'TOKEN_REVOKED']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await devToken(email, org.slug);
    expect((await call('GET', '/v1/me', { token: after })).status).toBe(200);
  });

  it('reads no database per request in steady state', async () => {
    const token = await devToken(email, org.slug);
    const { env: counted, roundTrips } = countedDatabase();
    await call('GET', '/v1/me', { token, env: counted }); // warms the organization's revocation list
    const before = await roundTrips();
    for (let i = 0; i < 10; i++) expect((await call('GET', '/v1/me', { token, env: counted })).status).toBe(200);
    expect((await roundTrips()) - before).toBe(0);
  });
});
