/**
 * Format v2 writer and copy against moto_server (Object Lock export bucket, versioned source) and
 * Azurite: odd keys, metadata, write-once blobs, a same-size rewrite within the same second, the
 * never-overwrite copy, manifests last, sharding, and the multipart path for objects over 5 GiB.
 */
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { checkNight, readNight, type IndexEntry } from '../../lib/runtime/format';
import { buildManifest } from '../../lib/runtime/manifest';
import { copyIntoBlob, copySource, syncObjects, MAX_COPY_OBJECT_BYTES } from '../../lib/runtime/sync-objects';
import { fullDataFilters, parseShard, runCopy, shardPrefixes } from '../../lib/runtime/copy';
import { S3Store } from '../../lib/runtime/stores';
import { sha256Hex } from '../../lib/runtime/util';
import { startAzurite, startMoto, type AzuriteService, type MotoService } from '../../scripts/services';
import { awsClients, azureCounterparty, createExportBucket, drillPlan, motoEnv } from '../../scripts/drill/primary';

const ODD_KEYS = ['folder/', 'ünïcødé/録音.wav', 'back\\slash.wav', 'a/../b.wav', 'with space .wav', 'trailing.', `long/${'k'.repeat(1019)}`];
const SOURCE = 'sync-source';
const DATASETS = [{ name: 'recordings', kind: 's3Bucket' }];

let moto: MotoService;
let az: AzuriteService;
let s3: S3Client;
let bucket: string;
const plan = drillPlan();
const lines: string[] = [];

beforeAll(async () => {
  setLogSink({ line: (l) => { lines.push(l); } });
  [moto, az] = await Promise.all([startMoto(), startAzurite()]);
  s3 = awsClients(moto.endpoint, plan.primary.region).s3;
  bucket = (await createExportBucket(s3, plan)).bucket;
  await s3.send(new CreateBucketCommand({ Bucket: SOURCE, CreateBucketConfiguration: { LocationConstraint: plan.primary.region as never } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: SOURCE, VersioningConfiguration: { Status: 'Enabled' } }));
}, 90_000);

afterAll(async () => {
  await Promise.all([moto?.stop(), az?.stop()]);
});

async function put(key: string, body: string | Buffer, meta: Record<string, string> = {}): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: key, Body: body, ContentType: 'audio/wav', Metadata: meta }));
}

async function night(n: string): Promise<Awaited<ReturnType<typeof syncObjects>>> {
  const r = await syncObjects({ s3, sourceBucket: SOURCE, exportBucket: bucket, dataset: 'recordings', night: n, emulatorChecksumHeader: true, runId: 'run-1' });
  await buildManifest({ store: new S3Store(bucket, s3), night: n, datasets: DATASETS, createdAt: new Date(`${n}T03:00:00Z`) });
  return r;
}

async function view(store: S3Store | Awaited<ReturnType<typeof azureCounterparty>>['store'], n: string): Promise<Map<string, { entry: IndexEntry; body: string }>> {
  const out = new Map<string, { entry: IndexEntry; body: string }>();
  for await (const e of (await readNight(store, n)).entries('recordings')) out.set(e.key, { entry: e, body: (await store.getBytes(e.blob)).toString() });
  return out;
}

