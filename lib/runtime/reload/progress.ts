/**
 * Progress for long reload phases: counts, bytes, rate and ETA on stderr, at most every few seconds,
 * and a bounded-concurrency loop over a stream of work (never the whole list in memory).
 */
import { setMaxListeners } from 'node:events';
import { progress as say } from '../log';
import { formatBytes } from '../util';

export class PhaseProgress {
  private done = 0;
  private bytes = 0;
  private lastPrint = 0;
  private readonly t0: number;

  constructor(private readonly phase: string, private readonly total: { objects?: number; bytes?: number }, private readonly now: () => number = Date.now, private readonly everyMs = 5000) {
    this.t0 = now();
  }

  add(objects: number, bytes: number): void {
    this.done += objects;
    this.bytes += bytes;
    const t = this.now();
    if (t - this.lastPrint >= this.everyMs) {
      this.lastPrint = t;
      say(this.line());
    }
  }

  /** `recordings: 1200/2000 objects, 120.0 MiB/204.0 MiB, 40.0 MiB/s, ETA 2 s`. */
  line(): string {
    const seconds = Math.max((this.now() - this.t0) / 1000, 0.001);
    const rate = this.bytes / seconds;
    const of = (n: number, total: number | undefined, fmt: (n: number) => string): string => (total !== undefined ? `${fmt(n)}/${fmt(total)}` : fmt(n));
    let eta = '';
    if (this.total.bytes && rate > 0) eta = `, ETA ${Math.max(0, Math.round((this.total.bytes - this.bytes) / rate))} s`;
    else if (this.total.objects && this.done > 0) eta = `, ETA ${Math.max(0, Math.round(((this.total.objects - this.done) * seconds) / this.done))} s`;
    return `${this.phase}: ${of(this.done, this.total.objects, String)} objects, ${of(this.bytes, this.total.bytes, formatBytes)}, ${formatBytes(rate)}/s${eta}`;
  }

  get counts(): { objects: number; bytes: number; seconds: number } {
    return { objects: this.done, bytes: this.bytes, seconds: (this.now() - this.t0) / 1000 };
  }
}

/**
 * Runs `fn` on each item of `items` with at most `limit` in flight, pulling items as slots free up.
 * The first failure stops new work, aborts `signal` for the in-flight ones, and is rethrown.
 */
export async function forEachLimit<T>(items: AsyncIterable<T> | Iterable<T>, limit: number, fn: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every in-flight request listens on it
  const iterator = (Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]()) as AsyncIterator<T> | Iterator<T>;
  let failure: unknown;
  let pulling = Promise.resolve();
  const next = async (): Promise<IteratorResult<T>> => {
    // Async iterators must not be pulled concurrently: chain the pulls.
    const p = pulling.then(() => iterator.next());
    pulling = p.then(() => undefined, () => undefined);
    return p;
  };
  const worker = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      const r = await next();
      if (r.done) return;
      try {
        await fn(r.value, controller.signal);
      } catch (err) {
        if (failure === undefined) failure = err;
        controller.abort();
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure !== undefined) throw failure;
}
