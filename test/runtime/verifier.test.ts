import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildManifest } from '../../lib/runtime/manifest';
import { setLogSink } from '../../lib/runtime/log';
import { FileStore } from '../../lib/runtime/stores/file';
import { verifyNight } from '../../lib/runtime/verifier';
import { latestVerifiedNight, readRecord, resolveNight } from '../../lib/runtime/records';
import { RuntimeError } from '../../lib/runtime/errors';

const DS = [{ name: 'recordings', kind: 's3Bucket' }, { name: 'crm', kind: 'postgres' }];
let dir: string;
let store: FileStore;
let lines: string[];

beforeEach(async () => {
  lines = [];
  setLogSink({ line: (l) => { lines.push(l); } });
  dir = mkdtempSync(join(tmpdir(), 'cp-verify-'));
  store = new FileStore(join(dir, 'copy'));
  await store.put('objects/recordings/a.wav', Buffer.alloc(50_000, 7));
  await store.put('objects/recordings/b.wav', 'bbb');
  await store.put('nights/2026-11-01/crm/dump.pgdump', 'dump-1');
  await buildManifest({ store, night: '2026-11-01', datasets: DS });
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-2');
  await buildManifest({ store, night: '2026-11-02', datasets: DS });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a good night verifies, writes its record and ONE success line', async () => {
  const r = await verifyNight({ store, night: '2026-11-01' });
  expect(r).toMatchObject({ result: 'success', night: '2026-11-01', objects: 3, bytes: 50_009, bad: [], chain: { status: 'first' } });
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toMatchObject({ event: 'counterparty.verify', result: 'success', night: '2026-11-01', objects: 3, bytes: 50_009, bad: [] });
  expect(await readRecord(store, '2026-11-01')).toMatchObject({ result: 'success', manifestSha256: r.manifestSha256 });
  const second = await verifyNight({ store, night: 'latest' });
  expect(second).toMatchObject({ night: '2026-11-02', result: 'success', chain: { status: 'ok', linkedTo: '2026-11-01' } });
  expect((await latestVerifiedNight(store))?.night).toBe('2026-11-02');
});

test('corrupted and missing objects are each named; the record says failure', async () => {
  await store.put('objects/recordings/a.wav', Buffer.alloc(50_000, 8));
  rmSync(join(dir, 'copy', 'objects/recordings/b.wav'));
  await store.put('nights/2026-11-02/crm/dump.pgdump', 'dump-2-longer');
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
  expect(r.bad.map((b) => [b.key, b.problem.split(':')[0]])).toEqual([
    ['nights/2026-11-02/crm/dump.pgdump', 'size'],
    ['objects/recordings/a.wav', 'sha256'],
    ['objects/recordings/b.wav', 'missing'],
  ]);
  expect(JSON.parse(lines[0]).bad).toHaveLength(3);
  expect((await readRecord(store, '2026-11-02'))?.result).toBe('failure');
  expect(await latestVerifiedNight(store)).toBeUndefined();
});

test('the chain: an edited earlier manifest breaks it', async () => {
  const key = 'nights/2026-11-01/manifest.json';
  await store.put(key, (await store.getBytes(key)).toString().replace('"system": null', '"system": "edited"'));
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
  expect(r.chain.status).toBe('broken');
  expect(r.bad).toEqual([expect.objectContaining({ key, problem: expect.stringMatching(/^chain: previous manifest changed/) })]);
});

test('the chain: a removed earlier manifest breaks it', async () => {
  rmSync(join(dir, 'copy', 'nights/2026-11-01/manifest.json'));
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.bad).toEqual([expect.objectContaining({ key: 'nights/2026-11-01/manifest.json', problem: expect.stringMatching(/^chain: previous manifest missing/) })]);
});

test('the chain: a manifest changed after it was verified no longer counts, and breaks the next night', async () => {
  await verifyNight({ store, night: '2026-11-01' });
  const key = 'nights/2026-11-01/manifest.json';
  const original = await store.getBytes(key);
  await store.put(key, original.toString().replace('"system": null', '"system": "x"'));
  expect(await latestVerifiedNight(store)).toBeUndefined();
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
});

test('a corrupt manifest is a failure naming the manifest, not a crash', async () => {
  await store.put('nights/2026-11-02/manifest.json', '{"formatVersion": 1, "night": ');
  const r = await verifyNight({ store, night: '2026-11-02' });
  expect(r.result).toBe('failure');
  expect(r.bad).toEqual([{ key: 'nights/2026-11-02/manifest.json', problem: expect.stringContaining('corrupt manifest') }]);
});

test('records can go to a separate store (CP_RECORDS_STORE)', async () => {
  const records = new FileStore(join(dir, 'records'));
  await verifyNight({ store, recordsStore: records, night: '2026-11-02' });
  expect(await readRecord(records, '2026-11-02')).toMatchObject({ result: 'success' });
  expect(await readRecord(store, '2026-11-02')).toBeUndefined();
});

test('night selectors: unknown nights and bad text are one-line errors', async () => {
  await expect(resolveNight(store, '2026-10-31')).rejects.toBeInstanceOf(RuntimeError);
  await expect(resolveNight(store, '2026-10-31')).rejects.toThrow(/unknown night 2026-10-31.*2026-11-01, 2026-11-02/);
  await expect(resolveNight(store, 'yesterday')).rejects.toThrow(/not a night/);
  await expect(resolveNight(store, 'latest-verified')).rejects.toThrow(/no verified night/);
  expect(await resolveNight(store, 'latest')).toBe('2026-11-02');
});
