/** The connect-export Lambda's Map contract (plan → items → finalize) against moto's S3, Connect served from the fixture. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { handler, deps, CONNECT_MAP_MAX_CONCURRENCY } from '../../lib/runtime/handlers/connect-export';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { S3Store } from '../../lib/runtime/stores/s3';
import { startMoto, type MotoService } from '../../scripts/services';
import { awsClients, createExportBucket, drillPlan, motoEnv } from '../../scripts/drill/primary';

let moto: MotoService;
const saved = { ...process.env };
const plan = drillPlan();
let bucket: string;
const lines: Record<string, unknown>[] = [];
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;

beforeAll(async () => {
  setLogSink({ line: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
  moto = await startMoto();
  Object.assign(process.env, motoEnv(moto.endpoint, plan.primary.region));
  bucket = (await createExportBucket(awsClients(moto.endpoint, plan.primary.region).s3, plan)).bucket;
});
afterAll(async () => {
  process.env = saved;
  await moto?.stop();
});

test('plan → one invocation per item (as the Map passes them) → finalize gives the same documents as the one-shot event', async () => {
  deps.connect = () => new FixtureConnectClient(fixture);
  const store = new S3Store(bucket, awsClients(moto.endpoint, plan.primary.region).s3);
  const one = naming.datasetNightPrefix('2026-11-01', 'connect');
  await handler({ instanceId: fixture.instanceId, bucket, prefix: one });

  const prefix = naming.datasetNightPrefix('2026-11-02', 'connect');
  const { items } = await handler({ instanceId: fixture.instanceId, bucket, prefix, action: 'plan' });
  expect(items.length).toBeGreaterThan(1);
  expect(CONNECT_MAP_MAX_CONCURRENCY).toBe(1);
  for (const item of JSON.parse(JSON.stringify(items)) as { resourceTypes: string[]; shard: { index: number; count: number } }[]) {
    await handler({ instanceId: fixture.instanceId, bucket, prefix, resourceTypes: item.resourceTypes, shard: item.shard });
  }
  const fin = await handler({ instanceId: fixture.instanceId, bucket, prefix, action: 'finalize' });
  expect(fin.objects).toBeGreaterThan(20);
  const a = JSON.parse((await store.getBytes(`${one}index.json`)).toString());
  const b = JSON.parse((await store.getBytes(`${prefix}index.json`)).toString());
  expect(b.resources).toEqual(a.resources);
  expect(b.files.map((f: { sha256: string }) => f.sha256)).toEqual(a.files.map((f: { sha256: string }) => f.sha256));
  expect(lines.filter((l) => l.step === 'types').length).toBe(items.length);
});

test('finalize with a missing Map item fails (no index is written); bad events are refused', async () => {
  deps.connect = () => new FixtureConnectClient(fixture);
  const store = new S3Store(bucket, awsClients(moto.endpoint, plan.primary.region).s3);
  const prefix = naming.datasetNightPrefix('2026-11-03', 'connect');
  await handler({ instanceId: fixture.instanceId, bucket, prefix, resourceTypes: ['contact-flows'] });
  lines.length = 0;
  await expect(handler({ instanceId: fixture.instanceId, bucket, prefix, action: 'finalize' })).rejects.toThrow(/no part for resource type contact-flow-modules/);
  expect(lines).toEqual([expect.objectContaining({ event: 'counterparty.export', result: 'failure', reason: 'error', step: 'finalize', error: expect.stringContaining('contact-flow-modules') })]);
  expect(await store.head(`${prefix}index.json`)).toBeUndefined();
  await expect(handler({ instanceId: 'x', bucket, prefix, action: 'publish' as never })).rejects.toThrow(/event.action must be 'plan' or 'finalize'/);
  await expect(handler({ instanceId: 'x', bucket, prefix, resourceTypes: [] })).rejects.toThrow(/event.resourceTypes must be a non-empty list/);
  await expect(handler({ instanceId: fixture.instanceId, bucket, prefix, resourceTypes: ['nope'] })).rejects.toThrow(/unknown resource type\(s\) nope/);
});
