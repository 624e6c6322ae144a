/**
 * The driver-error mapping (src/db/errors.ts), fed with real errors from the database behind the bridge
 * (embedded or real Postgres): everything a client's input can cause becomes a 4xx domain error, an
 * and only a defect of ours (a syntax error) stays unmapped.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { toDomainError } from '../../src/db/errors.ts';
import { userScope } from '../../src/db/scopes.ts';
import { runScoped } from '../../src/db/session.ts';
import { isSignetError } from '../../src/errors.ts';
import { adminSql, database } from '../support/database.ts';

async function driverError(run: (admin: ReturnType<typeof adminSql>) => Promise<unknown>): Promise<unknown> {
  const error = await run(adminSql()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the statement should fail').toBeDefined();
  return error;
}

const codeOf = (error: unknown) =>
  isSignetError(toDomainError(error)) ? (toDomainError(error) as { code: string }).code : 'unmapped';

const table = (admin: ReturnType<typeof adminSql>, ...statements: ReturnType<ReturnType<typeof adminSql>>[]) =>
  admin.transaction([
    admin`create temp table probe (id int primary key, n int not null check (n >= 0), parent int references probe (id)) on commit drop`,
    admin`insert into probe (id, n) values (1, 1)`,
    ...statements,
  ]);

describe('database errors a client can cause', () => {
  const cases: [string, string, (admin: ReturnType<typeof adminSql>) => Promise<unknown>][] = [
    ['NUL in a text parameter (class 22)', 'VALIDATION_FAILED', (a) => a`select ${'a\u0000b'}::text`],
    ['division by zero (22012)', 'VALIDATION_FAILED', (a) => a`select 1 / ${0}::int`],
    ['a malformed uuid (22P02)', 'VALIDATION_FAILED', (a) => a`select ${'nope'}::uuid`],
    ['a malformed timestamp (22007)', 'VALIDATION_FAILED', (a) => a`select ${'not a date'}::timestamptz`],
    ['an out-of-range integer (22003)', 'VALIDATION_FAILED', (a) => a`select ${'99999999999'}::int`],
    ['a program limit (class 54)', 'VALIDATION_FAILED', (a) => a`select array_fill(1, array[200000000, 200000000])`],
    [
      'a null in a not-null column (23502)',
      'VALIDATION_FAILED',
      (a) => table(a, a`insert into probe (id, n) values (2, null)`),
    ],
    ['a check constraint (23514)', 'VALIDATION_FAILED', (a) => table(a, a`insert into probe (id, n) values (2, -1)`)],
    ['a duplicate key (23505)', 'CONFLICT', (a) => table(a, a`insert into probe (id, n) values (1, 1)`)],
    [
      'a missing referenced row (23503)',
      'CONFLICT',
      (a) => table(a, a`insert into probe (id, n, parent) values (2, 1, 99)`),
    ],
  ];

  for (const [name, expected, run] of cases) {
    it(`${name} → ${expected}`, async () => {
      const error = await driverError(run);
      expect((error as { code?: unknown }).code, 'a real SQLSTATE from the database').toMatch(/^[0-9A-Z]{5}$/);
      expect(codeOf(error)).toBe(expected);
    });
  }

  it('through the tenant session, a NUL parameter is VALIDATION_FAILED, not a driver error', async () => {
    const db = database();
    await expect(
      runScoped(db, userScope(crypto.randomUUID()), [db.execute(sql`select ${'a\u0000'}::text`)]),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('a database behind the migrations (a session role that does not exist) is ours, not the client’s', async () => {
    const error = await driverError((a) => a`select set_config('role', 'signet_no_such_role', true)`);
    expect((error as { code?: unknown }).code).toBe('22023');
    expect(codeOf(error)).toBe('unmapped');
  });

  it('a defect of ours (a syntax error) is not disguised as the client’s fault', async () => {
    const error = await driverError((a) => a.query('selec 1'));
    expect(codeOf(error)).toBe('unmapped');
  });
});
