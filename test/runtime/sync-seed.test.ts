/**
 * sync-objects with the initial seed (moto_server): an object whose seed copy (`copies/<dataset>/<key>` in
 * the seed bucket, as S3 Batch Operations' Copy with ChecksumAlgorithm SHA256 leaves it) is a copy of this
 * version is not read through the task: the copy's S3-computed SHA-256 names the blob and the copy is the
 * server-side copy source. Stale, unchecksummed, resized or differently labelled seed copies are not used.
 */
import {
  CopyObjectCommand, CreateBucketCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand,
  type HeadObjectCommandOutput, type S3Client,
} from '@aws-sdk/client-s3';
import { seedCopiesPrefix } from '../../lib/aws/initial-seed';
import { checkNight, readNight, type IndexEntry } from '../../lib/runtime/format';
import { runCommand } from '../../lib/runtime/jobs';
import { setLogSink } from '../../lib/runtime/log';
import { buildManifest } from '../../lib/runtime/manifest';
import { S3Store } from '../../lib/runtime/stores';
import {
  copySource, seedCopyKey, seedMismatch, syncObjects, SEED_SOURCE_ETAG_METADATA, SEED_SOURCE_VERSION_METADATA, type SourceVersion,
} from '../../lib/runtime/sync-objects';
import { startMoto, type MotoService } from '../../scripts/services';
import { awsClients, createExportBucket, drillPlan, motoEnv } from '../../scripts/drill/primary';

const SOURCE = 'seed-source';
const SEED = 'seed-bucket';
const DATASET = 'recordings';
const NIGHT = '2026-11-10';
const plan = drillPlan();

interface Sent { readonly command: string; readonly input: Record<string, unknown> }

/** A client that records every command it sends (name and input), so a test can show what was never asked. */
function recordingClient(endpoint: string, sent: Sent[]): S3Client {
  const s3 = awsClients(endpoint, plan.primary.region).s3;
  s3.middlewareStack.add((next, context) => async (args) => {
    sent.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
    return next(args);
  }, { step: 'initialize', name: 'recordSent' });
  return s3;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let moto: MotoService;
let s3: S3Client;
const sourceSent: Sent[] = [];
const exportSent: Sent[] = [];
let result: Awaited<ReturnType<typeof syncObjects>>;
let exportBucket: string;
const current = new Map<string, string>(); // key -> the source's bytes at night time
const lines: string[] = [];

async function putSource(key: string, body: string, agent: string): Promise<string> {
  current.set(key, body);
  const r = await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: key, Body: body, ContentType: 'audio/wav', Metadata: { agent } }));
  return r.ETag!;
}

/** What S3 Batch Operations' S3PutObjectCopy does: CopyObject into copies/<dataset>/<key> with MetadataDirective COPY and an S3-computed SHA-256. */
async function batchCopy(key: string, extra: Record<string, string> = {}): Promise<void> {
  const replace = Object.keys(extra).length > 0;
  const head = replace ? await s3.send(new HeadObjectCommand({ Bucket: SOURCE, Key: key })) : undefined;
  await s3.send(new CopyObjectCommand({
    Bucket: SEED, Key: seedCopyKey(DATASET, key), CopySource: copySource(SOURCE, key), ChecksumAlgorithm: 'SHA256',
    ...(replace ? { MetadataDirective: 'REPLACE', ContentType: head!.ContentType, Metadata: { ...head!.Metadata, ...extra } } : { MetadataDirective: 'COPY' }),
  }));
}

const SEEDED = ['r/seeded.wav', 'ünïcødé/録音 1.wav', 'a/../b.wav', 'r/recorded-etag.wav'];

