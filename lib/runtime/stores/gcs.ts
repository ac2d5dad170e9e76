import type { Readable } from 'node:stream';
import { Storage, type Bucket } from '@google-cloud/storage';
import { ObjectNotFoundError, readAll, type HeadInfo, type ObjectInfo, type ObjectStore, type PutOptions } from './types';

export interface GcsStoreOptions {
  readonly bucket: string;
  /** JSON API endpoint override (`CP_GCS_ENDPOINT`); without it, Google's, with Application Default Credentials. */
  readonly apiEndpoint?: string;
  readonly projectId?: string;
  /** An existing client (tests). */
  readonly storage?: Storage;
}

function statusOf(err: unknown): number | undefined {
  return (err as { code?: number })?.code;
}

/** Google Cloud Storage through `@google-cloud/storage` (ADC: the Cloud Run job's service account). */
export class GcsStore implements ObjectStore {
  readonly url: string;
  readonly bucket: Bucket;

  constructor(readonly options: GcsStoreOptions) {
    this.url = `gs://${options.bucket}`;
    const storage = options.storage ?? new Storage({
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(options.projectId ? { projectId: options.projectId } : {}),
    });
    this.bucket = storage.bucket(options.bucket);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.bucket.getFiles({ prefix, autoPaginate: false, maxResults: 1000, pageToken });
      for (const f of files) yield { key: f.name, size: Number(f.metadata.size ?? 0), modified: f.metadata.timeCreated ? new Date(f.metadata.timeCreated) : undefined };
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async head(key: string): Promise<HeadInfo | undefined> {
    try {
      const [m] = await this.bucket.file(key).getMetadata();
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.metadata ?? {})) if (v !== null && v !== undefined) metadata[k.toLowerCase()] = String(v);
      return {
        size: Number(m.size ?? 0), metadata, etag: m.etag,
        modified: m.timeCreated ? new Date(m.timeCreated) : undefined,
        retainUntil: m.retentionExpirationTime ? new Date(m.retentionExpirationTime) : undefined,
      };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    // Fail early (and with our error) when the object is missing; then stream it.
    if (!(await this.head(key))) throw new ObjectNotFoundError(this.url, key);
    return this.bucket.file(key).createReadStream({ validation: false });
  }

  async getBytes(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async put(key: string, body: Buffer | string | Readable, options: PutOptions = {}): Promise<void> {
    const file = this.bucket.file(key);
    const metadata = { contentType: options.contentType, metadata: options.metadata };
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      await file.save(typeof body === 'string' ? Buffer.from(body) : body, { resumable: false, validation: false, metadata });
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const out = file.createWriteStream({ resumable: false, validation: false, metadata });
      body.on('error', reject);
      out.on('error', reject);
      out.on('finish', () => resolve());
      body.pipe(out);
    });
  }

  /** Deletes the object; a bucket retention policy refuses it until the object's retention expires. */
  async delete(key: string): Promise<void> {
    await this.bucket.file(key).delete({ ignoreNotFound: true });
  }

  locationOf(key: string): string {
    return `${this.url}/${key}`;
  }
}
