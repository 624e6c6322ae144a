/**
 * Property: across random organizations, actors, resource ids and operations, nothing leaks between
 * tenants — no read, no write, no list entry, and no difference between "in another organization"
 * and "does not exist".
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminSql } from '../support/database.ts';
import { call } from '../support/http.ts';
import { createDoc, createTenant, type Tenant, type Who } from '../support/tenants.ts';

const RUNS = 1000;

describe('tenant isolation (property)', () => {
  let tenants: Tenant[];
  const docs = new Map<string, string[]>(); // tenant id → its document ids
  const snapshot = new Map<string, string>(); // document id → its row as text

  beforeAll(async () => {
    tenants = await Promise.all([createTenant(), createTenant(), createTenant()]);
    for (const t of tenants) {
      const ids = [];
      for (let i = 0; i < 3; i++)
        ids.push(
          (await createDoc(t.tokens.owner, { title: `${t.slug} doc ${i}`, visibility: i === 0 ? 'public' : 'private' }))
            .id,
        );
      docs.set(t.id, ids);
    }
    const rows =
      await adminSql()`select id, title, body, version, visibility from documents where organization_id = any(${tenants.map((t) => t.id)})`;
    for (const row of rows) snapshot.set((row as { id: string }).id, JSON.stringify(row));
  }, 120_000);

  it(`holds for ${RUNS} random cross-tenant operations`, async () => {
    const who = fc.constantFrom<Who>('owner', 'admin', 'editor', 'viewer', 'service');
    const operation = fc.constantFrom(
      'read',
      'update',
      'delete',
      'list',
      'audit',
      'members',
      'change-member',
      'remove-member',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(2),
        fc.nat(2),
        fc.nat(2),
        who,
        operation,
        async (actorIndex, offset, docIndex, role, op) => {
          const actorTenant = tenants[actorIndex]!;
          const target = tenants[(actorIndex + 1 + (offset % 2)) % 3]!; // always another tenant
          const token = actorTenant.tokens[role];
          const docId = docs.get(target.id)![docIndex]!;
          const victimUser = target.userIds.viewer;
          const requests: Record<string, [string, string, unknown?]> = {
            read: ['GET', `/v1/documents/${docId}`],
            update: ['PATCH', `/v1/documents/${docId}`, { title: 'stolen', version: 1 }],
            delete: ['DELETE', `/v1/documents/${docId}`],
            list: ['GET', '/v1/documents?limit=100'],
            audit: ['GET', '/v1/audit?limit=100'],
            members: ['GET', '/v1/members'],
            'change-member': ['PATCH', `/v1/members/${victimUser}`, { role: 'editor' }],
            'remove-member': ['DELETE', `/v1/members/${victimUser}`],
          };
          const [method, path, body] = requests[op]!;
          const response = await call(method, path, { token, body });
          expect(response.status).toBeLessThan(500);
          // A refusal in the actor's own audit log names the id the actor itself sent: that is its own
          // input, not the other tenant's data. Everything else must not mention the other tenant.
          const visible =
            op === 'audit' && response.status === 200
              ? (response.body as { events: { outcome: string; organizationId: string }[] }).events.filter((e) => {
                  expect(e.organizationId).toBe(actorTenant.id);
                  return e.outcome !== 'denied';
                })
              : response.body;
          const text = JSON.stringify(visible);
          // Nothing of the other tenant appears in any answer.
          expect(text).not.toContain(target.id);
          for (const id of docs.get(target.id)!) expect(text).not.toContain(id);
          expect(text).not.toContain(target.emails.viewer);
          if (['read', 'update', 'delete', 'change-member', 'remove-member'].includes(op) && response.status !== 403) {
            // Another tenant's resource answers exactly as a missing one does.
            expect(response.status).toBe(404);
            const missing = await call(method, path.replace(/[0-9a-f-]{36}$/, crypto.randomUUID()), { token, body });
            expect(missing.status).toBe(404);
            expect((missing.body as { error: { message: string } }).error.message).toBe(
              (response.body as { error: { message: string } }).error.message,
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
    // And nothing of any tenant changed.
    const rows =
      await adminSql()`select id, title, body, version, visibility from documents where organization_id = any(${tenants.map((t) => t.id)})`;
    expect(rows.length).toBe(snapshot.size);
    for (const row of rows) expect(JSON.stringify(row)).toBe(snapshot.get((row as { id: string }).id));
    const members =
      await adminSql()`select count(*)::int as n from memberships where organization_id = any(${tenants.map((t) => t.id)}) and role = 'viewer'`;
    expect((members[0] as { n: number }).n).toBe(3);
  }, 300_000);
});
