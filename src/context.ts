/**
 * The per-operation context: the actor, the request id, the bindings and the database handle. Passed
 * explicitly to every service as its first argument. Every platform entry point — `fetch`
 * (`http/app.ts`), `queue` (`jobs/consumer.ts`), `scheduled` (`jobs/maintenance.ts`) and each workflow
 * step (`workflows/`) — makes its context with `createContext` and runs its operation in it with
 * `runInContext`, which puts the request id, the actor and its organization on every log line the
 * operation writes (`observability/log.ts`) without their being passed.
 */
import { type Actor, onBehalfOfActor, principalOf } from './actor/actor.ts';
import { type Database, openDatabase } from './db/client.ts';
import type { Env } from './env.ts';
import { type OperationFields, withOperationFields } from './observability/log.ts';
import { asTenantActor } from './policy/authorize.ts';

export interface Context<A extends Actor = Actor> {
  readonly actor: A;
  readonly requestId: string;
  readonly env: Env;
  readonly db: Database;
  /** Work that continues after the response (audit fan-out, room notifications); errors are reported. */
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

export interface ContextInit<A extends Actor> {
  readonly actor: A;
  readonly env: Env;
  /** The entry point's execution context: what keeps `waitUntil` work alive after the answer. */
  readonly exec: { waitUntil(promise: Promise<unknown>): void };
  /** The operation's id (a request's, `job:<id>`, the workflow's request); a fresh one when absent. */
  readonly requestId?: string;
  /**
   * The database handle, or how to open it; when absent it is opened on first use (the health check
   * and the JWKS never need it).
   */
  readonly db?: Database | (() => Database);
}

/**
 * @example
 * const ctx = createContext({ actor: systemActor('maintenance'), env, exec })
 */
export function createContext<A extends Actor>(init: ContextInit<A>): Context<A> {
  const { actor, env, exec } = init;
  let database = typeof init.db === 'function' ? undefined : init.db;
  const open = typeof init.db === 'function' ? init.db : () => openDatabase(env);
  return {
    actor,
    requestId: init.requestId ?? crypto.randomUUID(),
    env,
    get db() {
      database ??= open();
      return database;
    },
    waitUntil: (promise) => exec.waitUntil(promise),
  };
}

/** Runs `fn` as the operation of `context`: its log lines carry its request id, actor and organization. */
export function runInContext<T>(context: Context, fn: () => T): T {
  return withOperationFields(operationFields(context.actor, context.requestId), fn);
}

/** The log fields of an operation by `actor`: its principal, whom it acts for, its organization. */
export function operationFields(actor: Actor, requestId: string): OperationFields {
  const onBehalfOf = onBehalfOfActor(actor);
  return {
    requestId,
    actor: principalOf(actor),
    ...(onBehalfOf ? { onBehalfOf } : {}),
    organizationId: asTenantActor(actor)?.organizationId ?? null,
  };
}

/** The same context acting as another actor (e.g. narrowed by `requireActor`). */
export function withActor<A extends Actor>(context: Context, actor: A): Context<A> {
  return { ...context, actor };
}
