import { Readable } from 'node:stream';
import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential, type RestError } from '@azure/storage-blob';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { ObjectNotFoundError, readAll, type HeadInfo, type ObjectInfo, type ObjectStore, type PutOptions } from './types';

export interface AzureBlobStoreOptions {
  readonly account: string;
  readonly container: string;
  /** Account endpoint, e.g. `https://<account>.blob.core.windows.net` or Azurite's `http://127.0.0.1:10000/devstoreaccount1`. */
  readonly endpoint?: string;
  /** Shared key (Azurite, or an account key where policy allows it). */
  readonly accountKey?: string;
  /** A SAS token (query string without `?`) for the container. */
  readonly sas?: string;
  /** An Entra credential (managed identity); the default when neither key nor SAS is given. */
  readonly credential?: TokenCredential;
}

/**
 * Azure credentials from the environment: `CP_AZURE_BLOB_KEY` (shared key), `CP_AZURE_BLOB_SAS`
 * (SAS token), else the user-assigned managed identity `AZURE_CLIENT_ID`, else DefaultAzureCredential.
 */
export function azureOptionsFromEnv(account: string, container: string, env: NodeJS.ProcessEnv = process.env): AzureBlobStoreOptions {
  return {
    account,
    container,
    endpoint: env.CP_AZURE_BLOB_ENDPOINT || undefined,
    accountKey: env.CP_AZURE_BLOB_KEY || undefined,
    sas: env.CP_AZURE_BLOB_SAS ? env.CP_AZURE_BLOB_SAS.replace(/^\?/, '') : undefined,
  };
}

function statusOf(err: unknown): number | undefined {
  return (err as RestError)?.statusCode;
}

export class AzureBlobStore implements ObjectStore {
  readonly url: string;
  readonly container: ContainerClient;
  readonly endpoint: string;

  constructor(readonly options: AzureBlobStoreOptions) {
    this.url = `azblob://${options.account}/${options.container}`;
    this.endpoint = (options.endpoint ?? `https://${options.account}.blob.core.windows.net`).replace(/\/+$/, '');
    const containerUrl = `${this.endpoint}/${encodeURIComponent(options.container)}`;
    if (options.accountKey) {
      this.container = new ContainerClient(containerUrl, new StorageSharedKeyCredential(options.account, options.accountKey));
    } else if (options.sas) {
      this.container = new ContainerClient(`${containerUrl}?${options.sas}`, new AnonymousCredential());
    } else {
      const credential = options.credential
        ?? (process.env.AZURE_CLIENT_ID ? new ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID }) : new DefaultAzureCredential());
      this.container = new ContainerClient(containerUrl, credential);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: 5000 })) {
      for (const b of page.segment.blobItems) yield { key: b.name, size: Number(b.properties.contentLength ?? 0), modified: b.properties.createdOn ?? b.properties.lastModified };
    }
  }

  async head(key: string): Promise<HeadInfo | undefined> {
    try {
      const p = await this.container.getBlobClient(key).getProperties();
      return { size: Number(p.contentLength ?? 0), metadata: p.metadata ?? {}, etag: p.etag, modified: p.createdOn ?? p.lastModified, retainUntil: p.immutabilityPolicyExpiresOn };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    try {
      const r = await this.container.getBlobClient(key).download();
      const body = r.readableStreamBody;
      if (!body) throw new Error(`${this.url}: empty download for ${key}`);
      return body instanceof Readable ? body : Readable.from(body as AsyncIterable<Buffer>);
    } catch (err) {
      if (statusOf(err) === 404) throw new ObjectNotFoundError(this.url, key);
      throw err;
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async put(key: string, body: Buffer | string | Readable, options: PutOptions = {}): Promise<void> {
    const blob = this.container.getBlockBlobClient(key);
    const common = { blobHTTPHeaders: options.contentType ? { blobContentType: options.contentType } : undefined, metadata: options.metadata as Record<string, string> | undefined };
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      await blob.upload(buf, buf.length, common);
    } else {
      await blob.uploadStream(body, 8 * 1024 * 1024, 4, common);
    }
  }

  /** Creates the container when it does not exist (drill and tests; production containers come from Terraform). */
  async ensureContainer(): Promise<void> {
    await this.container.createIfNotExists();
  }

  /** Deletes the blob and its snapshots; an immutability policy refuses it until it expires. */
  async delete(key: string): Promise<void> {
    await this.container.getBlobClient(key).deleteIfExists({ deleteSnapshots: 'include' });
  }

  locationOf(key: string): string {
    return `${this.endpoint}/${this.options.container}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }
}
