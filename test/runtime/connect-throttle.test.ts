/**
 * The Connect crawl at scale against Connect's default limits: 2,000 users and 200 phone numbers,
 * served through the REAL `ConnectClient` (SDK adaptive retry mode, real serialisation) by an HTTP
 * handler that throttles like Connect (a token bucket per API: 2 requests per second, burst 5,
 * HTTP 429 ThrottlingException). Time is virtual (jest's fake clock drives Date and setTimeout,
 * which both the SDK's adaptive rate limiter and the fake read): the elapsed time of each Map item
 * is computed, not slept. Rate and burst are from
 * https://docs.aws.amazon.com/connect/latest/APIReference/best-practices-connect-apis.html
 * (docs/connect.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ConnectClient } from '@aws-sdk/client-connect';
import { exportConnectResourceTypes, finalizeConnectExport, planConnectExport, type ConnectLike } from '../../lib/runtime/exporters/connect';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import type { ObjectStore } from '../../lib/runtime/stores/types';

const LAMBDA_LIMIT_SECONDS = 900;
const base = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;
const PREFIX = 'nights/2026-11-01/connect/';

/** The base fixture plus 2,000 users and 200 phone numbers (generated, not committed). */
function bigFixture(): ConnectFixture {
  const arn = `arn:aws:connect:eu-central-1:111122223333:instance/${base.instanceId}`;
  const id = (n: number): string => `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const users = Array.from({ length: 2000 }, (_, i) => ({
    ...base.users[0], Id: id(i), Arn: `${arn}/agent/${id(i)}`, Username: `agent${i}`,
    IdentityInfo: { FirstName: `Agent${i}`, LastName: 'Example', Email: `agent${i}@acme.example` },
  }));
  const phoneNumbers = Array.from({ length: 200 }, (_, i) => ({
    ...base.phoneNumbers![0], PhoneNumberId: id(100000 + i), PhoneNumberArn: `arn:aws:connect:eu-central-1:111122223333:phone-number/${id(100000 + i)}`,
    PhoneNumber: `+4930555${String(i).padStart(4, '0')}`,
  }));
  return { ...base, users, phoneNumbers };
}

/** An in-memory store: no real I/O, so nothing but the fake clock's timers moves time. */
class MemoryStore implements ObjectStore {
  readonly url = 'memory://';
  readonly objects = new Map<string, Buffer>();
  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    for (const key of [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()) yield { key, size: this.objects.get(key)!.length };
  }
  async head(key: string): Promise<{ size: number; metadata: Record<string, string> } | undefined> {
    const b = this.objects.get(key);
    return b && { size: b.length, metadata: {} };
  }
  async get(key: string): Promise<Readable> { return Readable.from([await this.getBytes(key)]); }
  async getBytes(key: string): Promise<Buffer> {
    const b = this.objects.get(key);
    if (!b) throw new Error(`not found: ${key}`);
    return b;
  }
  async put(key: string, body: Buffer | string): Promise<void> { this.objects.set(key, Buffer.from(body as Buffer)); }
  locationOf(key: string): string { return `memory://${key}`; }
}

/** GetPromptFile's URL (a data: URL from the fixture), decoded without I/O. */
const download = async (url: string): Promise<Buffer> => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');

/** Connect's throttling: one token bucket per API (operation), refilled at `rate`/s up to `burst`, clock = Date.now(). */
class ThrottlingConnectHttp {
  readonly buckets = new Map<string, { tokens: number; at: number }>();
  calls = 0;
  throttled = 0;
  constructor(private readonly backend: FixtureConnectClient, private readonly rate = 2, private readonly burst = 5) {}

  private take(api: string): boolean {
    const now = Date.now() / 1000;
    const b = this.buckets.get(api) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.rate);
    b.at = now;
    this.buckets.set(api, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  async handle(request: { headers: Record<string, string> }): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }> {
    this.calls++;
    const op = request.headers['x-fake-op'];
    const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): { response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } } => ({
      response: { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body, epochSeconds)) },
    });
    if (!this.take(op)) {
      this.throttled++;
      return json(429, { message: 'Rate exceeded' }, { 'x-amzn-errortype': 'ThrottlingException' });
    }
    try {
      const input = JSON.parse(request.headers['x-fake-input']) as Record<string, unknown>;
      return json(200, await this.backend.send({ constructor: { name: op }, input }));
    } catch (err) {
      const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
      return json(e.$metadata?.httpStatusCode ?? 500, { message: e.message }, { 'x-amzn-errortype': e.name });
    }
  }
}

