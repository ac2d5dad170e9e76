/**
 * Lambda handler: crawls an Amazon Connect instance's configuration into the export bucket.
 * Event `{ instanceId, bucket, prefix }`; returns `{ objects, bytes }`. See docs/ARCHITECTURE.md.
 * Implementation lands with the runtime issue (lib/runtime/exporters/connect.ts).
 */
export interface ConnectExportEvent {
  readonly instanceId: string;
  readonly bucket: string;
  readonly prefix: string;
}
export interface ConnectExportResult {
  readonly objects: number;
  readonly bytes: number;
}
export async function handler(_event: ConnectExportEvent): Promise<ConnectExportResult> {
  throw new Error('connect-export: not implemented yet');
}
