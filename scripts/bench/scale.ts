/**
 * `npm run bench -- --only scale` (or `npx ts-node scripts/bench/scale.ts`): format v2 at estate
 * scale. A generated store serves listings and small deterministic contents for N objects (no N files
 * on disk); night 1 (seed), then night 2 changing the same 10,000 objects at every size. Per night:
 * index build (the streaming list-vs-index merge, hashing and "copying" new content, the index
 * files, the manifest), copy planning (what an incremental copy would move) and verify (the night's
 * files and new blobs hashed; the scrub share is reported on its own), each with wall, CPU and peak
 * RSS, in a fresh process per (size, night). Also: sync-objects on moto_server, and the verifier's
 * hashing vs `sha256sum` (median of 5 runs on 1 GiB).
 *
 * Env: BENCH_SCALE_SIZES (default 1000000,10000000), BENCH_SCALE_CHANGED (10000),
 * BENCH_SCALE_MOTO (10000; 0 skips), BENCH_HASH_MIB (1024), BENCH_HASH_RUNS (5), BENCH_SCRUB_CYCLE (30).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { naming } from '../../lib/core';
import { planIncrementalCopy } from '../../lib/runtime/copy';
import {
  buildNightIndex, checkBlobs, checkNightFiles, readManifestV2, readNight, type BlobRef, type ListedObject,
} from '../../lib/runtime/format';
import { buildManifest } from '../../lib/runtime/manifest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { syncObjects } from '../../lib/runtime/sync-objects';
import { mapLimit } from '../../lib/runtime/util';
import { startMoto } from '../services';
import { awsClients, createBucket, createExportBucket, drillPlan } from '../drill/primary';
import { FileStore } from '../../lib/runtime/stores/file';
import { S3Store } from '../../lib/runtime/stores/s3';
import type { HeadInfo, ObjectInfo, ObjectStore, PutOptions } from '../../lib/runtime/stores/types';

const ROOT = path.resolve(__dirname, '../..');
const NIGHTS = ['2026-11-01', '2026-11-02'];
const CONTENT_BYTES = 48;

export interface PhaseResult { readonly phase: string; readonly wallMs: number; readonly cpuMs: number; readonly peakRssMiB: number }
export interface NightRun {
  readonly size: number;
  readonly night: string;
  readonly phases: PhaseResult[];
  readonly bytesHashed: number;
  readonly objectsCopied: number;
  readonly indexRecordsWritten: number;
  readonly planKeys: number | null;
  readonly verifiedBlobs: number;
  readonly verifiedBytes: number;
  readonly scrubShare: { readonly blobs: number; readonly bytes: number; readonly estimatedMs: number };
  readonly checkpoint: boolean;
}

function key(i: number): string {
  return `calls/${String(i).padStart(9, '0')}.wav`;
}

function versionOf(i: number, night: number, size: number, changed: number): number {
  return night === 2 && i % Math.floor(size / changed) === 0 ? 2 : 1;
}

function content(i: number, v: number): Buffer {
  return Buffer.from(`cp-bench recording ${i} version ${v} `.padEnd(CONTENT_BYTES, '.'));
}

async function* listing(size: number, night: number, changed: number): AsyncIterable<ListedObject> {
  for (let i = 0; i < size; i++) yield { key: key(i), size: CONTENT_BYTES, etag: `"${i}-${versionOf(i, night, size, changed)}"`, modified: null };
}

/**
 * Index, manifests and night files on disk; blobs are not stored (a "copy" is counted), and a blob
 * read is served from the generator for the blobs the verifier is about to hash.
 */
