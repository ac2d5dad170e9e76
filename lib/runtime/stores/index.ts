import { AzureBlobStore, azureOptionsFromEnv } from './azure-blob';
import { FileStore } from './file';
import { GcsStore } from './gcs';
import { S3Store, s3ClientFromEnv } from './s3';
import type { ObjectStore } from './types';
import { RuntimeError } from '../errors';

export * from './types';
export { S3Store, s3ClientFromEnv, fullObjectSha256 } from './s3';
export { AzureBlobStore, azureOptionsFromEnv } from './azure-blob';
export { GcsStore } from './gcs';
export { FileStore } from './file';

export type StoreUrl =
  | { readonly kind: 's3'; readonly bucket: string }
  | { readonly kind: 'gs'; readonly bucket: string }
  | { readonly kind: 'azblob'; readonly account: string; readonly container: string }
  | { readonly kind: 'file'; readonly path: string };

/** Parses a store URL: `s3://<bucket>`, `gs://<bucket>`, `azblob://<account>/<container>`, `file://<dir>`. */
export function parseStoreUrl(url: string): StoreUrl {
  const m = /^([a-z0-9]+):\/\/(.*)$/.exec(url ?? '');
  if (!m) throw new RuntimeError(`not a store URL: ${JSON.stringify(url)} (use s3://<bucket>, gs://<bucket>, azblob://<account>/<container> or file://<dir>)`);
  const [, scheme, rest] = m;
  const path = rest.replace(/\/+$/, '');
  switch (scheme) {
    case 's3':
    case 'gs':
      if (!path || path.includes('/')) throw new RuntimeError(`${scheme}:// store URL needs exactly a bucket name: ${JSON.stringify(url)}`);
      return { kind: scheme, bucket: path };
    case 'azblob': {
      const parts = path.split('/');
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw new RuntimeError(`azblob:// store URL must be azblob://<account>/<container>: ${JSON.stringify(url)}`);
      return { kind: 'azblob', account: parts[0], container: parts[1] };
    }
    case 'file':
      if (!rest) throw new RuntimeError(`file:// store URL needs a folder: ${JSON.stringify(url)}`);
      return { kind: 'file', path: rest };
    default:
      throw new RuntimeError(`unknown store URL scheme ${JSON.stringify(scheme)} in ${JSON.stringify(url)} (use s3, gs, azblob or file)`);
  }
}

/**
 * Opens a store from its URL, configured from the environment:
 * S3 — the AWS default credential chain, `AWS_REGION`, `AWS_ENDPOINT_URL_S3`;
 * GCS — Application Default Credentials, `CP_GCS_ENDPOINT`;
 * Azure — `CP_AZURE_BLOB_ENDPOINT`, and `CP_AZURE_BLOB_KEY` / `CP_AZURE_BLOB_SAS` / managed identity (`AZURE_CLIENT_ID`).
 */
export function openStore(url: string, env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const u = parseStoreUrl(url);
  switch (u.kind) {
    case 's3': return new S3Store(u.bucket, s3ClientFromEnv(env));
    case 'gs': return new GcsStore({ bucket: u.bucket, apiEndpoint: env.CP_GCS_ENDPOINT || undefined, projectId: env.GOOGLE_CLOUD_PROJECT || undefined });
    case 'azblob': return new AzureBlobStore(azureOptionsFromEnv(u.account, u.container, env));
    case 'file': return new FileStore(u.path);
  }
}
