/**
 * Bounded "seen" sets for counting distinct blobs in a stream.
 */

/** Distinct-blob counting with bounded memory: a repeat further back than this many blobs counts again. */
export const DEDUPE_WINDOW = 100_000;

/** Adds to a set that is emptied when it reaches {@link DEDUPE_WINDOW} (memory stays bounded on a seed night). */
export function remember(set: Set<string>, value: string): void {
  if (set.size >= DEDUPE_WINDOW) set.clear();
  set.add(value);
}