beforeAll(async () => {
  setLogSink({ line: (l) => { lines.push(l); } });
  moto = await startMoto();
  s3 = awsClients(moto.endpoint, plan.primary.region).s3;
  exportBucket = (await createExportBucket(s3, plan)).bucket;
  for (const b of [SOURCE, SEED]) {
    await s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: plan.primary.region as never } }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  }
  const etags: Record<string, string> = {};
  for (const [i, k] of SEEDED.entries()) etags[k] = await putSource(k, `seeded bytes ${i}`, `a${i}`);
  for (const k of ['r/stale.wav', 'r/no-checksum.wav', 'r/wrong-etag.wav', 'r/wrong-version.wav', 'r/size.wav', 'r/other-meta.wav', 'r/unseeded.wav']) {
    await putSource(k, `old ${k}`, 'x');
  }
  await sleep(1100); // HTTP dates have whole seconds: the seed copies are strictly newer than the sources
  for (const k of ['r/seeded.wav', 'ünïcødé/録音 1.wav', 'a/../b.wav', 'r/stale.wav']) await batchCopy(k);
  await batchCopy('r/recorded-etag.wav', { [SEED_SOURCE_ETAG_METADATA]: etags['r/recorded-etag.wav'] });
  await batchCopy('r/wrong-etag.wav', { [SEED_SOURCE_ETAG_METADATA]: '"0123456789abcdef0123456789abcdef"' });
  await batchCopy('r/wrong-version.wav', { [SEED_SOURCE_VERSION_METADATA]: 'not-this-version' });
  await batchCopy('r/other-meta.wav', { agent: 'someone else' });
  // same size, other bytes, no SHA-256 (the SDK's default CRC only): must not name the blob
  await s3.send(new PutObjectCommand({ Bucket: SEED, Key: seedCopyKey(DATASET, 'r/no-checksum.wav'), Body: 'OLD r/no-checksum.wav', ContentType: 'audio/wav', Metadata: { agent: 'x' } }));
  await s3.send(new PutObjectCommand({ Bucket: SEED, Key: seedCopyKey(DATASET, 'r/size.wav'), Body: 'old r/size.wav plus', ChecksumAlgorithm: 'SHA256', ContentType: 'audio/wav', Metadata: { agent: 'x' } }));
  await sleep(1100);
  await putSource('r/stale.wav', 'NEW r/stale.wav', 'x'); // rewritten after seeding, same size
  result = await syncObjects({
    s3: recordingClient(moto.endpoint, exportSent), sourceS3: recordingClient(moto.endpoint, sourceSent), sourceBucket: SOURCE,
    exportBucket, dataset: DATASET, night: NIGHT, emulatorChecksumHeader: true, runId: 'run-1', seedBucket: SEED,
  });
  await buildManifest({ store: new S3Store(exportBucket, s3), night: NIGHT, datasets: [{ name: DATASET, kind: 's3Bucket' }], createdAt: new Date(`${NIGHT}T03:00:00Z`) });
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

test('seeded objects are never read from the source; the rest are, each for its own reason', () => {
  expect(result).toMatchObject({ examined: current.size, added: current.size, seeded: SEEDED.length, hashed: current.size - SEEDED.length });
  expect(result.seedUnused).toEqual({ notNewer: 1, noFullObjectSha256: 1, sourceEtag: 1, sourceVersion: 1, size: 1, metadata: 1, missing: 1 });
  const read = sourceSent.filter((s) => s.command === 'GetObjectCommand').map((s) => s.input.Key).sort();
  expect(read).toEqual([...current.keys()].filter((k) => !SEEDED.includes(k)).sort());
  expect(sourceSent.filter((s) => SEEDED.includes(String(s.input.Key))).map((s) => s.command)).toEqual(SEEDED.map(() => 'HeadObjectCommand'));
});

test('a seeded object is copied server-side from its seed copy, pinned to the copy ETag; the others from the source', () => {
  const copies = exportSent.filter((s) => s.command === 'CopyObjectCommand');
  expect(copies).toHaveLength(current.size);
  for (const k of current.keys()) {
    const from = copies.filter((c) => String(c.input.CopySource) === copySource(SEED, seedCopyKey(DATASET, k)));
    expect([k, from.length]).toEqual([k, SEEDED.includes(k) ? 1 : 0]);
    if (from.length) expect(from[0].input.CopySourceIfMatch).toEqual(expect.stringMatching(/^".+"$/));
  }
});

test('the night verifies and holds the source bytes, Content-Type and metadata of every key (the stale copy is not used)', async () => {
  const store = new S3Store(exportBucket, s3);
  expect((await checkNight(store, NIGHT, { scrubCycleNights: 1 })).bad).toEqual([]);
  const got = new Map<string, { entry: IndexEntry; body: string }>();
  for await (const e of (await readNight(store, NIGHT)).entries(DATASET)) got.set(e.key, { entry: e, body: (await store.getBytes(e.blob)).toString() });
  expect(new Map([...got].map(([k, v]) => [k, v.body]))).toEqual(current);
  expect(got.get('r/stale.wav')!.body).toBe('NEW r/stale.wav');
  expect(got.get('r/no-checksum.wav')!.body).toBe('old r/no-checksum.wav');
  expect(got.get('r/seeded.wav')!.entry).toMatchObject({ contentType: 'audio/wav', metadata: { agent: 'a0' }, version: expect.any(String) });
  expect(got.get('r/recorded-etag.wav')!.entry.metadata).toEqual({ agent: 'a3' });
  expect((await store.head(got.get('r/seeded.wav')!.entry.blob))!.metadata).toEqual({ agent: 'a0' }); // carried from the seed copy
});

