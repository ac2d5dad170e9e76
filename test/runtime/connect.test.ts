import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportConnectConfiguration, isThrottle, sendWithRetry, CONNECT_RESOURCES, CONNECT_READ_ACTIONS, CONNECT_RESOURCE_TYPES, CONNECT_MAP_MAX_CONCURRENCY,
  planConnectExport, exportConnectResourceTypes, finalizeConnectExport, connectPartKey,
} from '../../lib/runtime/exporters/connect';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { FileStore } from '../../lib/runtime/stores/file';
import { sha256Hex } from '../../lib/runtime/util';
import { ListQueuesCommand } from '@aws-sdk/client-connect';
import { CONNECT_IAM_ACTIONS, CONNECT_MAP_ITEMS_AT_ONCE } from '../../lib/runtime/exporters/connect-contract';

const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;
const PREFIX = 'nights/2026-11-01/connect/';
const noSleep = async (): Promise<void> => undefined;
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cp-connect-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function crawl(client: FixtureConnectClient, sub = 'a'): Promise<{ store: FileStore; result: Awaited<ReturnType<typeof exportConnectConfiguration>> }> {
  const store = new FileStore(join(dir, sub));
  const result = await exportConnectConfiguration({ client, instanceId: fixture.instanceId, store, prefix: PREFIX, retry: { sleep: noSleep } });
  return { store, result };
}

test('crawls every resource type (paginated) into one JSON per type, prompt audio and an index', async () => {
  const client = new FixtureConnectClient(fixture, { pageSize: 1 });
  const { store, result } = await crawl(client);
  expect(result.resources).toEqual({
    'contact-flows': 3, 'contact-flow-modules': 1, queues: 3, 'routing-profiles': 2, 'hours-of-operation': 2, prompts: 2,
    'quick-connects': 2, users: 4, 'user-hierarchy-groups': 2, 'security-profiles': 2, 'user-hierarchy-structure': 1,
    'agent-statuses': 1, 'phone-numbers': 2, 'flow-associations': 1, 'lex-bots': 1, 'lambda-functions': 1, 'approved-origins': 1,
    instance: 1, 'instance-attributes': 2, 'instance-storage-configs': 1, 'task-templates': 1, rules: 1, views: 1, 'predefined-attributes': 1,
  });
  const phones = JSON.parse((await store.getBytes(`${PREFIX}phone-numbers.json`)).toString());
  expect(phones.map((p: { PhoneNumber: string }) => p.PhoneNumber)).toEqual(['+493012345670', '+493012345671']);
  expect(phones[0].PhoneNumberStatus).toEqual({ Status: 'CLAIMED' }); // from DescribePhoneNumber, not the list summary
  const assoc = JSON.parse((await store.getBytes(`${PREFIX}flow-associations.json`)).toString());
  expect(assoc).toEqual([expect.objectContaining({ ResourceType: 'VOICE_PHONE_NUMBER', FlowId: expect.stringContaining('contact-flow/') })]);
  const storage = JSON.parse((await store.getBytes(`${PREFIX}instance-storage-configs.json`)).toString());
  expect(storage[0]).toEqual(expect.objectContaining({ ResourceType: 'CALL_RECORDINGS', StorageType: 'S3' }));
  const templates = JSON.parse((await store.getBytes(`${PREFIX}task-templates.json`)).toString());
  expect(templates[0].Fields).toHaveLength(1); // GetTaskTemplate's flat response
  const queues = JSON.parse((await store.getBytes(`${PREFIX}queues.json`)).toString());
  expect(queues.find((q: { Name: string }) => q.Name === 'Sales').QuickConnects).toHaveLength(1);
  expect(JSON.parse((await store.getBytes(`${PREFIX}instance.json`)).toString()).IdentityManagementType).toBe('CONNECT_MANAGED');
  const flows = JSON.parse((await store.getBytes(`${PREFIX}contact-flows.json`)).toString());
  expect(flows.map((f: { Id: string }) => f.Id)).toEqual([...fixture.contactFlows.map((f) => f.Id)].sort());
  expect(JSON.parse(flows[0].Content).Actions.length).toBeGreaterThan(0);
  const profiles = JSON.parse((await store.getBytes(`${PREFIX}routing-profiles.json`)).toString());
  expect(profiles[0].Queues.length).toBe(2); // ListRoutingProfileQueues, 2 pages of 1
  const sec = JSON.parse((await store.getBytes(`${PREFIX}security-profiles.json`)).toString());
  expect(sec.find((s: { SecurityProfileName: string }) => s.SecurityProfileName === 'Admin').Permissions).toHaveLength(4);
  const audioKey = `${PREFIX}prompts/${(fixture.prompts[0] as { PromptId: string }).PromptId}.wav`;
  expect((await store.getBytes(audioKey)).equals(Buffer.from(fixture.promptAudio[(fixture.prompts[0] as { PromptId: string }).PromptId], 'base64'))).toBe(true);
  const index = JSON.parse((await store.getBytes(`${PREFIX}index.json`)).toString());
  expect(index.files).toHaveLength(CONNECT_RESOURCES.length + 2); // one per type + 2 prompt audio files
  for (const f of index.files) expect(sha256Hex(await store.getBytes(PREFIX + f.key))).toBe(f.sha256);
  expect(client.commands.filter((c) => c === 'ListUsersCommand')).toHaveLength(4); // 4 users, page size 1
  expect(result.objects).toBe(CONNECT_RESOURCES.length + 3);
});

