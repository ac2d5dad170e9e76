import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { compareKeys, ObjectNotFoundError, RetentionError, type HeadInfo, type ObjectInfo, type ObjectStore, type PutOptions } from './types';

export interface FileStoreOptions {
  /**
   * Behave like a GCS bucket with a retention policy (and no versioning): an object younger than
   * this can be neither replaced nor deleted; the write or delete is refused with {@link RetentionError}.
   * @default no retention
   */
  readonly retentionSeconds?: number;
  /** The clock (tests). @default Date.now */
  readonly now?: () => number;
}

/** A local folder as an object store (`file:///dir`): exit bundles, tests, air-gapped copies. */
export class FileStore implements ObjectStore {
  readonly url: string;
  readonly root: string;
  constructor(root: string, readonly options: FileStoreOptions = {}) {
    this.root = resolve(root);
    this.url = `file://${this.root}`;
  }

  private pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (p !== this.root && !p.startsWith(this.root + sep)) throw new Error(`${this.url}: key escapes the store: ${key}`);
    return p;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try { entries = await fs.readdir(dir, { withFileTypes: true }); } catch { return; }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !e.name.includes('.tmp-')) {
          const key = relative(this.root, p).split(sep).join('/');
          if (key.startsWith(prefix)) {
            const st = await fs.stat(p);
            found.push({ key, size: st.size, modified: st.mtime });
          }
        }
      }
    };
    // start from the deepest folder the prefix names
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(base ? this.pathOf(base) : this.root);
    found.sort((a, b) => compareKeys(a.key, b.key));
    yield* found;
  }

  private retainUntil(modified: Date): Date | undefined {
    return this.options.retentionSeconds ? new Date(modified.getTime() + this.options.retentionSeconds * 1000) : undefined;
  }

  private async refuseInsideRetention(key: string, what: 'overwrite' | 'delete'): Promise<void> {
    const h = await this.head(key);
    if (h?.retainUntil && h.retainUntil.getTime() > (this.options.now ?? Date.now)()) throw new RetentionError(this.url, key, h.retainUntil, what);
  }

  async head(key: string): Promise<HeadInfo | undefined> {
    try {
      const st = await fs.stat(this.pathOf(key));
      return st.isFile() ? { size: st.size, metadata: {}, modified: st.mtime, retainUntil: this.retainUntil(st.mtime) } : undefined;
    } catch {
      return undefined;
    }
  }

  async get(key: string): Promise<Readable> {
    if (!(await this.head(key))) throw new ObjectNotFoundError(this.url, key);
    return createReadStream(this.pathOf(key), { highWaterMark: 1024 * 1024 });
  }

  async getBytes(key: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch {
      throw new ObjectNotFoundError(this.url, key);
    }
  }

  async put(key: string, body: Buffer | string | Readable, _options?: PutOptions): Promise<void> {
    await this.refuseInsideRetention(key, 'overwrite');
    const p = this.pathOf(key);
    await fs.mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}-${Date.now()}`;
    if (typeof body === 'string' || Buffer.isBuffer(body)) await fs.writeFile(tmp, body);
    else await pipeline(body, createWriteStream(tmp));
    await fs.rename(tmp, p);
    if (this.options.now) {
      const t = new Date(this.options.now());
      await fs.utimes(p, t, t);
    }
  }

  async delete(key: string): Promise<void> {
    await this.refuseInsideRetention(key, 'delete');
    await fs.rm(this.pathOf(key), { force: true });
  }

  locationOf(key: string): string {
    return `file://${this.pathOf(key)}`;
  }
}