test('the runtime names seed copies where the InitialSeed construct puts them', () => {
  expect(seedCopyKey('recordings', 'a/ü b.wav')).toBe(`${seedCopiesPrefix('recordings')}a/ü b.wav`);
});

test('the jobs CLI passes CP_SEED_BUCKET to sync-objects and reports seeded objects on its result line', async () => {
  const bucket = 'seed-source-cli';
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: plan.primary.region as never } }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'calls/1.wav', Body: 'call one', ContentType: 'audio/wav' }));
  await sleep(1100);
  await s3.send(new CopyObjectCommand({ Bucket: SEED, Key: seedCopyKey('calls', 'calls/1.wav'), CopySource: copySource(bucket, 'calls/1.wav'), ChecksumAlgorithm: 'SHA256', MetadataDirective: 'COPY' }));
  const env = {
    ...motoEnv(moto.endpoint, plan.primary.region), CP_DATASET: 'calls', CP_NIGHT: NIGHT, CP_SOURCE_BUCKET: bucket, CP_SOURCE_PREFIX: 'calls/',
    CP_EXPORT_BUCKET: exportBucket, CP_SEED_BUCKET: SEED,
  };
  lines.length = 0;
  Object.assign(process.env, motoEnv(moto.endpoint, plan.primary.region)); // the SDK's credential chain reads process.env
  expect(await runCommand('sync-objects', env)).toBe(0);
  const sync = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'counterparty.sync');
  expect(sync).toEqual([expect.objectContaining({ result: 'success', dataset: 'calls', seeded: 1, hashed: 0, seedUnused: {} })]);
}, 60_000);

describe('seedMismatch', () => {
  const sha = Buffer.alloc(32, 7).toString('base64');
  const t = new Date('2026-11-01T10:00:00Z');
  const source: SourceVersion = { size: 5, modified: t, etag: '"e1"', version: 'v1', contentType: 'audio/wav', metadata: { agent: 'a' } };
  const head = (over: Partial<HeadObjectCommandOutput> = {}): HeadObjectCommandOutput => ({
    $metadata: {}, ChecksumSHA256: sha, ChecksumType: 'FULL_OBJECT', ContentLength: 5, LastModified: new Date(t.getTime() + 1000), ContentType: 'audio/wav', Metadata: { agent: 'a' }, ...over,
  });

  test('a matching copy is used', () => {
    expect(seedMismatch(head(), source)).toBeUndefined();
    expect(seedMismatch(head({ Metadata: { agent: 'a', [SEED_SOURCE_ETAG_METADATA]: 'e1', [SEED_SOURCE_VERSION_METADATA]: 'v1' } }), source)).toBeUndefined();
  });

  test('no full-object SHA-256, another size, not strictly newer (same second), another ETag, version or metadata: not used', () => {
    expect(seedMismatch(head({ ChecksumSHA256: undefined }), source)).toBe('noFullObjectSha256');
    expect(seedMismatch(head({ ChecksumType: 'COMPOSITE', ChecksumSHA256: `${sha}-3` }), source)).toBe('noFullObjectSha256');
    expect(seedMismatch(head({ ContentLength: 6 }), source)).toBe('size');
    expect(seedMismatch(head({ LastModified: t }), source)).toBe('notNewer');
    expect(seedMismatch(head({ LastModified: new Date(t.getTime() - 1000) }), source)).toBe('notNewer');
    expect(seedMismatch(head(), { ...source, modified: undefined })).toBe('notNewer');
    expect(seedMismatch(head({ Metadata: { agent: 'a', [SEED_SOURCE_ETAG_METADATA]: '"e2"' } }), source)).toBe('sourceEtag');
    expect(seedMismatch(head({ Metadata: { agent: 'a', [SEED_SOURCE_VERSION_METADATA]: 'v0' } }), source)).toBe('sourceVersion');
    expect(seedMismatch(head({ Metadata: { agent: 'b' } }), source)).toBe('metadata');
    expect(seedMismatch(head({ ContentType: 'binary/octet-stream' }), source)).toBe('metadata');
  });
});
