/**
 * `prune` (format v2): deletes the blobs that no night present in the store references, once the
 * store no longer holds them (lock or retention expired) and they are older than a grace period.
 * Runs on every site against its own copy. Memory stays bounded: referenced SHA-256s are spilled to
 * 256 files by prefix, then each prefix's set is compared with that prefix's listing.
 *
 * "Referenced" is a safe over-approximation: every record of every index file a present night's
 * manifest names (its checkpoint, its change runs since, its own changes), removals aside. A blob
 * some retained night can restore is therefore always kept.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { naming } from '../core';
import { RuntimeError, oneLine } from './errors';
import { logEvent } from './log';
import { listBlobs, listNights, readIndexFile, readManifestV2, type IndexFile } from './format';
import type { ObjectStore } from './stores/types';

/** Blobs younger than this are never deleted (a night being written references blobs before its manifest exists). @default 7 */
export const PRUNE_GRACE_DAYS = 7;

export interface PruneOptions {
  readonly store: ObjectStore;
  /** Report only. @default false */
  readonly dryRun?: boolean;
  /** @default now */
  readonly now?: Date;
  /** @default PRUNE_GRACE_DAYS */
  readonly graceDays?: number;
  /** Called for each blob deleted (or that would be, in a dry run). */
  readonly onDelete?: (key: string, size: number) => void;
}

export interface PruneReport {
  readonly dryRun: boolean;
  readonly nights: readonly string[];
  readonly indexFiles: number;
  readonly blobs: number;
  readonly referenced: number;
  readonly unreferenced: number;
  /** Deleted (or, in a dry run, deletable) blobs and their bytes. */
  readonly deleted: number;
  readonly bytesFreed: number;
  /** Unreferenced but kept: still locked / under retention, or younger than the grace period. */
  readonly keptLocked: number;
  readonly keptYoung: number;
  readonly failures: readonly { key: string; problem: string }[];
}

/** Every index file named by the manifests of the nights present, each once. */
async function indexFiles(store: ObjectStore, nights: readonly string[]): Promise<IndexFile[]> {
  const files = new Map<string, IndexFile>();
  for (const n of nights) {
    const m = (await readManifestV2(store, n)).manifest;
    for (const d of m.datasets) {
      if (!d.index) continue;
      for (const r of [d.index.checkpoint, ...d.index.since, d.index.night]) for (const f of r.files) files.set(f.key, f);
    }
  }
  return [...files.values()];
}

async function write(out: WriteStream, line: string): Promise<void> {
  if (!out.write(line)) await once(out, 'drain');
}

/** Spills every referenced SHA-256 into `<dir>/<2 hex>` files; returns how many records were read. */
async function spillReferences(store: ObjectStore, files: readonly IndexFile[], dir: string): Promise<number> {
  const outs = new Map<string, WriteStream>();
  const out = (p: string): WriteStream => {
    let w = outs.get(p);
    if (!w) outs.set(p, (w = createWriteStream(join(dir, p))));
    return w;
  };
  let n = 0;
  try {
    for (const f of files) {
      for await (const r of readIndexFile<{ op?: string; sha256: string }>(store, f)) {
        if (r.op === 'remove') continue;
        if (!/^[0-9a-f]{64}$/.test(r.sha256)) throw new RuntimeError(`prune: ${store.url}/${f.key} has a record without a SHA-256; nothing deleted`);
        await write(out(r.sha256.slice(0, 2)), `${r.sha256}\n`);
        n++;
      }
    }
  } finally {
    await Promise.all([...outs.values()].map((w) => new Promise<void>((resolve) => w.end(resolve))));
  }
  return n;
}

