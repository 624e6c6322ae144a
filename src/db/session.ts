/**
 * The tenant session: every database access of the request path goes through `runScoped`, which sends
 * its statements as one Neon HTTP batch — one round trip, one transaction — whose first statement
 * switches to its scope's role (`signet_app` for a tenant or a user, one role per narrow mode: `roleOf`
 * in `scopes.ts`; none owns a table or bypasses row-level security) and sets the scope that the
 * row-level security policies read (migrations/0001_tenant_security.sql, 0014_mode_roles.sql). Settings are transaction-local
 * (`set_config(…, true)`), so nothing leaks to the next use of a pooled connection.
 *
 * It knows scopes, not actors or policies: the scopes themselves, every row-level-security mode, are
 * made in `scopes.ts`.
 *
 * The batch goes to the Neon driver's own `transaction`, not through drizzle's `db.batch`: the scope
 * statement (`SCOPE_SQL`) is fixed text with its parameters (drizzle would build the same SQL again
 * from its template on every call) and answers one column, not eight, for the driver to parse. A
 * drizzle statement is built, sent and mapped exactly as `db.batch` does, so what it returns is
 * unchanged; a `TextStatement` is sent as it is (`npm run bench`: `http.pipeline_vs_hono_cpu_ratio`).
 *
 * Two deadlines bound a batch. The database's own comes first: the scope statement sets the
 * transaction's `statement_timeout` to an even share, per statement, of 80 % of `db.answerWithinMs`
 * (`DATABASE_TIMEOUT_MS`), so a slow statement is cancelled and its transaction rolled back by the
 * database itself (57014, `DATABASE_UNAVAILABLE`, nothing written), usually before the Worker stops
 * waiting. Not always: Postgres doesn't time `COMMIT` (deferred triggers run there), nor what comes before
 * the first statement (Neon waking a suspended compute, a wait for a connection). The Worker's deadline
 * comes at `answerWithinMs`: it abandons a batch whose database hasn't answered — stopped altogether (a
 * frozen process, a lost network) or slow in those parts — so a request costs a bounded wait, not a hang,
 * and its 503 doesn't say that nothing was written: a batch abandoned before the database received it
 * wrote nothing, one abandoned later may commit, as when a connection is lost there (README, "Faults").
 */

import type { BatchItem } from 'drizzle-orm/batch';
import { DatabaseUnavailable } from '../errors.ts';
import type { Database } from './client.ts';
import { toDomainError } from './errors.ts';
import { SCOPE_SQL, type SessionScope, scopeParameters } from './scopes.ts';
import type { TextAnswer, TextStatement } from './text-statement.ts';

type Statement = BatchItem<'pg'> | TextStatement;
type Statements = readonly [Statement, ...Statement[]];
type Answers<Q extends Statements> = {
  -readonly [K in keyof Q]: Q[K] extends BatchItem<'pg'> ? Q[K]['_']['result'] : TextAnswer;
};

/**
 * What drizzle's `db.batch` does with each statement (`drizzle-orm/neon-http/session.js`, `batch`): its
 * query prepared once, sent as built, its answer mapped by the prepared query. Not in drizzle's
 * declared types, hence this shape; `test/db/session.test.ts` holds `runScoped`'s answers to
 * `db.batch`'s for every kind of statement the services send.
 */
interface Prepared {
  getQuery(): { sql: string; params: unknown[] };
  isResponseInArrayMode(): boolean;
  mapResult(result: unknown, isFromBatch: boolean): unknown;
}

/** The driver's calls as the batch uses them: each query with its own answer mode, which its types can't mix. */
interface Driver {
  query(sql: string, params: unknown[], options: { arrayMode: boolean; fullResults: true }): unknown;
  transaction(
    queries: unknown[],
    options: { arrayMode: boolean; fullResults: true; fetchOptions: { signal: AbortSignal } },
  ): Promise<unknown[]>;
}

const ANSWER = { arrayMode: true, fullResults: true } as const;

/** The part of a batch's deadline its statements may run on the database; the rest is the round trip's. */
const DATABASE_SHARE = 0.8;

/** A text statement as drizzle would have prepared it: its query as it is, its answer unchanged. */
function preparedText(statement: TextStatement): Prepared {
  return {
    getQuery: () => ({ sql: statement.sql, params: [...statement.params] }),
    isResponseInArrayMode: () => false,
    mapResult: (result) => result,
  };
}

const isDrizzle = (statement: Statement): statement is BatchItem<'pg'> => '_prepare' in statement;

export async function runScoped<const Q extends Statements>(
  db: Database,
  scope: SessionScope,
  statements: Q,
): Promise<Answers<Q>> {
  const client = db.$client as unknown as Driver;
  // A timer of our own, cleared as soon as the batch ends: `AbortSignal.timeout` would stay pending for
  // the whole deadline, and a room's Durable Object with a timer pending can't hibernate.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), db.answerWithinMs);
  const statementTimeoutMs = Math.max(1, Math.floor((db.answerWithinMs * DATABASE_SHARE) / statements.length));
  try {
    const prepared = statements.map((statement) =>
      isDrizzle(statement) ? (statement as unknown as { _prepare(): Prepared })._prepare() : preparedText(statement),
    );
    const queries = [
      client.query(SCOPE_SQL, scopeParameters(scope, statementTimeoutMs), ANSWER),
      ...prepared.map((p) => {
        const query = p.getQuery();
        return client.query(query.sql, query.params, { fullResults: true, arrayMode: p.isResponseInArrayMode() });
      }),
    ];
    const [, ...results] = await client.transaction(queries, {
      ...ANSWER,
      fetchOptions: { signal: deadline.signal },
    });
    return results.map((result, i) => prepared[i]!.mapResult(result, true)) as Answers<Q>;
  } catch (error) {
    // Abandoned: whatever the driver made of the abort (its wrapped fetch error, or a failed body read).
    if (deadline.signal.aborted) throw new DatabaseUnavailable('The database did not answer in time.');
    throw toDomainError(error);
  } finally {
    clearTimeout(timer);
  }
}
