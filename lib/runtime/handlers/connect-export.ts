/**
 * Lambda handler: crawls an Amazon Connect instance's configuration into the export bucket
 * (lib/runtime/exporters/connect.ts). Event `{ instanceId, bucket, prefix }` with
 * prefix = `naming.datasetNightPrefix(night, dataset)`; returns `{ objects, bytes }`.
 * See docs/ARCHITECTURE.md.
 */
import { ConnectClient } from '@aws-sdk/client-connect';
import { exportConnectConfiguration, type ConnectLike } from '../exporters/connect';
import { logEvent } from '../log';
import { S3Store, s3ClientFromEnv } from '../stores/s3';

export interface ConnectExportEvent {
  readonly instanceId: string;
  readonly bucket: string;
  readonly prefix: string;
}
export interface ConnectExportResult {
  readonly objects: number;
  readonly bytes: number;
}

/** Overridable for tests (moto has no Connect). */
export const deps: { connect: () => ConnectLike } = {
  connect: () => new ConnectClient({ region: process.env.AWS_REGION, maxAttempts: 5 }),
};

export async function handler(event: ConnectExportEvent): Promise<ConnectExportResult> {
  for (const f of ['instanceId', 'bucket', 'prefix'] as const) {
    if (typeof event?.[f] !== 'string' || !event[f]) throw new Error(`connect-export: event.${f} must be a non-empty string`);
  }
  if (!/^nights\/\d{4}-\d{2}-\d{2}\/[^/]+\/$/.test(event.prefix)) throw new Error(`connect-export: event.prefix must be nights/<YYYY-MM-DD>/<dataset>/, got ${JSON.stringify(event.prefix)}`);
  const r = await exportConnectConfiguration({
    client: deps.connect(),
    instanceId: event.instanceId,
    store: new S3Store(event.bucket, s3ClientFromEnv()),
    prefix: event.prefix,
  });
  logEvent('counterparty.export', { result: 'success', kind: 'connectInstance', prefix: event.prefix, objects: r.objects, bytes: r.bytes, resources: r.resources, throttled: r.throttled });
  return { objects: r.objects, bytes: r.bytes };
}
