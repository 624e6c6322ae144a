import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type * as S from '../../../src/contract/schemas.ts';
import { ROUTES } from '../../../src/http/routes.ts';
import type { ApiKeyView } from '../../../src/services/api-keys.ts';
import type { AuditEventView } from '../../../src/services/audit.ts';
import type { DocumentView } from '../../../src/services/documents.ts';
import { type JobView, readJob } from '../../../src/services/jobs.ts';
import type { MemberView } from '../../../src/services/members.ts';
import type { WorkflowView } from '../../../src/services/organization-deletion.ts';
import { call } from '../../support/http.ts';

describe('GET /openapi.json', () => {
  it("describes every entry of the route table: its success and error statuses, and its action's permission", async () => {
    const { status, body } = await call('GET', '/openapi.json');
    expect(status).toBe(200);
    const doc = body as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; 'x-signet-permission'?: string }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item));
    expect(operations).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const operation = doc.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(Object.keys(operation!.responses).sort()).toEqual(
        [String(route.ok[0]), ...route.errors.map(String)].sort(),
      );
      expect(operation!['x-signet-permission'], `${route.method} ${route.path}`).toBe(route.permission ?? undefined);
    }
    // The permissions come from the actions themselves, e.g. the job read checks `exports:create`.
    expect(doc.paths['/v1/jobs/{id}']?.get?.['x-signet-permission']).toBe(readJob.definition.permission);
    expect(doc.paths['/v1/members']?.get?.['x-signet-permission']).toBe('members:read');
    expect(doc.paths['/v1/delegations']?.get?.['x-signet-permission']).toBeUndefined();
  });

  it('documents request bodies with the schemas that validate them (unknown fields refused)', async () => {
    const { body } = await call('GET', '/openapi.json');
    const doc = body as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    const schema = doc.paths['/v1/documents']!.post!.requestBody!.content['application/json']!.schema as {
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toContain('title');
    expect(Object.keys(schema.properties).sort()).toEqual(['body', 'title', 'visibility']);
  });

  it('matches what the services return (compile-time)', () => {
    expectTypeOf<DocumentView>().toExtend<z.infer<typeof S.Document>>();
    expectTypeOf<MemberView>().toExtend<z.infer<typeof S.Member>>();
    expectTypeOf<ApiKeyView>().toExtend<Omit<z.infer<typeof S.ApiKey>, 'scopes'> & { scopes: string[] }>();
    expectTypeOf<AuditEventView>().toExtend<Omit<z.infer<typeof S.AuditEvent>, 'outcome'> & { outcome: string }>();
    expectTypeOf<JobView>().toExtend<z.infer<typeof S.Job>>();
    expectTypeOf<WorkflowView>().toExtend<z.infer<typeof S.Workflow>>();
  });
});
