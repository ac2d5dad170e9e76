/**
 * Lambda handler: writes a night's manifest (every object with key, size, SHA-256, chained to the
 * previous night) with lib/runtime/manifest.ts. Event `{ bucket, night, datasets: [{ name, kind }] }`;
 * returns `{ manifestKey, sha256, objects, bytes, previousSha256 }`. See docs/ARCHITECTURE.md.
 */
import { buildManifest } from '../manifest';
import { logEvent } from '../log';
import { S3Store, s3ClientFromEnv } from '../stores/s3';

export interface BuildManifestEvent {
  readonly bucket: string;
  readonly night: string;
  readonly datasets: readonly { readonly name: string; readonly kind: string }[];
}
export interface BuildManifestResult {
  readonly manifestKey: string;
  readonly sha256: string;
  readonly objects: number;
  readonly bytes: number;
  readonly previousSha256: string | null;
}

export async function handler(event: BuildManifestEvent): Promise<BuildManifestResult> {
  if (typeof event?.bucket !== 'string' || !event.bucket) throw new Error('build-manifest: event.bucket must be a non-empty string');
  if (!Array.isArray(event.datasets) || !event.datasets.length) throw new Error('build-manifest: event.datasets must list { name, kind }');
  const r = await buildManifest({
    store: new S3Store(event.bucket, s3ClientFromEnv()),
    night: event.night,
    datasets: event.datasets,
    bucket: event.bucket,
    system: process.env.CP_SYSTEM || undefined,
  });
  logEvent('counterparty.manifest', { result: 'success', night: event.night, key: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previous: r.manifest.previous });
  return { manifestKey: r.key, sha256: r.sha256, objects: r.manifest.totals.objects, bytes: r.manifest.totals.bytes, previousSha256: r.manifest.previous?.sha256 ?? null };
}
