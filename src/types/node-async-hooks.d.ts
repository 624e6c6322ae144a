// The part of `node:async_hooks` that workerd provides under `nodejs_compat` and Signet uses. Declared
// here rather than pulling all of @types/node into the Worker's types, whose globals clash with workerd's.
declare module 'node:async_hooks' {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, fn: () => R): R;
    getStore(): T | undefined;
  }
}
