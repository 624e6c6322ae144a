/**
 * When each connection of a room expires: a binary min-heap of `(at, connectionId)`, so a join, a
 * reauth and the alarm cost O(log n) instead of a scan of every socket. Entries are never removed in
 * place: a connection that left or re-authenticated leaves a stale entry behind, which `due` skips by
 * asking the room whether the entry still describes a live connection. Doesn't own the alarm itself
 * (the room sets it to `next()`).
 */
export interface Expiry {
  readonly at: number;
  readonly connectionId: string;
}

export class ExpiryHeap {
  readonly #heap: Expiry[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(entry: Expiry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  /** The earliest entry that `isLive` accepts, dropping stale ones on the way; `null` when none. */
  next(isLive: (entry: Expiry) => boolean): Expiry | null {
    while (this.#heap.length > 0) {
      const top = this.#heap[0]!;
      if (isLive(top)) return top;
      this.#pop();
    }
    return null;
  }

  /** Removes and returns every live entry due at `now` or before. */
  due(now: number, isLive: (entry: Expiry) => boolean): Expiry[] {
    const due: Expiry[] = [];
    for (let top = this.next(isLive); top && top.at <= now; top = this.next(isLive)) {
      due.push(top);
      this.#pop();
    }
    return due;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