test('every key passes unchanged, metadata is kept, rewrites and deletes leave the older night intact, and the copy never overwrites', async () => {
  for (const [i, k] of ODD_KEYS.entries()) await put(k, `odd-${i}`, { agent: `a${i}` });
  await put('r/1.wav', 'recording one', { agent: 'x' });
  await put('r/2.wav', 'recording two');
  await put('r/dup.wav', 'recording two'); // same content: one blob
  const one = await night('2026-11-01');
  expect(one).toMatchObject({ examined: ODD_KEYS.length + 3, added: ODD_KEYS.length + 3, copied: ODD_KEYS.length + 2, checkpoint: true });
  // night 2: same size, same second, new content; one deleted; nothing else re-read
  await put('r/1.wav', 'RECORDING ONE', { agent: 'y' });
  await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'r/2.wav', Body: 'recording two' })).then(() => undefined);
  const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'r/dup.wav' }));
  const two = await night('2026-11-02');
  expect(two).toMatchObject({ changed: 1, removed: 1, copied: 1, checkpoint: false });
  expect(two.hashed).toBeLessThanOrEqual(2); // r/1.wav, and r/2.wav only if its ETag changed

  const src = new S3Store(bucket, s3);
  const v1 = await view(src, '2026-11-01');
  expect([...v1.keys()].sort()).toEqual([...ODD_KEYS, 'r/1.wav', 'r/2.wav', 'r/dup.wav'].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  expect(v1.get('r/1.wav')).toMatchObject({ body: 'recording one', entry: { contentType: 'audio/wav', metadata: { agent: 'x' } } });
  expect(v1.get('back\\slash.wav')!.entry.version).toEqual(expect.any(String));
  const v2 = await view(src, '2026-11-02');
  expect(v2.get('r/1.wav')).toMatchObject({ body: 'RECORDING ONE', entry: { metadata: { agent: 'y' } } });
  expect(v2.has('r/dup.wav')).toBe(false);
  // the blob keeps the source's Content-Type and metadata (MetadataDirective COPY)
  expect((await src.head(v2.get('r/1.wav')!.entry.blob))!.metadata).toEqual({ agent: 'y' });

  // copy to Azurite: night 1 full, night 2 incremental (only its files and new blob), manifests last
  const cp = await azureCounterparty(az, 'v2copy');
  const copy = (extra: Partial<Parameters<typeof runCopy>[0]> = {}): ReturnType<typeof runCopy> => runCopy({
    source: { bucket, region: plan.primary.region, endpoint: moto.endpoint },
    destination: { account: az.account, container: 'v2copy', sasUrl: cp.sasUrl },
    auth: 'env', env: { ...process.env, ...motoEnv(moto.endpoint, plan.primary.region) }, ...extra,
  });
  const first = await copy();
  expect(first).toMatchObject({ result: 'success' });
  expect(JSON.parse(first.logLine)).toMatchObject({ mode: 'full' });
  expect((await checkNight(cp.store, '2026-11-02', { scrubCycleNights: 1 })).bad).toEqual([]);
  expect(await view(cp.store, '2026-11-01')).toEqual(v1);
  expect(await view(cp.store, '2026-11-02')).toEqual(v2);

  // a destination blob that differs is never overwritten by the copy (the verifier finds it)
  const blob = v2.get('r/1.wav')!.entry.blob;
  await cp.store.put(blob, 'tampered');
  await put('r/3.wav', 'recording three');
  await night('2026-11-03');
  // night 3's manifest reaches the destination before its data (an interrupted or foreign copy): the next copy still brings the data
  await cp.store.put(naming.manifestKey('2026-11-03'), await src.getBytes(naming.manifestKey('2026-11-03')));
  const third = await copy();
  expect(third).toMatchObject({ result: 'success' });
  expect(JSON.parse(third.logLine)).toMatchObject({ mode: 'incremental', nights: ['2026-11-03'] });
  expect((await checkNight(cp.store, '2026-11-03', { scrubCycleNights: 30 })).bad).toEqual([]);
  expect((await cp.store.getBytes(blob)).toString()).toBe('tampered');
  expect(await copy({ mode: 'full' })).toMatchObject({ result: 'success' }); // lists both sides: still never replaces
  expect((await cp.store.getBytes(blob)).toString()).toBe('tampered');
  expect((await checkNight(cp.store, '2026-11-02', { scrubCycleNights: 1 })).bad).toEqual([{ key: blob, problem: 'size: manifest says 13 bytes, found 8' }]);
}, 120_000);

