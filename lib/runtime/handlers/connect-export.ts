/**
 * Lambda handler: crawls an Amazon Connect instance's configuration into the export bucket
 * (lib/runtime/exporters/connect.ts, docs/connect.md). Prefix = `naming.datasetNightPrefix(night, dataset)`.
 *
 * Events (one function, four uses):
 * - `{ instanceId, bucket, prefix }`: the whole instance in one invocation (small instances).
 * - `{ instanceId, bucket, prefix, action: 'plan' }`: counts each type and returns
 *   `{ items: [{ resourceTypes, shard? , ...}] }`, the Map items that each fit the 900 s limit.
 * - `{ instanceId, bucket, prefix, resourceTypes, shard? }`: one Map item; writes `parts/`.
 * - `{ instanceId, bucket, prefix, action: 'finalize' }`: merges the parts into `<type>.json` and
 *   `index.json` (fails, naming the type, if any Map item's part is missing).
 * The state machine runs plan → Map (maxConcurrency {@link CONNECT_MAP_MAX_CONCURRENCY}) → finalize.
 */
import { ConnectClient } from '@aws-sdk/client-connect';
import {
  exportConnectConfiguration, exportConnectResourceTypes, finalizeConnectExport, planConnectExport,
  type ConnectLike, type ConnectMapItem, type ConnectShard,
} from '../exporters/connect';
import { failureFields, logEvent } from '../log';
import { S3Store, s3ClientFromEnv } from '../stores/s3';
export { CONNECT_MAP_MAX_CONCURRENCY, CONNECT_READ_ACTIONS, CONNECT_RESOURCE_TYPES } from '../exporters/connect';

export interface ConnectExportEvent {
  readonly instanceId: string;
  readonly bucket: string;
  readonly prefix: string;
  /** 'plan' returns the Map items; 'finalize' writes the index. @default one-shot export, or one Map item when resourceTypes is set */
  readonly action?: 'plan' | 'finalize';
  /** Export only these types into `parts/` (one Map item). @default every type, written directly */
  readonly resourceTypes?: readonly string[];
  /** This item's share of a sharded type. @default { index: 0, count: 1 } */
  readonly shard?: ConnectShard;
}
export interface ConnectExportResult {
  readonly objects: number;
  readonly bytes: number;
}
export interface ConnectPlanResult {
  readonly items: readonly ConnectMapItem[];
}

/** Connect's default quota is 2 requests/s per API (burst 5): the SDK's adaptive mode rate-limits on the client after the first throttle. */
export function newConnectClient(region = process.env.AWS_REGION): ConnectClient {
  return new ConnectClient({ region, retryMode: 'adaptive', maxAttempts: 10 });
}

/** Overridable for tests (moto has no Connect). */
export const deps: { connect: () => ConnectLike } = {
  connect: () => newConnectClient(),
};

function validate(event: ConnectExportEvent): void {
  for (const f of ['instanceId', 'bucket', 'prefix'] as const) {
    if (typeof event?.[f] !== 'string' || !event[f]) throw new Error(`connect-export: event.${f} must be a non-empty string`);
  }
  if (!/^nights\/\d{4}-\d{2}-\d{2}\/[^/]+\/$/.test(event.prefix)) throw new Error(`connect-export: event.prefix must be nights/<YYYY-MM-DD>/<dataset>/, got ${JSON.stringify(event.prefix)}`);
  if (event.action !== undefined && event.action !== 'plan' && event.action !== 'finalize') throw new Error(`connect-export: event.action must be 'plan' or 'finalize' when set, got ${JSON.stringify(event.action)}`);
  if (event.resourceTypes !== undefined && (!Array.isArray(event.resourceTypes) || !event.resourceTypes.length || event.resourceTypes.some((t) => typeof t !== 'string'))) {
    throw new Error(`connect-export: event.resourceTypes must be a non-empty list of type names, got ${JSON.stringify(event.resourceTypes)}`);
  }
}

export async function handler(event: ConnectExportEvent & { readonly action: 'plan' }): Promise<ConnectPlanResult>;
export async function handler(event: ConnectExportEvent): Promise<ConnectExportResult>;
export async function handler(event: ConnectExportEvent): Promise<ConnectExportResult | ConnectPlanResult> {
  try {
    return await run(event);
  } catch (err) {
    // one failure line (the alert keys on it), then the Lambda fails, and with it the state machine
    logEvent('counterparty.export', { kind: 'connectInstance', step: event?.action ?? (event?.resourceTypes ? 'types' : 'all'), prefix: event?.prefix, resourceTypes: event?.resourceTypes, shard: event?.shard, ...failureFields(err) });
    throw err;
  }
}

async function run(event: ConnectExportEvent): Promise<ConnectExportResult | ConnectPlanResult> {
  validate(event);
  const base = { instanceId: event.instanceId, store: new S3Store(event.bucket, s3ClientFromEnv()), prefix: event.prefix };
  if (event.action === 'plan') {
    const plan = await planConnectExport({ client: deps.connect(), instanceId: event.instanceId });
    logEvent('counterparty.export', { result: 'success', kind: 'connectInstance', step: 'plan', prefix: event.prefix, items: plan.items.length, calls: plan.calls });
    return { items: plan.items };
  }
  if (event.action === 'finalize') {
    const r = await finalizeConnectExport(base);
    logEvent('counterparty.export', { result: 'success', kind: 'connectInstance', step: 'finalize', prefix: event.prefix, objects: r.objects, bytes: r.bytes, resources: r.resources });
    return { objects: r.objects, bytes: r.bytes };
  }
  if (event.resourceTypes) {
    const r = await exportConnectResourceTypes({ ...base, client: deps.connect(), resourceTypes: event.resourceTypes, shard: event.shard });
    logEvent('counterparty.export', { result: 'success', kind: 'connectInstance', step: 'types', prefix: event.prefix, resourceTypes: event.resourceTypes, shard: event.shard, objects: r.objects, bytes: r.bytes, resources: r.resources, throttled: r.throttled });
    return { objects: r.objects, bytes: r.bytes };
  }
  const r = await exportConnectConfiguration({ ...base, client: deps.connect() });
  logEvent('counterparty.export', { result: 'success', kind: 'connectInstance', prefix: event.prefix, objects: r.objects, bytes: r.bytes, resources: r.resources, throttled: r.throttled });
  return { objects: r.objects, bytes: r.bytes };
}
