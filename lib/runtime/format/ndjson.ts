/**
 * Gzipped NDJSON index files: a streaming reader that checks each file's SHA-256 and size as it
 * reads, and a sharding writer that never holds more than one shard.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createGzip, createGunzip, type Gzip } from 'node:zlib';
import { ManifestError } from '../errors';
import type { ObjectStore } from '../stores/types';
import { HashingPassThrough, sha256Hex } from '../util';
import type { IndexFile } from './types';
import { compareUtf8 } from './keys';

const BATCH_CHARS = 256 * 1024;

/** Records per index file. @default 100,000 (a few MiB gzipped). */
export const INDEX_SHARD_RECORDS = 100_000;

/**
 * Streams the records of one index file. Throws {@link ManifestError} when the file's bytes do not
 * hash to what the manifest pinned (after the last record), or when a line is not JSON.
 */
export async function* readIndexFile<T>(store: ObjectStore, file: IndexFile): AsyncIterable<T> {
  const hashing = new HashingPassThrough();
  const raw = await store.get(file.key);
  raw.on('error', (e) => hashing.destroy(e));
  const gunzip = createGunzip();
  hashing.on('error', (e) => gunzip.destroy(e));
  raw.pipe(hashing).pipe(gunzip);
  const lines = createInterface({ input: gunzip, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    if (!line) continue;
    let rec: T;
    try {
      rec = JSON.parse(line) as T;
    } catch {
      throw new ManifestError(`corrupt index ${store.url}/${file.key}: line ${n + 1} is not JSON`);
    }
    n++;
    yield rec;
  }
  if (!hashing.writableFinished) await once(hashing, 'finish');
  if (hashing.sha256 !== file.sha256 || hashing.size !== file.size) {
    throw new ManifestError(`corrupt index ${store.url}/${file.key}: manifest says sha256 ${file.sha256} (${file.size} bytes), found ${hashing.sha256} (${hashing.size} bytes)`);
  }
  if (n !== file.records) throw new ManifestError(`corrupt index ${store.url}/${file.key}: manifest says ${file.records} records, found ${n}`);
}

/** Streams a run of files in order, checking the key order across them. */
export async function* readRun<T extends { key: string }>(store: ObjectStore, files: readonly IndexFile[]): AsyncIterable<T> {
  let last: string | undefined;
  for (const f of files) {
    for await (const rec of readIndexFile<T>(store, f)) {
      if (typeof rec?.key !== 'string') throw new ManifestError(`corrupt index ${store.url}/${f.key}: a record has no key`);
      if (last !== undefined && compareUtf8(last, rec.key) >= 0) throw new ManifestError(`corrupt index ${store.url}/${f.key}: keys not sorted or repeated at ${JSON.stringify(rec.key)}`);
      last = rec.key;
      yield rec;
    }
  }
}

/**
 * Writes sorted records into `<prefix><name>-00000.ndjson.gz`, `-00001`, ... with at most
 * `shardRecords` records each; each file is gzipped as it fills and written when full (one shard in
 * memory at a time, compressed).
 */
export class ShardWriter {
  private readonly files: IndexFile[] = [];
  private gzip?: Gzip;
  private chunks: Buffer[] = [];
  private records = 0;
  private total = 0;
  private last?: string;
  /** Lines are handed to zlib in batches: one zlib call per line costs more than the compression. */
  private batch: string[] = [];
  private batchChars = 0;

  constructor(private readonly store: ObjectStore, private readonly prefix: string, private readonly name: string, private readonly shardRecords = INDEX_SHARD_RECORDS) {}

  async write(rec: { readonly key: string } & object): Promise<void> {
    if (this.last !== undefined && compareUtf8(this.last, rec.key) >= 0) throw new Error(`ShardWriter ${this.prefix}${this.name}: keys out of order at ${JSON.stringify(rec.key)}`);
    this.last = rec.key;
    if (!this.gzip) this.open();
    const line = `${JSON.stringify(rec)}\n`;
    this.batch.push(line);
    this.batchChars += line.length;
    if (this.batchChars >= BATCH_CHARS) await this.writeBatch();
    this.records++;
    this.total++;
    if (this.records >= this.shardRecords) await this.flush();
  }

  /** Finishes the last file; returns every file written, in order. */
  async close(): Promise<{ files: IndexFile[]; records: number }> {
    if (this.gzip) await this.flush();
    return { files: this.files, records: this.total };
  }

  private async writeBatch(): Promise<void> {
    if (!this.batch.length) return;
    const text = this.batch.join('');
    this.batch = [];
    this.batchChars = 0;
    if (!this.gzip!.write(text)) await once(this.gzip!, 'drain');
  }

  private open(): void {
    this.chunks = [];
    this.records = 0;
    this.gzip = createGzip({ level: 6 });
    this.gzip.on('data', (c: Buffer) => this.chunks.push(c));
  }

  private async flush(): Promise<void> {
    await this.writeBatch();
    const gz = this.gzip!;
    this.gzip = undefined;
    const done = once(gz, 'end');
    gz.end();
    await done;
    const body = Buffer.concat(this.chunks);
    this.chunks = [];
    const key = `${this.prefix}${this.name}-${String(this.files.length).padStart(5, '0')}.ndjson.gz`;
    await this.store.put(key, body, { contentType: 'application/x-ndjson' });
    this.files.push({ key, sha256: sha256Hex(body), size: body.length, records: this.records });
  }
}
