/** The two Lambda handlers, with the AWS SDK pointed at moto_server (Connect served from the fixture). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { handler as buildManifestHandler } from '../../lib/runtime/handlers/build-manifest';
import { handler as connectHandler, deps } from '../../lib/runtime/handlers/connect-export';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { CONNECT_RESOURCES } from '../../lib/runtime/exporters/connect';
import { S3Store } from '../../lib/runtime/stores/s3';
import { sha256Hex } from '../../lib/runtime/util';
import { startMoto, type MotoService } from '../../scripts/services';
import { awsClients, createExportBucket, drillPlan, motoEnv } from '../../scripts/drill/primary';

let moto: MotoService;
const saved = { ...process.env };
const plan = drillPlan();
let bucket: string;

beforeAll(async () => {
  setLogSink({ line: () => undefined });
  moto = await startMoto();
  Object.assign(process.env, motoEnv(moto.endpoint, plan.primary.region));
  bucket = (await createExportBucket(awsClients(moto.endpoint, plan.primary.region).s3, plan)).bucket;
});
afterAll(async () => {
  process.env = saved;
  await moto?.stop();
});

test('connect-export crawls into the prefix and returns { objects, bytes }; build-manifest chains nights', async () => {
  const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;
  deps.connect = () => new FixtureConnectClient(fixture);
  const prefix = naming.datasetNightPrefix('2026-11-01', 'connect');
  const r = await connectHandler({ instanceId: fixture.instanceId, bucket, prefix });
  expect(r.objects).toBe(CONNECT_RESOURCES.length + 3); // one JSON per type, 2 prompt audio files, index.json
  const store = new S3Store(bucket, awsClients(moto.endpoint, plan.primary.region).s3);
  let bytes = 0;
  for await (const o of store.list(prefix)) bytes += o.size;
  expect(r.bytes).toBe(bytes);
  expect(await store.head(naming.connectIndexKey('2026-11-01', 'connect'))).toBeDefined();

  const datasets = [{ name: 'connect', kind: 'connectInstance' }];
  const one = await buildManifestHandler({ bucket, night: '2026-11-01', datasets });
  expect(one).toMatchObject({ manifestKey: naming.manifestKey('2026-11-01'), objects: r.objects, bytes, previousSha256: null });
  expect(one.sha256).toBe(sha256Hex(await store.getBytes(one.manifestKey)));
  await connectHandler({ instanceId: fixture.instanceId, bucket, prefix: naming.datasetNightPrefix('2026-11-02', 'connect') });
  const two = await buildManifestHandler({ bucket, night: '2026-11-02', datasets });
  expect(two.previousSha256).toBe(one.sha256);
});

test('build-manifest writes each DynamoDB dataset\'s key schema (the SDK integration writes none), and the manifest covers it', async () => {
  const { ddb, s3 } = awsClients(moto.endpoint, plan.primary.region);
  await ddb.send(new CreateTableCommand({
    TableName: 'schema-probe',
    KeySchema: [{ AttributeName: 'contactId', KeyType: 'HASH' }, { AttributeName: 'ts', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'contactId', AttributeType: 'S' }, { AttributeName: 'ts', AttributeType: 'N' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  const night = '2026-11-05';
  const store = new S3Store(bucket, s3);
  const r = await buildManifestHandler({ bucket, night, datasets: [{ name: 'contacts', kind: 'dynamoDbTable', tableName: 'schema-probe' }] });
  const key = naming.dynamoDbTableSchemaKey(night, 'contacts');
  const schema = JSON.parse((await store.getBytes(key)).toString('utf8'));
  expect(schema).toEqual({
    TableName: 'schema-probe',
    KeySchema: [{ AttributeName: 'contactId', KeyType: 'HASH' }, { AttributeName: 'ts', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'contactId', AttributeType: 'S' }, { AttributeName: 'ts', AttributeType: 'N' }],
  });
  const manifest = JSON.parse((await store.getBytes(r.manifestKey)).toString('utf8'));
  expect(manifest.entries.map((e: { key: string }) => e.key)).toContain(key);
  // Without tableName (an older state machine), nothing is described or written.
  const night2 = '2026-11-06';
  // (that night has no export files at all: the manifest is written, marks the dataset failed, and the execution fails)
  await expect(buildManifestHandler({ bucket, night: night2, datasets: [{ name: 'contacts', kind: 'dynamoDbTable' }] })).rejects.toThrow(/contacts: no export files/);
  expect(await store.head(naming.dynamoDbTableSchemaKey(night2, 'contacts'))).toBeUndefined();
  expect(JSON.parse((await store.getBytes(naming.manifestKey(night2))).toString('utf8')).datasets[0]).toMatchObject({ name: 'contacts', status: 'failed' });
});

test('bad events are refused with a message naming the field', async () => {
  await expect(connectHandler({ instanceId: 'x', bucket, prefix: 'somewhere/' })).rejects.toThrow(/event.prefix must be nights\/<YYYY-MM-DD>\/<dataset>\//);
  await expect(connectHandler({ instanceId: '', bucket, prefix: 'nights/2026-11-01/c/' })).rejects.toThrow(/event.instanceId/);
  await expect(buildManifestHandler({ bucket, night: '2026-11-01', datasets: [] })).rejects.toThrow(/event.datasets/);
  await expect(buildManifestHandler({ bucket, night: 'nope', datasets: [{ name: 'c', kind: 'connectInstance' }] })).rejects.toThrow(/not a night ID/);
});
