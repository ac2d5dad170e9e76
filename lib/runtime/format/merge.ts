/**
 * Streaming merges over key-sorted sequences: rebuilding a night's view from a checkpoint and change
 * runs, and comparing a source listing with the previous view. Memory stays bounded by the number of
 * sequences (and the in-flight window of {@link mapOrdered}), never by the estate.
 */
import { setMaxListeners } from 'node:events';
import { ManifestError } from '../errors';
import { compareUtf8 } from './keys';
import type { ChangeRecord, IndexEntry } from './types';

/** An async iterator with one record of look-ahead. */
export class Peekable<T> {
  private readonly it: AsyncIterator<T>;
  private head?: IteratorResult<T>;
  constructor(source: AsyncIterable<T>) {
    this.it = source[Symbol.asyncIterator]();
  }
  async peek(): Promise<T | undefined> {
    if (!this.head) this.head = await this.it.next();
    return this.head.done ? undefined : this.head.value;
  }
  async next(): Promise<T | undefined> {
    const v = await this.peek();
    if (v !== undefined) this.head = undefined;
    return v;
  }
}

/** `base` with one night's `changes` applied (both sorted by key). Throws on a change that does not fit the base. */
export async function* applyChanges(base: AsyncIterable<IndexEntry>, changes: AsyncIterable<ChangeRecord>, where = ''): AsyncIterable<IndexEntry> {
  const b = new Peekable(base);
  const c = new Peekable(changes);
  for (;;) {
    const x = await b.peek();
    const y = await c.peek();
    if (x === undefined && y === undefined) return;
    const cmp = x === undefined ? 1 : y === undefined ? -1 : compareUtf8(x.key, y.key);
    if (cmp < 0) {
      yield (await b.next())!;
      continue;
    }
    const ch = (await c.next())!;
    if (cmp === 0) await b.next();
    if (ch.op === 'remove') {
      if (cmp !== 0) throw new ManifestError(`corrupt index${where}: remove of ${JSON.stringify(ch.key)}, which the previous view does not hold`);
      continue;
    }
    if (ch.op === 'add' && cmp === 0) throw new ManifestError(`corrupt index${where}: add of ${JSON.stringify(ch.key)}, which the previous view already holds`);
    if (ch.op === 'change' && cmp !== 0) throw new ManifestError(`corrupt index${where}: change of ${JSON.stringify(ch.key)}, which the previous view does not hold`);
    yield toEntry(ch);
  }
}

export function toEntry(r: IndexEntry): IndexEntry {
  return { key: r.key, version: r.version, etag: r.etag, size: r.size, sha256: r.sha256, blob: r.blob, contentType: r.contentType, metadata: r.metadata, modified: r.modified };
}

/** One object as a source listing shows it (no extra request). */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly modified: string | null;
}

/** A step of the source-vs-previous-view merge. */
export type DiffStep =
  | { readonly kind: 'same'; readonly entry: IndexEntry }
  | { readonly kind: 'new'; readonly listed: ListedObject; readonly previous?: IndexEntry }
  | { readonly kind: 'gone'; readonly previous: IndexEntry };

/**
 * Walks the source listing and the previous view together (both sorted by key). An object is the
 * same when its ETag and size equal the previous entry's; anything else needs its bytes hashed.
 */
export async function* diffListing(previous: AsyncIterable<IndexEntry>, listing: AsyncIterable<ListedObject>): AsyncIterable<DiffStep> {
  const p = new Peekable(previous);
  let last: string | undefined;
  for await (const o of listing) {
    if (last !== undefined && compareUtf8(last, o.key) >= 0) throw new Error(`source listing not sorted (or repeated) at ${JSON.stringify(o.key)}`);
    last = o.key;
    for (let e = await p.peek(); e !== undefined && compareUtf8(e.key, o.key) < 0; e = await p.peek()) {
      yield { kind: 'gone', previous: (await p.next())! };
    }
    const e = await p.peek();
    if (e !== undefined && e.key === o.key) {
      await p.next();
      if (e.etag === o.etag && e.size === o.size) yield { kind: 'same', entry: e };
      else yield { kind: 'new', listed: o, previous: e };
    } else {
      yield { kind: 'new', listed: o };
    }
  }
  for (let e = await p.next(); e !== undefined; e = await p.next()) yield { kind: 'gone', previous: e };
}

/**
 * Maps an async sequence with at most `limit` calls in flight and yields the results in input
 * order (a bounded window: memory is O(limit), not O(sequence)).
 */
export async function* mapOrdered<T, R>(source: AsyncIterable<T>, limit: number, fn: (item: T) => Promise<R> | R): AsyncIterable<R> {
  const window: Promise<R>[] = [];
  for await (const item of source) {
    const p = Promise.resolve().then(() => fn(item));
    p.catch(() => undefined); // surfaced when awaited, in order
    window.push(p);
    if (window.length >= limit) yield await window.shift()!;
  }
  while (window.length) yield await window.shift()!;
}

/**
 * Calls `fn` for every item with at most `limit` in flight (order not kept). The first failure stops
 * new work, aborts `signal` (so in-flight requests that listen to it are cancelled), and is rethrown
 * once the in-flight calls have settled.
 */
export async function forEachLimit<T>(source: AsyncIterable<T> | Iterable<T>, limit: number, fn: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every in-flight request may listen on it
  let failure: unknown;
  for await (const item of source) {
    if (controller.signal.aborted) break;
    const p: Promise<void> = fn(item, controller.signal).catch((e) => { if (failure === undefined) { failure = e; controller.abort(); } }).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
}
