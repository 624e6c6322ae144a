/**
 * The authorization matrix (SPEC §1/§3): every role, a service key (scopes documents:read and
 * rooms:join), a guest and a member of another organization × every endpoint → status and code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../support/actors.ts';
import { unique } from '../support/database.ts';
import { call, errorCode } from '../support/http.ts';
import { createDoc, createTenant, type Tenant } from '../support/tenants.ts';

type Caller = 'owner' | 'admin' | 'editor' | 'viewer' | 'service' | 'guest' | 'outsider';
const CALLERS: Caller[] = ['owner', 'admin', 'editor', 'viewer', 'service', 'guest', 'outsider'];

interface Endpoint {
  name: string;
  request: (t: Tenant) => Promise<{ method: string; path: string; body?: unknown }>;
  /** Expected `status` or `status CODE` per caller. */
  expect: Record<Caller, string>;
}

let home: Tenant;
let other: Tenant;

const doc = async () => (await createDoc(home.tokens.owner)).id;
const member = async (role: 'viewer' | 'editor' | 'admin') => {
  const email = `${unique('m')}@example.com`;
  const response = await call('POST', '/v1/members', { token: home.tokens.owner, body: { email, role } });
  return (response.body as { member: { userId: string } }).member.userId;
};
const apiKey = async () => {
  const response = await call('POST', '/v1/api-keys', {
    token: home.tokens.owner,
    body: { name: 'k', scopes: ['documents:read'] },
  });
  return (response.body as { apiKey: { id: string } }).apiKey.id;
};

const G = '401 AUTHENTICATION_REQUIRED';
const F = '403 INSUFFICIENT_PERMISSIONS';
const N = '404 NOT_FOUND';

