/**
 * Hashing checks the verifier orchestrates: the night's own files against the manifest, the new
 * blobs, and the rotating scrub subset. A blob's expected SHA-256 is its key, so old blobs need no
 * index to be checked.
 */
import { naming } from '../../core';
import { oneLine } from '../errors';
import { ObjectNotFoundError, type ObjectStore } from '../stores/types';
import { hashStream } from '../util';
import { compareUtf8 } from './keys';
import type { Manifest } from './manifest';
import { forEachLimit } from './merge';
import { listBlobs, readNight, scrubPrefixes, type Coverage } from './read';
import type { BlobRef } from './types';

export interface BadObject {
  readonly key: string;
  readonly problem: string;
}

export interface CheckResult {
  readonly objects: number;
  readonly bytes: number;
  /** Sorted by key. */
  readonly bad: BadObject[];
}

export interface CheckOptions {
  /** @default 8 */
  readonly concurrency?: number;
  /** Called after each object. */
  readonly onObject?: (done: number, bytes: number) => void;
}

/** Reads one object and compares it with what it should be; returns its size and a problem, if any. */
export async function checkObject(store: ObjectStore, key: string, expect: { readonly sha256: string; readonly size?: number }): Promise<{ bytes: number; problem?: string }> {
  try {
    const h = await hashStream(await store.get(key));
    if (expect.size !== undefined && h.size !== expect.size) return { bytes: h.size, problem: `size: manifest says ${expect.size} bytes, found ${h.size}` };
    if (h.sha256 !== expect.sha256) return { bytes: h.size, problem: `sha256: manifest says ${expect.sha256}, found ${h.sha256}` };
    return { bytes: h.size };
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return { bytes: 0, problem: 'missing' };
    return { bytes: 0, problem: `unreadable: ${oneLine(err)}` };
  }
}

async function checkAll(store: ObjectStore, items: AsyncIterable<{ key: string; sha256: string; size?: number }>, opts: CheckOptions): Promise<CheckResult> {
  const bad: BadObject[] = [];
  let objects = 0;
  let bytes = 0;
  await forEachLimit(items, opts.concurrency ?? 8, async (it) => {
    const r = await checkObject(store, it.key, it);
    objects++;
    bytes += r.bytes;
    if (r.problem) bad.push({ key: it.key, problem: r.problem });
    opts.onObject?.(objects, bytes);
  });
  bad.sort((a, b) => compareUtf8(a.key, b.key));
  return { objects, bytes, bad };
}

async function* fromArray<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** Hashes every file the manifest lists (exports and index files of the night). */
export function checkNightFiles(store: ObjectStore, manifest: Manifest, opts: CheckOptions = {}): Promise<CheckResult> {
  return checkAll(store, fromArray(manifest.entries), opts);
}

async function* asBlobChecks(refs: AsyncIterable<BlobRef>): AsyncIterable<{ key: string; sha256: string; size?: number }> {
  for await (const r of refs) yield { key: naming.blobKey(r.sha256), sha256: r.sha256, size: r.size };
}

/** Hashes blobs: each must hash to the SHA-256 its key names (and have the size given, when given). */
export function checkBlobs(store: ObjectStore, refs: AsyncIterable<BlobRef>, opts: CheckOptions = {}): Promise<CheckResult> {
  return checkAll(store, asBlobChecks(refs), opts);
}

export interface NightCheck {
  readonly night: string;
  readonly manifestSha256: string;
  readonly bad: BadObject[];
  readonly coverage: Coverage;
}

/**
 * Everything a verifier hashes for one night, in work proportional to the night's change plus the
 * scrub share: the manifest's files, the blobs named by the night's added and changed entries, and
 * the blobs under the night's scrub prefixes. Reading the night's change files also checks their
 * SHA-256 against the manifest. (The chain and the records are the verifier's part.)
 */
export async function checkNight(store: ObjectStore, night: string, opts: CheckOptions & { readonly scrubCycleNights: number }): Promise<NightCheck> {
  const reader = await readNight(store, night);
  const files = await checkNightFiles(store, reader.manifest, opts);
  let fresh: CheckResult;
  const bad = [...files.bad];
  try {
    fresh = await checkBlobs(store, reader.newBlobs(), opts);
  } catch (err) {
    fresh = { objects: 0, bytes: 0, bad: [] };
    bad.push({ key: naming.manifestKey(night), problem: `index: ${oneLine(err)}` });
  }
  const prefixes = scrubPrefixes(night, opts.scrubCycleNights);
  const scrub = await checkBlobs(store, listBlobs(store, prefixes), opts);
  bad.push(...fresh.bad, ...scrub.bad.filter((b) => !fresh.bad.some((f) => f.key === b.key)));
  bad.sort((a, b) => compareUtf8(a.key, b.key));
  return {
    night,
    manifestSha256: reader.sha256,
    bad,
    coverage: {
      nightFiles: { objects: files.objects, bytes: files.bytes },
      newBlobs: { objects: fresh.objects, bytes: fresh.bytes },
      scrub: { cycleNights: opts.scrubCycleNights, prefixes, objects: scrub.objects, bytes: scrub.bytes },
    },
  };
}