test('a data phase that fails copies no manifest (rclone is not run for them)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-fake-rclone-'));
  const fake = join(dir, 'rclone');
  writeFileSync(fake, `#!/bin/sh\necho "$*" >> "${dir}/calls"\necho '{"level":"error","msg":"boom","stats":{"bytes":0,"transfers":0,"checks":0,"errors":1}}'\nexit 1\n`);
  chmodSync(fake, 0o755);
  const cp = await azureCounterparty(az, 'v2fail');
  const r = await runCopy({
    source: { bucket, region: plan.primary.region, endpoint: moto.endpoint },
    destination: { account: az.account, container: 'v2fail', sasUrl: cp.sasUrl },
    auth: 'env', env: { ...process.env, ...motoEnv(moto.endpoint, plan.primary.region) }, rclone: fake,
  });
  expect(r).toMatchObject({ result: 'failure', error: 'boom' });
  const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatch(/--ignore-existing .*--filter-from/);
  rmSync(dir, { recursive: true, force: true });
});

test('sharding: the shards split the 256 blob prefixes exactly; shard 0 carries the night files; never a manifest in the data phase', () => {
  const n = 7;
  const all = Array.from({ length: n }, (_, i) => shardPrefixes({ index: i, count: n })).flat().sort();
  expect(all).toEqual(shardPrefixes(undefined));
  expect(fullDataFilters({ index: 0, count: n })).toEqual(expect.arrayContaining(['- nights/*/manifest.json', '+ nights/**', '- **']));
  expect(fullDataFilters({ index: 1, count: n })).not.toContain('+ nights/**');
  expect(fullDataFilters(undefined)[0]).toBe('- nights/*/manifest.json');
  expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
  expect(() => parseShard('8/8')).toThrow(/CP_SHARD must be i\/n/);
});

test('objects over 5 GiB are copied with multipart UploadPartCopy, pinned to the version and ETag, metadata carried', async () => {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const fake = { send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
    sent.push({ name: cmd.constructor.name, input: cmd.input });
    if (cmd.constructor.name === 'CreateMultipartUploadCommand') return { UploadId: 'u1' };
    if (cmd.constructor.name === 'UploadPartCopyCommand') return { CopyPartResult: { ETag: `"p${cmd.input.PartNumber}"` } };
    return {};
  } } as unknown as S3Client;
  const size = MAX_COPY_OBJECT_BYTES + 1;
  const sha = sha256Hex('big');
  await copyIntoBlob({ s3: fake, sourceBucket: 'src', key: 'big dir/ü.wav', versionId: 'v9', etag: '"e"', size, exportBucket: 'exp', blob: naming.blobKey(sha), contentType: 'audio/wav', metadata: { agent: 'a' } });
  expect(sent.map((s) => s.name)).toEqual(['CreateMultipartUploadCommand', ...Array(11).fill('UploadPartCopyCommand'), 'CompleteMultipartUploadCommand']);
  expect(sent[0].input).toMatchObject({ Key: naming.blobKey(sha), ContentType: 'audio/wav', Metadata: { agent: 'a' } });
  const parts = sent.filter((s) => s.name === 'UploadPartCopyCommand');
  expect(parts[0].input).toMatchObject({ CopySource: 'src/big%20dir/%C3%BC.wav?versionId=v9', CopySourceIfMatch: '"e"', CopySourceRange: 'bytes=0-536870911' });
  expect(parts[10].input.CopySourceRange).toBe(`bytes=${10 * 512 * 1024 ** 2}-${size - 1}`);
  // a small object is one CopyObject
  sent.length = 0;
  await copyIntoBlob({ s3: fake, sourceBucket: 'src', key: 'a', versionId: null, etag: '"e"', size: 10, exportBucket: 'exp', blob: naming.blobKey(sha), contentType: null, metadata: {} });
  expect(sent.map((s) => s.name)).toEqual(['CopyObjectCommand']);
  expect(sent[0].input).toMatchObject({ MetadataDirective: 'COPY', CopySource: 'src/a' });
});

test('copySource keeps every key: segments URL-encoded, slashes kept', () => {
  expect(copySource('b', 'folder/')).toBe('b/folder/');
  expect(copySource('b', 'a/../b c\\d.wav')).toBe('b/a/../b%20c%5Cd.wav');
});