const endpoints: Endpoint[] = [
  {
    name: 'GET /v1/documents',
    request: async () => ({ method: 'GET', path: '/v1/documents' }),
    expect: { owner: '200', admin: '200', editor: '200', viewer: '200', service: '200', guest: G, outsider: '200' },
  },
  {
    name: 'POST /v1/documents',
    request: async () => ({ method: 'POST', path: '/v1/documents', body: { title: 'x' } }),
    expect: { owner: '201', admin: '201', editor: '201', viewer: F, service: F, guest: G, outsider: '201' },
  },
  {
    name: 'GET /v1/documents/:id',
    request: async () => ({ method: 'GET', path: `/v1/documents/${await doc()}` }),
    expect: { owner: '200', admin: '200', editor: '200', viewer: '200', service: '200', guest: G, outsider: N },
  },
  {
    name: 'PATCH /v1/documents/:id',
    request: async () => ({ method: 'PATCH', path: `/v1/documents/${await doc()}`, body: { title: 'y', version: 1 } }),
    expect: { owner: '200', admin: '200', editor: '200', viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'DELETE /v1/documents/:id',
    request: async () => ({ method: 'DELETE', path: `/v1/documents/${await doc()}` }),
    expect: { owner: '204', admin: '204', editor: F, viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'GET /v1/members',
    request: async () => ({ method: 'GET', path: '/v1/members' }),
    expect: { owner: '200', admin: '200', editor: F, viewer: F, service: F, guest: G, outsider: '200' },
  },
  {
    name: 'POST /v1/members (viewer)',
    request: async () => ({
      method: 'POST',
      path: '/v1/members',
      body: { email: `${unique('n')}@example.com`, role: 'viewer' },
    }),
    expect: { owner: '201', admin: '201', editor: F, viewer: F, service: F, guest: G, outsider: '201' },
  },
  {
    name: 'POST /v1/members (admin)',
    request: async () => ({
      method: 'POST',
      path: '/v1/members',
      body: { email: `${unique('n')}@example.com`, role: 'admin' },
    }),
    expect: { owner: '201', admin: F, editor: F, viewer: F, service: F, guest: G, outsider: '201' },
  },
  {
    name: 'PATCH /v1/members/:id (editor → viewer)',
    request: async () => ({ method: 'PATCH', path: `/v1/members/${await member('editor')}`, body: { role: 'viewer' } }),
    expect: { owner: '200', admin: '200', editor: F, viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'PATCH /v1/members/:id (viewer → admin)',
    request: async () => ({ method: 'PATCH', path: `/v1/members/${await member('viewer')}`, body: { role: 'admin' } }),
    expect: { owner: '200', admin: F, editor: F, viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'DELETE /v1/members/:id (viewer)',
    request: async () => ({ method: 'DELETE', path: `/v1/members/${await member('viewer')}` }),
    expect: { owner: '204', admin: '204', editor: F, viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'DELETE /v1/members/:id (admin)',
    request: async () => ({ method: 'DELETE', path: `/v1/members/${await member('admin')}` }),
    expect: { owner: '204', admin: F, editor: F, viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'POST /v1/api-keys',
    request: async () => ({ method: 'POST', path: '/v1/api-keys', body: { name: 'k', scopes: ['documents:read'] } }),
    expect: { owner: '201', admin: '201', editor: F, viewer: F, service: F, guest: G, outsider: '201' },
  },
  {
    name: 'GET /v1/api-keys',
    request: async () => ({ method: 'GET', path: '/v1/api-keys' }),
    expect: { owner: '200', admin: '200', editor: F, viewer: F, service: F, guest: G, outsider: '200' },
  },
  {
    name: 'DELETE /v1/api-keys/:id',
    request: async () => ({ method: 'DELETE', path: `/v1/api-keys/${await apiKey()}` }),
    expect: { owner: '204', admin: '204', editor: F, viewer: F, service: F, guest: G, outsider: N },
  },
  {
    name: 'GET /v1/audit',
    request: async () => ({ method: 'GET', path: '/v1/audit' }),
    expect: { owner: '200', admin: '200', editor: F, viewer: F, service: F, guest: G, outsider: '200' },
  },
  {
    name: 'POST /v1/orgs',
    request: async () => ({
      method: 'POST',
      path: '/v1/orgs',
      body: { name: 'New', slug: unique('o').toLowerCase().slice(0, 40) },
    }),
    expect: { owner: '201', admin: '201', editor: '201', viewer: '201', service: F, guest: G, outsider: '201' },
  },
  {
    name: 'GET /v1/public/documents/:id (public)',
    request: async () => ({
      method: 'GET',
      path: `/v1/public/documents/${(await createDoc(home.tokens.owner, { visibility: 'public' })).id}`,
    }),
    expect: { owner: '200', admin: '200', editor: '200', viewer: '200', service: '200', guest: '200', outsider: '200' },
  },
];

function tokenOf(caller: Caller): string | undefined {
  if (caller === 'guest') return undefined;
  if (caller === 'outsider') return other.tokens.owner;
  return home.tokens[caller];
}

describe('the authorization matrix', () => {
  beforeAll(async () => {
    [home, other] = await Promise.all([createTenant(), createTenant()]);
  });

  const cases = endpoints.flatMap((e) => CALLERS.map((caller) => [e.name, caller, e.expect[caller], e] as const));
  it.each(cases)('%s as %s → %s', async (_name, caller, expected, endpoint) => {
    const { method, path, body } = await endpoint.request(home);
    const response = await call(method, path, { token: tokenOf(caller), body });
    const [status, code] = expected.split(' ');
    expect(response.status, JSON.stringify(response.body)).toBe(Number(status));
    if (code) expect(errorCode(response.body)).toBe(code);
  });

  it('lets an org-less user do nothing in any organization', async () => {
    const token = await devToken(`${unique('loner')}@example.com`);
    const response = await call('GET', '/v1/documents', { token });
    expect([response.status, errorCode(response.body)]).toEqual([403, 'INSUFFICIENT_PERMISSIONS']);
  });
});
