/**
 * A bounded per-isolate cache of verified tokens, so a repeated token skips signature verification.
 * An entry never outlives its token's `exp` (plus tolerance: the verifier's own `isExpired`); revocation is checked on every use by
 * the caller, cached or not. Least recently used entries go first.
 */
import type { TokenActor } from '../actor.ts';
import { isExpired } from './claims.ts';

export class VerifiedTokenCache {
  readonly #entries = new Map<string, TokenActor>();
  readonly #capacity: number;

  constructor(capacity = 2048) {
    this.#capacity = capacity;
  }

  get(token: string, nowSeconds: number): TokenActor | undefined {
    const actor = this.#entries.get(token);
    if (actor === undefined) return undefined;
    if (isExpired(actor.token.expiresAt, nowSeconds)) {
      this.#entries.delete(token);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.#entries.delete(token);
    this.#entries.set(token, actor);
    return actor;
  }

  set(token: string, actor: TokenActor): void {
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(token, actor);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
