import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportConnectConfiguration, isThrottle, sendWithRetry, CONNECT_RESOURCES } from '../../lib/runtime/exporters/connect';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { FileStore } from '../../lib/runtime/stores/file';
import { sha256Hex } from '../../lib/runtime/util';
import { ListQueuesCommand } from '@aws-sdk/client-connect';

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
  });
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
  expect(index.files).toHaveLength(13);
  for (const f of index.files) expect(sha256Hex(await store.getBytes(PREFIX + f.key))).toBe(f.sha256);
  expect(client.commands.filter((c) => c === 'ListUsersCommand')).toHaveLength(4); // 4 users, page size 1
  expect(result.objects).toBe(14);
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
  for (const spec of [...CONNECT_RESOURCES.map((s) => s.type), 'index', 'user-hierarchy-structure']) {
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
