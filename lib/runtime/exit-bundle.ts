/**
 * The exit bundle: "give me all my data". Downloads one night (default: the latest verified one)
 * from any store into a folder or a `.tar.gz`, checking each object's size and SHA-256 against the
 * manifest as it streams, plus the manifest itself and (when present) its verification record.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create as tarCreate } from 'tar';
import { naming } from '../core';
import { RuntimeError } from './errors';
import { forEachLimit, readManifestV2 as readManifest, readNight, requiredFiles, type StoredManifest } from './format';
import { latestVerifiedNight, readRecord, resolveNight } from './records';
import type { ObjectStore } from './stores/types';
import { HashingPassThrough } from './util';

export interface ExitBundleOptions {
  readonly store: ObjectStore;
  /** `latest-verified` (default), `latest`, or `YYYY-MM-DD`. */
  readonly night?: string;
  /** A folder, or a file name ending in `.tar.gz` / `.tgz`. */
  readonly out: string;
  /** @default the store */
  readonly recordsStore?: ObjectStore;
  /** @default 4 */
  readonly concurrency?: number;
  readonly onProgress?: (p: { done: number; total: number; bytes: number; totalBytes: number }) => void;
  /** Told when `latest-verified` falls back to `latest` (a store without verification records, e.g. the primary). */
  readonly onNotice?: (message: string) => void;
  /** Cancels the bundle: downloads in flight stop, the temporary folder is removed. */
  readonly signal?: AbortSignal;
}

export interface ExitBundleResult {
  readonly night: string;
  readonly manifestSha256: string;
  readonly objects: number;
  readonly bytes: number;
  readonly out: string;
  readonly verifiedBy: string | null;
}

/** One file of the bundle: where it comes from, where it goes, what it must hash to. */
interface BundleItem { readonly from: string; readonly to: string; readonly sha256: string; readonly size: number }

/** A source key that can be a relative file path as is (no `..`/empty segments, no trailing `/`, no NUL). */
function isPlainPath(key: string): boolean {
  return Boolean(key) && !key.includes('\0') && !key.startsWith('/') && key.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..') && Buffer.byteLength(key) < 1024;
}

/**
 * The night's files (exports, index, at their keys), then each `s3Bucket` dataset's objects that
 * night at `objects/<dataset>/<source key>`; a key that can't be a file path keeps its blob path
 * (`blobs/sha256/…`) and is listed in `odd-keys.json` (the index files in the bundle map every key too).
 */
async function* bundleItems(store: ObjectStore, stored: StoredManifest, odd: { dataset: string; key: string; path: string }[]): AsyncIterable<BundleItem> {
  for (const e of requiredFiles(stored.manifest)) yield { from: e.key, to: e.key, sha256: e.sha256, size: e.size }; // + earlier nights' index files the views need
  const datasets = stored.manifest.datasets.filter((d) => d.kind === 's3Bucket' && d.index);
  if (!datasets.length) return;
  const reader = await readNight(store, stored.manifest.night);
  for (const d of datasets) {
    for await (const e of reader.entries(d.name)) {
      const plain = `${naming.OBJECTS_PREFIX}${d.name}/${e.key}`;
      const to = isPlainPath(e.key) ? plain : e.blob;
      if (to !== plain) odd.push({ dataset: d.name, key: e.key, path: to });
      yield { from: e.blob, to, sha256: e.sha256, size: e.size };
    }
  }
}

function safeJoin(root: string, key: string): string {
  const p = resolve(root, key);
  if (!p.startsWith(resolve(root) + '/')) throw new RuntimeError(`manifest key escapes the bundle folder: ${key}`);
  return p;
}