/** REST-JSON sends timestamps as epoch seconds. */
function epochSeconds(key: string, value: unknown): unknown {
  return /Time$/.test(key) && typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? Date.parse(value) / 1000 : value;
}

/** The production client settings (retryMode 'adaptive'), with the fake as its HTTP handler. */
function sdkClient(http: ThrottlingConnectHttp): ConnectLike {
  const client = new ConnectClient({
    region: 'eu-central-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    retryMode: 'adaptive', maxAttempts: 10, requestHandler: http as never,
  });
  // tell the fake which operation and input this request is (it serves the fixture, not REST paths)
  client.middlewareStack.add((next, context) => async (args) => {
    const req = (args as { request: { headers: Record<string, string> } }).request;
    req.headers['x-fake-op'] = `${(context as { commandName: string }).commandName}`;
    req.headers['x-fake-input'] = JSON.stringify(args.input);
    return next(args);
  }, { step: 'build', name: 'fakeOperationHeaders' });
  return client;
}

/** Runs `work` on the virtual clock; returns its result and the virtual seconds it took. */
async function onVirtualClock<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = Date.now();
  let end: number | undefined;
  let failure: unknown;
  let value: T | undefined;
  void work().then((v) => { value = v; }, (e) => { failure = e; }).finally(() => { end = Date.now(); });
  while (end === undefined) await jest.advanceTimersToNextTimerAsync();
  if (failure) throw failure;
  return { value: value as T, seconds: (end - start) / 1000 };
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'], now: new Date('2026-11-01T02:00:00Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

test('2,000 users and 200 phone numbers at 2 req/s (burst 5) per API: every Map item finishes within 900 s', async () => {
  const fixture = bigFixture();
  const http = new ThrottlingConnectHttp(new FixtureConnectClient(fixture, { pageSize: 100 }));
  const store = new MemoryStore();
  const plan = await onVirtualClock(() => planConnectExport({ client: sdkClient(http), instanceId: fixture.instanceId }));
  expect(plan.value.items.filter((i) => i.resourceTypes.includes('users')).length).toBeGreaterThan(1); // users are sharded

  const items: { types: string; shard: string; seconds: number; estimated: number }[] = [];
  for (const item of plan.value.items) { // the Map runs one item at a time (CONNECT_MAP_MAX_CONCURRENCY)
    const r = await onVirtualClock(() => exportConnectResourceTypes({ client: sdkClient(http), instanceId: fixture.instanceId, store, prefix: PREFIX, download, resourceTypes: item.resourceTypes, shard: item.shard }));
    items.push({ types: item.resourceTypes.join(','), shard: `${item.shard.index}/${item.shard.count}`, seconds: r.seconds, estimated: item.estimatedSeconds });
  }
  const fin = await finalizeConnectExport({ instanceId: fixture.instanceId, store, prefix: PREFIX });
  expect(fin.resources.users).toBe(2000);
  expect(fin.resources['phone-numbers']).toBe(200);
  const index = JSON.parse((await store.getBytes(`${PREFIX}index.json`)).toString());
  expect(index.resources.users).toBe(2000);

  expect(http.throttled).toBeGreaterThan(0); // the limit was really hit: the adaptive mode had something to do
  process.stdout.write(`connect-throttle: plan ${plan.seconds.toFixed(0)} s; items ${JSON.stringify(items)}; ${http.calls} requests, ${http.throttled} throttled\n`);
  const slowest = Math.max(...items.map((i) => i.seconds));
  const usersItems = items.filter((i) => i.types === 'users');
  // at 2 req/s a 1,000-user shard cannot take less than ~500 s: the clock really measured the limit
  for (const u of usersItems) expect(u.seconds).toBeGreaterThan((2000 / usersItems.length) / 2 - 5);
  expect(slowest).toBeLessThan(LAMBDA_LIMIT_SECONDS);
});

test('without the fan-out, the 2,000 users alone would not fit one 900 s Lambda', async () => {
  const fixture = bigFixture();
  const http = new ThrottlingConnectHttp(new FixtureConnectClient(fixture, { pageSize: 100 }));
  const store = new MemoryStore();
  const r = await onVirtualClock(() => exportConnectResourceTypes({ client: sdkClient(http), instanceId: fixture.instanceId, store, prefix: PREFIX, resourceTypes: ['users'] }));
  expect(r.value.resources.users).toBe(2000);
  expect(r.seconds).toBeGreaterThan(LAMBDA_LIMIT_SECONDS);
});