test('users are written without any password field', async () => {
  const withPassword = { ...fixture, users: fixture.users.map((u) => ({ ...u, Password: 'hunter2', IdentityInfo: { ...(u.IdentityInfo as object), SecretAnswer: 'x' } })) };
  const { store } = await crawl(new FixtureConnectClient(withPassword));
  const text = (await store.getBytes(`${PREFIX}users.json`)).toString();
  expect(text).not.toMatch(/hunter2|Password|Secret/);
  expect(JSON.parse(text)).toHaveLength(4);
});

test('deterministic: API order and page size do not change a byte', async () => {
  const a = await crawl(new FixtureConnectClient(fixture, { pageSize: 1 }), 'a');
  const b = await crawl(new FixtureConnectClient(fixture, { pageSize: 3, reverse: true }), 'b');
  for (const spec of [...CONNECT_RESOURCES.map((s) => s.type), 'index']) {
    expect((await b.store.getBytes(`${PREFIX}${spec}.json`)).equals(await a.store.getBytes(`${PREFIX}${spec}.json`))).toBe(true);
  }
});

test('throttling is retried with backoff until it succeeds', async () => {
  const sleeps: number[] = [];
  const client = new FixtureConnectClient(fixture, { throttleEvery: 4 });
  const store = new FileStore(join(dir, 't'));
  const r = await exportConnectConfiguration({ client, instanceId: fixture.instanceId, store, prefix: PREFIX, retry: { sleep: async (ms) => { sleeps.push(ms); } } });
  expect(client.throttles).toBeGreaterThan(5);
  expect(r.throttled).toBe(client.throttles);
  expect(sleeps).toHaveLength(client.throttles);
  expect(r.resources.users).toBe(4);
});

test('retries give up after maxAttempts and pass the throttling error on; other errors are not retried', async () => {
  const always = { send: async (): Promise<never> => { throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }); } };
  await expect(sendWithRetry(always, new ListQueuesCommand({ InstanceId: 'x' }), { maxAttempts: 3, sleep: noSleep })).rejects.toThrow('Rate exceeded');
  let calls = 0;
  const notFound = { send: async (): Promise<never> => { calls++; throw Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }); } };
  await expect(sendWithRetry(notFound, {}, { sleep: noSleep })).rejects.toThrow('nope');
  expect(calls).toBe(1);
  expect(isThrottle({ $metadata: { httpStatusCode: 429 } })).toBe(true);
  expect(isThrottle({ name: 'AccessDeniedException' })).toBe(false);
});

test('an unknown instance fails with the API error', async () => {
  const store = new FileStore(join(dir, 'x'));
  await expect(exportConnectConfiguration({ client: new FixtureConnectClient(fixture), instanceId: 'other', store, prefix: PREFIX, retry: { sleep: noSleep } })).rejects.toThrow(/instance other not found/);
});