export async function writeExitBundle(opts: ExitBundleOptions): Promise<ExitBundleResult> {
  const { store } = opts;
  const recordsStore = opts.recordsStore ?? store;
  const selector = opts.night ?? 'latest-verified';
  let stored: StoredManifest;
  let verifiedBy: string | null = null;
  if (selector === 'latest-verified') {
    const found = await latestVerifiedNight(store, recordsStore);
    if (found) {
      stored = found.manifest;
      verifiedBy = found.record.verifiedAt;
    } else {
      const night = await resolveNight(store, 'latest');
      opts.onNotice?.(`${recordsStore.url} has no verification records; bundling the latest night ${night} (every object is still checked against its manifest)`);
      stored = await readManifest(store, night);
    }
  } else {
    const night = await resolveNight(store, selector, recordsStore);
    stored = await readManifest(store, night);
    const rec = await readRecord(recordsStore, night);
    if (rec?.result === 'success' && rec.manifestSha256 === stored.sha256) verifiedBy = rec.verifiedAt;
  }
  const { manifest } = stored;
  const out = resolve(opts.out);
  const tarball = /\.(tar\.gz|tgz)$/.test(opts.out);
  await refuseExisting(out, tarball);
  // everything goes to a temporary folder beside the output; renamed (or packed) only when complete
  const dir = await fs.mkdtemp(join(dirname(out), `.${basename(out)}.partial-`));
  const ctl = new AbortController();
  const onOuterAbort = (): void => ctl.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) ctl.abort(opts.signal.reason);
  let complete = false;
  try {
    const views = manifest.datasets.filter((d) => d.kind === 's3Bucket' && d.index);
    const total = manifest.entries.length + views.reduce((n, d) => n + d.objects, 0);
    const totalBytes = manifest.totals.bytes + views.reduce((n, d) => n + d.bytes, 0);
    const odd: { dataset: string; key: string; path: string }[] = [];
    let done = 0;
    let bytes = 0;
    const written = new Set<string>();
    await forEachLimit(bundleItems(store, stored, odd), opts.concurrency ?? 4, async (e) => {
      if (ctl.signal.aborted) return;
      if (written.has(e.to)) return; // two odd keys with the same bytes share their blob path
      written.add(e.to);
      try {
        const path = safeJoin(dir, e.to);
        await fs.mkdir(dirname(path), { recursive: true });
        const hashing = new HashingPassThrough();
        hashing.on('data', (c: Buffer) => { bytes += c.length; });
        await pipeline(await store.get(e.from), hashing, createWriteStream(path), { signal: ctl.signal });
        if (hashing.size !== e.size || hashing.sha256 !== e.sha256) {
          throw new RuntimeError(`${store.url}/${e.from}: does not match the manifest (size ${hashing.size} vs ${e.size}, sha256 ${hashing.sha256.slice(0, 16)}… vs ${e.sha256.slice(0, 16)}…)`);
        }
      } catch (err) {
        // the first failure cancels every download still in flight
        if (!ctl.signal.aborted) ctl.abort(err);
        throw ctl.signal.reason ?? err;
      }
      done++;
      opts.onProgress?.({ done, total, bytes, totalBytes });
    }).catch((err) => { throw ctl.signal.reason ?? err; });
    ctl.signal.throwIfAborted();
    if (odd.length) await fs.writeFile(join(dir, 'odd-keys.json'), `${JSON.stringify(odd, null, 2)}\n`);
    const manifestPath = safeJoin(dir, stored.key);
    await fs.mkdir(dirname(manifestPath), { recursive: true });
    await fs.writeFile(manifestPath, stored.bytes);
    const record = await readRecord(recordsStore, manifest.night);
    if (record) {
      const p = safeJoin(dir, naming.verificationRecordKey(manifest.night));
      await fs.mkdir(dirname(p), { recursive: true });
      await fs.writeFile(p, `${JSON.stringify(record, null, 2)}\n`);
    }
    if (tarball) {
      const entries = await fs.readdir(dir);
      const partial = `${dir}.tar.gz`;
      await tarCreate({ gzip: true, file: partial, cwd: dir, portable: true }, entries.sort());
      await fs.rename(partial, out);
    } else {
      await fs.rmdir(out).catch(() => undefined); // an empty folder the caller made (rmdir never removes a non-empty one)
      await fs.rename(dir, out);
    }
    complete = true;
    return { night: manifest.night, manifestSha256: stored.sha256, objects: done, bytes, out, verifiedBy };
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (tarball || !complete) await fs.rm(dir, { recursive: true, force: true });
    if (tarball && !complete) await fs.rm(`${dir}.tar.gz`, { force: true });
  }
}

/** The output must not exist, or be an empty folder (never mixed with or written over other files). */
async function refuseExisting(out: string, tarball: boolean): Promise<void> {
  let st;
  try {
    st = await fs.stat(out);
  } catch {
    return;
  }
  if (tarball || !st.isDirectory()) throw new RuntimeError(`${out} already exists; the exit bundle never writes over anything (choose a new --out)`);
  if ((await fs.readdir(out)).length) throw new RuntimeError(`${out} is not empty; the exit bundle writes only into a new or empty folder (choose a new --out)`);
}

/** A progress bar for stderr: redrawn in place on a TTY, a line every 10 % otherwise. */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): (p: { done: number; total: number; bytes: number; totalBytes: number }) => void {
  let lastDecile = -1;
  let lastDraw = 0;
  return (p) => {
    const frac = p.totalBytes > 0 ? p.bytes / p.totalBytes : p.total > 0 ? p.done / p.total : 1;
    const pct = Math.floor(frac * 100);
    const text = `${p.done}/${p.total} objects, ${(p.bytes / 1048576).toFixed(1)}/${(p.totalBytes / 1048576).toFixed(1)} MiB`;
    if (stream.isTTY) {
      const now = Date.now();
      if (now - lastDraw < 100 && p.done < p.total) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round(frac * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${text}`);
      if (p.done === p.total) stream.write('\n');
    } else {
      const decile = Math.floor(pct / 10);
      if (decile > lastDecile || p.done === p.total) {
        lastDecile = decile;
        stream.write(`exit-bundle: ${pct}% ${text}\n`);
      }
    }
  };
}