class GeneratedStore implements ObjectStore {
  readonly url: string;
  readonly pending = new Map<string, Buffer>();
  constructor(readonly files: FileStore) { this.url = files.url; }
  list(prefix: string): AsyncIterable<ObjectInfo> { return this.files.list(prefix); }
  async head(k: string): Promise<HeadInfo | undefined> { return naming.blobSha256(k) ? undefined : this.files.head(k); }
  async get(k: string): Promise<Readable> {
    const sha = naming.blobSha256(k);
    if (!sha) return this.files.get(k);
    const body = this.pending.get(sha);
    this.pending.delete(sha);
    if (!body) throw new Error(`generated store: no content for ${k}`);
    return Readable.from([body]);
  }
  getBytes(k: string): Promise<Buffer> { return this.files.getBytes(k); }
  put(k: string, body: Buffer | string | Readable, o?: PutOptions): Promise<void> { return this.files.put(k, body, o); }
  locationOf(k: string): string { return k; }
}

async function phase<T>(phases: PhaseResult[], name: string, fn: () => Promise<T>): Promise<T> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const r = await fn();
  const cpu = process.cpuUsage(c);
  phases.push({ phase: name, wallMs: Number(process.hrtime.bigint() - t) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024 });
  return r;
}

/** One (size, night) in this process. */
export async function runNightWorker(size: number, nightNo: number, dir: string, changed: number, scrubCycle: number): Promise<NightRun> {
  const store = new GeneratedStore(new FileStore(dir));
  const night = NIGHTS[nightNo - 1];
  const phases: PhaseResult[] = [];
  let bytesHashed = 0;
  let objectsCopied = 0;
  const previous = nightNo > 1 ? (await readManifestV2(store, NIGHTS[nightNo - 2])).manifest.datasets[0].index ?? undefined : undefined;
  const built = await phase(phases, 'index build (list + merge + hash/copy new + index + manifest)', async () => {
    const r = await buildNightIndex({
      store, night, dataset: 'recordings', previous, listing: listing(size, nightNo, changed), runId: 'run-1',
      resolve: async (o) => {
        const i = Number(o.key.slice(6, 15));
        const body = content(i, versionOf(i, nightNo, size, changed));
        bytesHashed += body.length;
        objectsCopied++;
        return { sha256: createHash('sha256').update(body).digest('hex'), size: body.length, version: null, contentType: 'audio/wav', metadata: {}, copied: true };
      },
    });
    await buildManifest({ store, night, datasets: [{ name: 'recordings', kind: 's3Bucket' }], createdAt: new Date(`${night}T03:00:00Z`) });
    return r;
  });
  let planKeys: number | null = null;
  if (nightNo > 1) {
    const destination = Object.assign(Object.create(GeneratedStore.prototype) as GeneratedStore, store, {
      url: 'generated://destination',
      list: async function* (): AsyncIterable<ObjectInfo> { for (const n of NIGHTS.slice(0, nightNo - 1)) yield { key: naming.manifestKey(n), size: 1 }; },
    });
    planKeys = await phase(phases, 'copy planning (incremental: files + new blobs of the nights missing)', async () => (await planIncrementalCopy(store, destination)).dataKeys.length);
  }
  let verifiedBlobs = 0;
  let verifiedBytes = 0;
  await phase(phases, 'verify (night files + new blobs hashed)', async () => {
    const reader = await readNight(store, night);
    const files = await checkNightFiles(store, reader.manifest);
    async function* refs(): AsyncIterable<BlobRef> {
      for await (const c of reader.changes('recordings')) {
        if (c.op === 'remove') continue;
        const i = Number(c.key.slice(6, 15));
        store.pending.set(c.sha256, content(i, versionOf(i, nightNo, size, changed)));
        yield { sha256: c.sha256, size: c.size };
      }
    }
    const blobs = await checkBlobs(store, refs());
    if (files.bad.length || blobs.bad.length) throw new Error(`verify found bad objects: ${JSON.stringify([...files.bad, ...blobs.bad].slice(0, 3))}`);
    verifiedBlobs = blobs.objects;
    verifiedBytes = blobs.bytes + files.bytes;
  });
  const verifyMs = phases[phases.length - 1].wallMs;
  const scrubBlobs = Math.ceil(size / scrubCycle);
  const i = built.index;
  return {
    size, night, phases, bytesHashed, objectsCopied, planKeys, verifiedBlobs, verifiedBytes, checkpoint: built.checkpoint,
    indexRecordsWritten: i.night.records + (built.checkpoint ? i.checkpoint.records : 0),
    scrubShare: { blobs: scrubBlobs, bytes: scrubBlobs * CONTENT_BYTES, estimatedMs: verifiedBlobs ? (verifyMs / verifiedBlobs) * scrubBlobs : 0 },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Our hashing (checkBlobs over a file store) vs `sha256sum`, alternating, median of `runs`. */
export async function hashVsSha256sum(mib: number, runs: number): Promise<{ mib: number; runs: number; oursMs: number[]; sha256sumMs: number[]; ratio: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-bench-hash-'));
  try {
    const store = new FileStore(dir);
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(1024 * 1024);
    const tmp = path.join(dir, 'data');
    const fd = fs.openSync(tmp, 'w');
    for (let i = 0; i < mib; i++) { chunk.fill(i % 251); hash.update(chunk); fs.writeSync(fd, chunk); }
    fs.closeSync(fd);
    const sha = hash.digest('hex');
    fs.mkdirSync(path.dirname(path.join(dir, naming.blobKey(sha))), { recursive: true });
    fs.renameSync(tmp, path.join(dir, naming.blobKey(sha)));
    const file = path.join(dir, naming.blobKey(sha));
    const oursMs: number[] = [];
    const sha256sumMs: number[] = [];
    async function* one(): AsyncIterable<BlobRef> { yield { sha256: sha, size: mib * 1024 * 1024 }; }
    spawnSync('sha256sum', [file]); // warm the page cache
    for (let r = 0; r < runs; r++) {
      let t = Date.now();
      const res = await checkBlobs(store, one());
      oursMs.push(Date.now() - t);
      if (res.bad.length) throw new Error(`hash check failed: ${JSON.stringify(res.bad)}`);
      t = Date.now();
      const s = spawnSync('sha256sum', [file], { encoding: 'utf8' });
      sha256sumMs.push(Date.now() - t);
      if (!s.stdout.startsWith(sha)) throw new Error('sha256sum disagrees');
    }
    return { mib, runs, oursMs, sha256sumMs, ratio: median(sha256sumMs) / median(oursMs) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface ScaleResult {
  readonly date: string;
  readonly load: number[];
  readonly loadAfter: number[];
  readonly changed: number;
  readonly scrubCycleNights: number;
  readonly nights: NightRun[];
  readonly moto?: { readonly objects: number; readonly nights: { night: string; wallMs: number; examined: number; hashed: number; copied: number; added: number; changed: number }[] } | { readonly skipped: string };
  readonly hash?: Awaited<ReturnType<typeof hashVsSha256sum>>;
}

/** sync-objects (the real writer) against moto_server: night 1 over `objects`, night 2 rewriting 1 % of them. */
export async function motoScale(objects: number, log: (s: string) => void): Promise<NonNullable<ScaleResult['moto']>> {
  const moto = await startMoto();
  try {
    const plan = drillPlan();
    const { s3 } = awsClients(moto.endpoint, plan.primary.region);
    const bucket = (await createExportBucket(s3, plan)).bucket;
    await createBucket(s3, 'scale-source', plan.primary.region);
    const put = (i: number, v: number): Promise<unknown> => s3.send(new PutObjectCommand({ Bucket: 'scale-source', Key: key(i), Body: content(i, v), ContentType: 'audio/wav' }));
    log(`scale: moto, putting ${objects} objects ...`);
    await mapLimit(Array.from({ length: objects }, (_, i) => i), 32, (i) => put(i, 1));
    const out: { night: string; wallMs: number; examined: number; hashed: number; copied: number; added: number; changed: number }[] = [];
    for (const [n, night] of NIGHTS.entries()) {
      if (n === 1) await mapLimit(Array.from({ length: Math.ceil(objects / 100) }, (_, j) => j * 100), 32, (i) => put(i, 2));
      log(`scale: moto, sync-objects night ${n + 1} ...`);
      const t = Date.now();
      const r = await syncObjects({ s3, sourceBucket: 'scale-source', exportBucket: bucket, dataset: 'recordings', night, emulatorChecksumHeader: true, runId: 'run-1' });
      await buildManifest({ store: new S3Store(bucket, s3), night, datasets: [{ name: 'recordings', kind: 's3Bucket' }] });
      out.push({ night, wallMs: Date.now() - t, examined: r.examined, hashed: r.hashed, copied: r.copied, added: r.added, changed: r.changed });
    }
    return { objects, nights: out };
  } finally {
    await moto.stop();
  }
}

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
}

/** Runs every (size, night) in its own process, then the hash comparison. */
export async function runScale(log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<ScaleResult> {
  const sizes = (process.env.BENCH_SCALE_SIZES ?? '1000000,10000000').split(',').map(Number);
  const changed = intEnv('BENCH_SCALE_CHANGED', 10_000);
  const cycle = intEnv('BENCH_SCRUB_CYCLE', 30);
  const load = os.loadavg();
  const nights: NightRun[] = [];
  for (const size of sizes) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cp-bench-scale-${size}-`));
    try {
      for (const n of [1, 2]) {
        log(`scale: ${size.toLocaleString('en-US')} objects, night ${n} ...`);
        const r = spawnSync(process.execPath, ['--max-old-space-size=384', '-r', 'ts-node/register/transpile-only', __filename, 'worker', String(size), String(n), dir, String(changed), String(cycle)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        if (r.status !== 0) throw new Error(`scale worker ${size}/${n} failed: ${(r.stderr || r.stdout).slice(-2000)}`);
        const run = JSON.parse(r.stdout.trim().split('\n').pop()!) as NightRun;
        nights.push(run);
        log(`  ${run.phases.map((p) => `${p.phase.split(' (')[0]} ${(p.wallMs / 1000).toFixed(1)} s, ${p.peakRssMiB.toFixed(0)} MiB`).join('; ')}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const motoObjects = intEnv('BENCH_SCALE_MOTO', 10_000);
  const moto = motoObjects > 0 ? await motoScale(motoObjects, log) : { skipped: 'BENCH_SCALE_MOTO=0' };
  const mib = intEnv('BENCH_HASH_MIB', 1024);
  const runs = intEnv('BENCH_HASH_RUNS', 5);
  log(`scale: hashing ${mib} MiB, ${runs} runs vs sha256sum ...`);
  const hash = mib > 0 ? await hashVsSha256sum(mib, runs) : undefined;
  return { date: new Date().toISOString(), load, loadAfter: os.loadavg(), changed, scrubCycleNights: cycle, nights, moto, hash };
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function renderScale(r: ScaleResult): string {
  const out = ['## 5. Scale: format v2 at 1 M and 10 M objects', '', `Run finished ${r.date}; load average (\`uptime\`, 1/5/15 min) ${r.load.map((l) => l.toFixed(2)).join(' / ')} at the start, ${r.loadAfter.map((l) => l.toFixed(2)).join(' / ')} at the end. A generated store (scripts/bench/scale.ts) serves the listing and ${CONTENT_BYTES}-byte deterministic contents; index, manifests and night files go to a local folder; blob copies are counted, not stored. Night 2 changes the same ${r.changed.toLocaleString('en-US')} objects at every size. One process per (size, night); peak RSS is that process's maxRSS after each phase (cumulative).`, ''];
  out.push('| objects | night | phase | wall | CPU | peak RSS |', '| --- | --- | --- | --- | --- | --- |');
  for (const n of r.nights) for (const p of n.phases) out.push(`| ${n.size.toLocaleString('en-US')} | ${n.night}${n.checkpoint ? ' (checkpoint)' : ''} | ${p.phase} | ${sec(p.wallMs)} | ${sec(p.cpuMs)} | ${p.peakRssMiB.toFixed(0)} MiB |`);
  out.push('', '| objects | night | bytes hashed | objects copied | index records written | copy plan keys | blobs verified | streaming pass per million objects | scrub share (blobs, est. time) |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const n of r.nights) {
    const build = n.phases[0];
    out.push(`| ${n.size.toLocaleString('en-US')} | ${n.night} | ${n.bytesHashed.toLocaleString('en-US')} | ${n.objectsCopied.toLocaleString('en-US')} | ${n.indexRecordsWritten.toLocaleString('en-US')} | ${n.planKeys ?? 'full copy (first night)'} | ${n.verifiedBlobs.toLocaleString('en-US')} | ${sec(build.wallMs / (n.size / 1e6))} | ${n.scrubShare.blobs.toLocaleString('en-US')}, ~${sec(n.scrubShare.estimatedMs)} |`);
  }
  const n2 = r.nights.filter((n) => n.night === NIGHTS[1]);
  const same = n2.length > 1 && n2.every((n) => n.bytesHashed === n2[0].bytesHashed && n.objectsCopied === n2[0].objectsCopied && n.indexRecordsWritten === n2[0].indexRecordsWritten);
  const peak = Math.max(...r.nights.map((n) => Math.max(...n.phases.map((p) => p.peakRssMiB))));
  out.push('', `- Night 2 work follows the change: bytes hashed, objects copied and index records written are ${same ? '**equal** at every size' : '**not equal** across sizes'}.`);
  out.push(`- Peak RSS over every run: ${peak.toFixed(0)} MiB (target ≤ 512 MiB at 10 M objects, night 1 included): ${peak <= 512 ? 'met' : '**missed**'}.`);
  out.push(`- The remaining O(estate) part is the index build's streaming pass (list the source, stream the previous view, merge); its time per million objects is in the table. The scrub share (estate ÷ ${r.scrubCycleNights} nights) is estimated from the measured per-blob verify cost of these ${CONTENT_BYTES}-byte blobs; real recordings are bounded by read throughput (see the hashing row).`);
  if (r.moto && 'nights' in r.moto) {
    out.push(`- sync-objects + build-manifest (the real writer: ListObjectsV2, HeadObject + GetObject to hash, CopyObject into blobs, index, manifest) against moto_server with ${r.moto.objects.toLocaleString('en-US')} objects: ${r.moto.nights.map((n) => `${n.night}: ${sec(n.wallMs)}, ${n.examined} examined, ${n.hashed} hashed, ${n.copied} copied (${n.added} added, ${n.changed} changed)`).join('; ')}. moto is one Python process, so this measures request counts more than speed: night 2 makes requests only for the changed objects plus the listing.`);
  }
  if (r.hash) out.push(`- Verifier hashing vs \`sha256sum\` on the same ${r.hash.mib} MiB file, median of ${r.hash.runs} alternating runs (page cache warm): ours ${sec(median(r.hash.oursMs))}, sha256sum ${sec(median(r.hash.sha256sumMs))}, throughput ratio **${r.hash.ratio.toFixed(2)}×** (samples: ours ${r.hash.oursMs.join(', ')} ms; sha256sum ${r.hash.sha256sumMs.join(', ')} ms).`);
  const last = r.nights.filter((n) => n.night === NIGHTS[0]).pop();
  if (last) {
    const perM = last.phases[0].wallMs / (last.size / 1e6);
    out.push(`- Estimated at 50 M objects (linear in the streaming pass, from the largest run): a seed night's index build ≈ ${sec(perM * 50)}; a normal night's streaming pass ≈ ${sec((n2[n2.length - 1]?.phases[0].wallMs ?? 0) / ((n2[n2.length - 1]?.size ?? 1) / 1e6) * 50)} plus the change; the scrub share ${Math.ceil(50e6 / r.scrubCycleNights).toLocaleString('en-US')} blobs per night.`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'worker') {
    const [size, night, dir, changed, cycle] = args;
    const r = await runNightWorker(Number(size), Number(night), dir, Number(changed), Number(cycle));
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const r = await runScale();
  fs.mkdirSync(path.join(ROOT, 'bench-out'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench-out', 'scale.json'), `${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(`\n${renderScale(r)}\n`);
}

if (require.main === module) {
  main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