test('CONNECT_READ_ACTIONS names exactly the operations a crawl sends, one by one, with no wildcard', async () => {
  const client = new FixtureConnectClient(fixture, { pageSize: 1 });
  await crawl(client);
  const sent = [...new Set(client.commands.map((c) => `connect:${c.replace(/Command$/, '')}`))].sort();
  expect(sent).toEqual(CONNECT_READ_ACTIONS);
  for (const a of CONNECT_READ_ACTIONS) expect(a).toMatch(/^connect:(List|Describe|Get)[A-Za-z0-9]+$/);
  // each spec's action string is its SDK command's name (a typo would grant the wrong action)
  for (const spec of CONNECT_RESOURCES) {
    const ops = spec.kind === 'single' ? [spec.describe] : spec.kind === 'list' ? [spec.list] : [spec.list, spec.describe, ...(spec.extras ?? []).map((e) => e.op)];
    for (const o of ops) expect(`${o.action}Command`).toBe(o.command.name);
  }
  expect(new Set(CONNECT_RESOURCE_TYPES.map((t) => t.group)).size).toBeGreaterThan(5);
});

test('Map fan-out (plan, one item per group or shard, finalize) writes the same bytes as the one-shot export', async () => {
  const one = await crawl(new FixtureConnectClient(fixture), 'one');
  const client = new FixtureConnectClient(fixture, { pageSize: 1 });
  const plan = await planConnectExport({ client, instanceId: fixture.instanceId, budgetSeconds: 4, requestsPerSecond: 1 });
  expect(plan.items.some((i) => i.shard.count > 1)).toBe(true); // users (4 + 4 pages) do not fit 4 calls: sharded
  expect(plan.items.flatMap((i) => i.resourceTypes).filter((t, i, a) => a.indexOf(t) === i).sort()).toEqual(CONNECT_RESOURCES.map((s) => s.type).sort());
  const store = new FileStore(join(dir, 'map'));
  for (const item of plan.items) {
    await exportConnectResourceTypes({ client, instanceId: fixture.instanceId, store, prefix: PREFIX, resourceTypes: item.resourceTypes, shard: item.shard, retry: { sleep: noSleep } });
  }
  const fin = await finalizeConnectExport({ instanceId: fixture.instanceId, store, prefix: PREFIX });
  expect(fin.resources).toEqual(one.result.resources);
  for (const t of [...CONNECT_RESOURCES.map((s) => s.type), 'index']) {
    expect((await store.getBytes(`${PREFIX}${t}.json`)).toString()).toBe((await one.store.getBytes(`${PREFIX}${t}.json`)).toString());
  }
});

test('finalize fails, naming the type, when a Map item did not run; an unknown type is refused', async () => {
  const client = new FixtureConnectClient(fixture);
  const store = new FileStore(join(dir, 'gap'));
  const opts = { client, instanceId: fixture.instanceId, store, prefix: PREFIX, retry: { sleep: noSleep } };
  await exportConnectResourceTypes({ ...opts, resourceTypes: ['users'], shard: { index: 0, count: 2 } });
  await expect(finalizeConnectExport({ ...opts, resourceTypes: ['users'] })).rejects.toThrow(/resource type users is incomplete: shards missing \(1 of 2\)/);
  await exportConnectResourceTypes({ ...opts, resourceTypes: ['users'], shard: { index: 1, count: 2 } });
  expect((await finalizeConnectExport({ ...opts, resourceTypes: ['users'] })).resources.users).toBe(4);
  expect(await store.head(connectPartKey(PREFIX, 'users', { index: 1, count: 2 }))).toBeDefined();
  await expect(finalizeConnectExport({ ...opts, resourceTypes: ['queues'] })).rejects.toThrow(/no part for resource type queues/);
  await expect(exportConnectResourceTypes({ ...opts, resourceTypes: ['user'] })).rejects.toThrow(/unknown resource type\(s\) user; known: contact-flows/);
  await expect(exportConnectResourceTypes({ ...opts, resourceTypes: ['users'], shard: { index: 2, count: 2 } })).rejects.toThrow(/0 <= index < count/);
});

test('the synth-time contract (no SDK import) equals what the crawler derives from the SDK commands', () => {
  // lib/aws grants CONNECT_IAM_ACTIONS at synth; the crawler sends CONNECT_READ_ACTIONS (checked above against a real crawl).
  expect(CONNECT_IAM_ACTIONS).toEqual(CONNECT_READ_ACTIONS);
  expect(CONNECT_MAP_ITEMS_AT_ONCE).toBe(CONNECT_MAP_MAX_CONCURRENCY);
  const source = readFileSync(join(__dirname, '..', '..', 'lib', 'runtime', 'exporters', 'connect-contract.ts'), 'utf8');
  expect(source).not.toMatch(/from '@aws-sdk|require\('@aws-sdk/);
});
