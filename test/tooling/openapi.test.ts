import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/http/openapi/document.ts';
import { ROUTES } from '../../src/http/routes.ts';

type Json = Record<string, unknown>;
const doc = openApiDocument(ROUTES, 'https://signet.example') as {
  info: Json;
  tags: { name: string }[];
  paths: Record<string, Record<string, { tags: string[]; parameters?: Json[]; requestBody?: { required: boolean } }>>;
  components: { schemas: Record<string, Json> };
};

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(openApiDocument(ROUTES, 'https://signet.example') as object);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  // What standard tools refuse (Redocly: "Self-referencing circular pointer"); `npm run check:openapi` runs them.
  it('has no component that is only a reference (to itself or another)', () => {
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(Object.keys(schema), name).not.toEqual(['$ref']);
    }
    expect(doc.components.schemas.Error?.type).toBe('object');
  });

  it('declares the export body optional, ids as uuids with examples, tags, contact and license', () => {
    expect(doc.paths['/v1/documents/{id}/exports']?.post?.requestBody?.required).toBe(false);
    expect(doc.paths['/v1/documents']?.post?.requestBody?.required).toBe(true);
    const parameters = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).flatMap((op) => (op.parameters ?? []).filter((p) => p.in === 'path')),
    );
    expect(parameters.length).toBeGreaterThan(10);
    for (const p of parameters) {
      expect(p.schema).toEqual({ type: 'string', format: 'uuid' });
      expect(p.example).toMatch(/^[0-9a-f-]{36}$/);
    }
    const declared = new Set(doc.tags.map((t) => t.name));
    for (const op of Object.values(doc.paths).flatMap((item) => Object.values(item))) {
      for (const tag of op.tags) expect(declared.has(tag), tag).toBe(true);
    }
    expect(doc.info.contact).toBeDefined();
    expect(doc.info.license).toBeDefined();
  });

  it('documents one createdBy format, <type>:<id>', () => {
    for (const name of ['Document', 'ApiKey']) {
      const properties = (doc.components.schemas[name]?.properties ?? {}) as Record<string, { pattern: string }>;
      const createdBy = properties.createdBy;
      const pattern = new RegExp(createdBy!.pattern);
      expect(pattern.test('user:0b7e8a8e-4f5c-4d3a-9a57-3c1f2e6d9b10')).toBe(true);
      expect(pattern.test('0b7e8a8e-4f5c-4d3a-9a57-3c1f2e6d9b10')).toBe(false);
    }
  });
});
