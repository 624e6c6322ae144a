/**
 * A whole organization built through the public API, as a user would: the owner signs in and creates
 * it, adds an admin, an editor and a viewer, creates an API key; every member gets a token.
 */
import { devToken } from './actors.ts';
import { unique } from './database.ts';
import { call } from './http.ts';

export type Who = 'owner' | 'admin' | 'editor' | 'viewer' | 'service';

export interface Tenant {
  id: string;
  slug: string;
  tokens: Record<Who, string>;
  userIds: Record<Exclude<Who, 'service'>, string>;
  emails: Record<Exclude<Who, 'service'>, string>;
  serviceKeyId: string;
}

async function ok<T>(promise: Promise<{ status: number; body: unknown }>, status = 200): Promise<T> {
  const response = await promise;
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as T;
}

export async function createTenant(serviceScopes: string[] = ['documents:read', 'rooms:join']): Promise<Tenant> {
  const slug = unique('t').toLowerCase().slice(0, 40);
  const emails = {
    owner: `${unique('owner')}@example.com`,
    admin: `${unique('admin')}@example.com`,
    editor: `${unique('editor')}@example.com`,
    viewer: `${unique('viewer')}@example.com`,
  };
  const signIn = await devToken(emails.owner);
  const created = await ok<{ organization: { id: string } }>(
    call('POST', '/v1/orgs', { token: signIn, body: { name: `Org ${slug}`, slug } }),
    201,
  );
  const owner = await devToken(emails.owner, slug, 3600);
  const userIds = { owner: '', admin: '', editor: '', viewer: '' };
  for (const role of ['admin', 'editor', 'viewer'] as const) {
    const { member } = await ok<{ member: { userId: string } }>(
      call('POST', '/v1/members', { token: owner, body: { email: emails[role], role } }),
      201,
    );
    userIds[role] = member.userId;
  }
  const me = await ok<{ actor: { id: string } }>(call('GET', '/v1/me', { token: owner }));
  userIds.owner = me.actor.id;
  const key = await ok<{ apiKey: { id: string }; secret: string }>(
    call('POST', '/v1/api-keys', { token: owner, body: { name: 'matrix', scopes: serviceScopes } }),
    201,
  );
  const service = await ok<{ access_token: string }>(
    call('POST', '/v1/auth/token', { body: { grant_type: 'api_key', api_key: key.secret } }),
  );
  const tokens: Record<Who, string> = {
    owner,
    admin: await devToken(emails.admin, slug, 3600),
    editor: await devToken(emails.editor, slug, 3600),
    viewer: await devToken(emails.viewer, slug, 3600),
    service: service.access_token,
  };
  return { id: created.organization.id, slug, tokens, userIds, emails, serviceKeyId: key.apiKey.id };
}

export async function createDoc(
  token: string,
  fields: { title?: string; body?: string; visibility?: 'public' | 'private' } = {},
): Promise<{ id: string; version: number }> {
  const { document } = await ok<{ document: { id: string; version: number } }>(
    call('POST', '/v1/documents', { token, body: { title: fields.title ?? 'A document', ...fields } }),
    201,
  );
  return document;
}