async function readSpill(dir: string, prefix: string): Promise<Set<string>> {
  const set = new Set<string>();
  try {
    for await (const line of createInterface({ input: createReadStream(join(dir, prefix)), crlfDelay: Infinity })) if (line) set.add(line);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return set;
}

export async function prune(opts: PruneOptions): Promise<PruneReport> {
  const { store } = opts;
  const dryRun = opts.dryRun ?? false;
  if (!dryRun && !store.delete) throw new RuntimeError(`prune: ${store.url} cannot delete objects`);
  const now = (opts.now ?? new Date()).getTime();
  const graceMs = (opts.graceDays ?? PRUNE_GRACE_DAYS) * 86_400_000;
  const nights = await listNights(store);
  // Refuses to run when any present night can't be read: its blobs would look unreferenced.
  const files = await indexFiles(store, nights);
  const dir = mkdtempSync(join(tmpdir(), 'cp-prune-'));
  const counts = { blobs: 0, referenced: 0, unreferenced: 0, deleted: 0, bytesFreed: 0, keptLocked: 0, keptYoung: 0 };
  const failures: { key: string; problem: string }[] = [];
  try {
    await spillReferences(store, files, dir);
    for (let p = 0; p < 256; p++) {
      const prefix = p.toString(16).padStart(2, '0');
      const referenced = await readSpill(dir, prefix);
      for await (const b of listBlobs(store, [prefix])) {
        counts.blobs++;
        if (referenced.has(b.sha256)) {
          counts.referenced++;
          continue;
        }
        counts.unreferenced++;
        const head = await store.head(b.key);
        if (!head) continue;
        const modified = (head.modified ?? (b as { modified?: Date }).modified)?.getTime();
        if (head.retainUntil && head.retainUntil.getTime() > now) { counts.keptLocked++; continue; }
        if (modified === undefined || modified + graceMs > now) { counts.keptYoung++; continue; }
        if (!dryRun) {
          try {
            await store.delete!(b.key);
          } catch (err) {
            failures.push({ key: b.key, problem: oneLine(err) });
            continue;
          }
        }
        counts.deleted++;
        counts.bytesFreed += head.size;
        opts.onDelete?.(b.key, head.size);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { dryRun, nights, indexFiles: files.length, ...counts, failures };
}

/** The blob key prefix prune works under (for IAM grants). */
export const PRUNE_PREFIX = naming.BLOBS_PREFIX;

/**
 * The `prune` CLI verb: `CP_STORE` (the site's own copy), `CP_PRUNE_DRY_RUN=true` to report only,
 * `CP_PRUNE_GRACE_DAYS`. Prints ONE `counterparty.prune` line; exit 0, or 2 when a delete failed.
 */
export async function runPruneCommand(env: NodeJS.ProcessEnv, open: (url: string, env: NodeJS.ProcessEnv) => ObjectStore): Promise<number> {
  const url = env.CP_STORE;
  if (!url) throw new RuntimeError('CP_STORE is not set');
  const grace = env.CP_PRUNE_GRACE_DAYS ? Number(env.CP_PRUNE_GRACE_DAYS) : undefined;
  if (grace !== undefined && !(Number.isFinite(grace) && grace >= 0)) throw new RuntimeError(`CP_PRUNE_GRACE_DAYS must be a number of days >= 0, got ${JSON.stringify(env.CP_PRUNE_GRACE_DAYS)}`);
  const dryRun = env.CP_PRUNE_DRY_RUN === 'true';
  const r = await prune({ store: open(url, env), dryRun, graceDays: grace });
  logEvent('counterparty.prune', {
    result: r.failures.length ? 'failure' : 'success', store: url, dryRun, nights: r.nights.length, indexFiles: r.indexFiles, blobs: r.blobs,
    referenced: r.referenced, unreferenced: r.unreferenced, deleted: r.deleted, bytesFreed: r.bytesFreed, keptLocked: r.keptLocked, keptYoung: r.keptYoung,
    ...(r.failures.length ? { error: `${r.failures.length} delete(s) refused, first ${r.failures[0].key}: ${r.failures[0].problem}` } : {}),
  });
  return r.failures.length ? 2 : 0;
}
