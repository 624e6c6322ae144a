/**
 * The per-operation context: the actor, the request id, the bindings and the database handle. Passed
 * explicitly to every service as its first argument, and also readable deep in a call stack through
 * AsyncLocalStorage (`currentContext()`), for code such as logging that has no parameter for it. Each
 * request runs in its own store, so concurrent requests never see each other's actor.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Actor } from './actor/actor.ts';
import type { Database } from './db/client.ts';
import type { Env } from './env.ts';

export interface Context<A extends Actor = Actor> {
  readonly actor: A;
  readonly requestId: string;
  readonly env: Env;
  readonly db: Database;
  /** Work that continues after the response (audit fan-out, room notifications); errors are reported. */
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

const storage = new AsyncLocalStorage<Context>();

/** Runs `fn` with `context` as the current context. */
export function runInContext<T>(context: Context, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the operation in progress; throws outside of one (a bug, not a client error). */
export function currentContext(): Context {
  const context = storage.getStore();
  if (!context) throw new Error('currentContext() called outside of an operation');
  return context;
}

/** The same context acting as another actor (e.g. narrowed by `requireActor`). */
export function withActor<A extends Actor>(context: Context, actor: A): Context<A> {
  return { ...context, actor };
}
