/**
 * `npm run drill`: the whole backup → mirror → verify → restore path on one machine, no cloud.
 * Starts moto_server, Azurite and two PostgreSQL 15 clusters (scripts/services), seeds a synthetic
 * contact centre, runs two nights plus a third in which the primary goes dark, and writes
 * drill-out/drill-report.md and drill-out/drill-report.json. `--quick` runs a 10x smaller data set.
 * Exits non-zero when any check fails. Everything it started is stopped at the end (also on failure
 * and on Ctrl-C).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, promises as fs, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { naming } from '../../lib/core';
import { setLogSink } from '../../lib/runtime/log';
import { runCopy, type CopyResult } from '../../lib/runtime/copy';
import { checkObjects, verifyRun, type PlannedDataset, type VerifyRunResult } from '../../lib/runtime/verifier';
import { deletedNewestManifest, primaryDarkStale, verifyDuringCopy, type ScenarioContext } from './scenarios';
import { restoreNight, restorePostgresDump, downloadVerified, runPgRestore, type PgTarget, type RestoreResult } from '../../lib/runtime/restorer';
import { writeExitBundle } from '../../lib/runtime/exit-bundle';
import { FileStore } from '../../lib/runtime/stores/file';
import { readManifestV2, readNight } from '../../lib/runtime/format';
import { latestVerifiedNight } from '../../lib/runtime/records';
import { FixtureConnectClient, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { formatBytes, mapLimit } from '../../lib/runtime/util';
import { startAzurite, startMoto, startPostgres, stopAll, type MotoService } from '../services';
import { awsClients, azureCounterparty, createBucket, createExportBucket, drillPlan, motoEnv } from './primary';
import { changeCrm, contactItem, deleteRecording, FULL_SIZE, putRecording, QUICK_SIZE, recordingKey, seedContactRecords, seedCrm, seedRecordings, writeItems, type SeededRecording } from './seed';
import { formatV2Scenario } from './format-v2';
import { runPrimaryLostNight } from './reload';
import { runPrimaryNight, type NightResult, type PrimarySources } from './night';
import { modelDigest, pgDigests, standbyDynamoDigest, standbyObjects } from './compare';

const quick = process.argv.includes('--quick');
const size = quick ? QUICK_SIZE : FULL_SIZE;
const outDir = resolve(process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? 'drill-out');
const t0 = Date.now();
const stages: { stage: string; seconds: number; detail?: string }[] = [];
const checks: { check: string; ok: boolean; detail: string }[] = [];
const logLines: string[] = [];

function elapsed(): string {
  return `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
}

function say(text: string): void {
  process.stderr.write(`[drill ${elapsed()}] ${text}\n`);
}

async function stage<T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> {
  say(`▶ ${name}`);
  const t = Date.now();
  const r = await fn();
  const seconds = (Date.now() - t) / 1000;
  const d = detail?.(r);
  stages.push({ stage: name, seconds, detail: d });
  say(`✔ ${name} (${seconds.toFixed(1)} s)${d ? `: ${d}` : ''}`);
  return r;
}

function check(name: string, ok: boolean, detail: string): void {
  checks.push({ check: name, ok, detail });
  say(`${ok ? '  ok  ' : '  FAIL'} ${name}: ${detail}`);
}

async function listVersions(s3: S3Client, bucket: string): Promise<Map<string, { etag: string; size: number }>> {
  const out = new Map<string, { etag: string; size: number }>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!, { etag: o.ETag ?? '', size: Number(o.Size ?? 0) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Bytes of objects in the export bucket that are new or whose content changed between two listings. */
function changedBytes(before: Map<string, { etag: string; size: number }>, after: Map<string, { etag: string; size: number }>): { bytes: number; objects: number } {
  let bytes = 0;
  let objects = 0;
  for (const [k, v] of after) {
    const b = before.get(k);
    if (!b || b.etag !== v.etag || b.size !== v.size) { bytes += v.size; objects++; }
  }
  return { bytes, objects };
}

function nightId(offsetDays: number): string {
  return naming.nightId(new Date(Date.now() + offsetDays * 86400_000));
}

/** Like `npm test`: install/check rclone, skopeo, graphviz, moto_server and PostgreSQL first (scripts/ci-prereqs.sh). */
function prerequisites(): void {
  const r = spawnSync('bash', [join(__dirname, '..', 'ci-prereqs.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/ci-prereqs.sh failed (exit ${r.status}): the drill needs rclone, moto_server and the PostgreSQL 15 binaries`);
}

async function main(): Promise<void> {
  prerequisites();
  mkdirSync(outDir, { recursive: true });
  setLogSink({ line: (l) => { logLines.push(l); } });
  const plan = drillPlan();
  const ds = {
    recordings: plan.datasets.find((d) => d.kind === 's3Bucket')!,
    contacts: plan.datasets.find((d) => d.kind === 'dynamoDbTable')!,
    crm: plan.datasets.find((d) => d.kind === 'postgres')!,
    connect: plan.datasets.find((d) => d.kind === 'connectInstance')!,
  };
  if (ds.recordings.kind !== 's3Bucket' || ds.contacts.kind !== 'dynamoDbTable' || ds.crm.kind !== 'postgres' || ds.connect.kind !== 'connectInstance') throw new Error('reference plan lacks a dataset kind');
  say(`${quick ? 'QUICK' : 'full-size'} drill: ${size.recordings} recordings (${formatBytes(size.recordingBytes)}), ${size.contactRecords} contact records, CRM with ${size.crmCustomers} customers; out: ${outDir}`);

  // ------------------------------------------------------------------ services
  const services = await stage('start services (moto_server, Azurite, 2x PostgreSQL 15)', async () => {
    const [moto, azurite, primaryPg, standbyPg] = await Promise.all([startMoto(), startAzurite(), startPostgres('primary'), startPostgres('standby')]);
    return { moto, azurite, primaryPg, standbyPg };
  }, (s) => `moto :${s.moto.port}, azurite :${s.azurite.port}, pg primary :${s.primaryPg.port}, pg standby :${s.standbyPg.port}`);
  let moto: MotoService | undefined = services.moto;
  const { azurite, primaryPg, standbyPg } = services;
  const region = plan.primary.region;
  const motoEndpoint = moto.endpoint;
  const { s3, ddb } = awsClients(moto.endpoint, region);
  const pgPrimary = { host: primaryPg.host, port: primaryPg.port, user: primaryPg.user };
  const standby: PgTarget = { host: standbyPg.host, port: standbyPg.port, user: standbyPg.user, database: 'standby' };
  {
    const c = new Client({ ...pgPrimary, port: standbyPg.port, database: 'postgres' });
    await c.connect();
    await c.query('CREATE DATABASE standby');
    await c.end();
  }

  // ------------------------------------------------------------------ seed
  const exportBucket = await stage('create the Object Lock export bucket from the plan', () => createExportBucket(s3, plan), (b) => `${b.bucket}: ${b.mode} ${b.days} days (plan.immutability.mode=${plan.immutability.mode}, retentionDays=${plan.retentionDays})`);
  const sourceBucket = ds.recordings.bucketName;
  await createBucket(s3, sourceBucket, region);
  const fixture = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;
  const connect = new FixtureConnectClient({ ...fixture, instanceId: ds.connect.instanceId }, { pageSize: 2, throttleEvery: 9 });
  const seeded = await stage('seed the synthetic contact centre', async () => {
    const t = Date.now();
    // moto is one Python process: S3 and DynamoDB seeding one after the other is faster than both at once
    // (measured: 12 s + 31 s sequential vs 50 s in parallel); the CRM (PostgreSQL) seeds alongside.
    const [recordings, crmRows] = await Promise.all([
      (async () => {
        const r = await seedRecordings(s3, sourceBucket, size);
        say(`  recordings seeded in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        await seedContactRecords(ddb, ds.contacts.tableName, size);
        say(`  contact records seeded in ${((Date.now() - t) / 1000).toFixed(1)} s`);
        return r;
      })(),
      seedCrm(pgPrimary, ds.crm.databaseName, size).then((r) => { say(`  CRM seeded in ${((Date.now() - t) / 1000).toFixed(1)} s`); return r; }),
    ]);
    return { recordings, crmRows };
  }, (s) => `${s.recordings.size} recordings, ${formatBytes([...s.recordings.values()].reduce((n, r) => n + r.size, 0))}; ${size.contactRecords} contact records (PITR on); CRM rows ${JSON.stringify(s.crmRows)} = ${Object.values(s.crmRows).reduce((a, b) => a + b, 0)}; Connect fixture (${fixture.contactFlows.length} flows, ${fixture.queues.length} queues, ${fixture.users.length} users, ...)`);
  const recordings = seeded.recordings;
  /** Every contact record written to the primary table (the comparison's truth; a moto Scan of 50k items is slow). */
  const written = new Map(Array.from({ length: size.contactRecords }, (_, i) => contactItem(i)).map((it) => [it.contactId.S!, it]));
  /** The plan's datasets as the counterparty jobs get them (CP_DATASETS): every night must hold each one. */
  const verifyDatasets: PlannedDataset[] = plan.datasets.map((d) => ({ name: d.name, kind: d.kind, allowEmpty: Boolean((d as { allowEmpty?: boolean }).allowEmpty) }));

  const sources: PrimarySources = {
    buckets: { [ds.recordings.name]: sourceBucket },
    tables: { [ds.contacts.name]: ds.contacts.tableName },
    postgres: { [ds.crm.name]: { ...pgPrimary, database: ds.crm.databaseName } },
    connect,
  };
  const cp = await azureCounterparty(azurite);
  const copyEnv = { ...process.env, ...motoEnv(moto.endpoint, region) };
  const copyWith = (extra: Partial<Parameters<typeof runCopy>[0]> = {}): Promise<CopyResult> => runCopy({
    source: { bucket: exportBucket.bucket, region, endpoint: motoEndpoint },
    destination: { account: azurite.account, container: naming.AZURE_EXPORTS_CONTAINER, sasUrl: cp.sasUrl },
    auth: 'env', env: copyEnv, ...extra,
  });
  const copy = (): Promise<CopyResult> => copyWith();

  const compareAll = async (label: string, night: string): Promise<Record<string, unknown>> => {
    const [p, s] = await Promise.all([pgDigests(pgPrimary, ds.crm.databaseName), pgDigests({ host: standby.host, port: standby.port, user: standby.user }, ds.crm.name)]);
    const pgOk = Object.keys(p).length > 0 && JSON.stringify(p) === JSON.stringify(s);
    check(`${label}: CRM tables (row counts + md5 per table)`, pgOk, Object.entries(p).map(([t, d]) => `${t} ${d.rows}${s[t]?.md5 === d.md5 && s[t]?.rows === d.rows ? '=' : '≠'}`).join(', '));
    const table = `ddb_${ds.contacts.name.replace(/-/g, '_')}`;
    // decoded independently of the restorer: the SDK's unmarshall and compare.ts's own typed form
    const [dp, dsb] = await Promise.all([modelDigest(written, 'contactId'), standbyDynamoDigest({ host: standby.host, port: standby.port, user: standby.user }, standby.database, table, 'contactId')]);
    check(`${label}: contact records (item count + typed and plain digests, decoded independently)`, dp.items === dsb.items && dp.typed === dsb.typed && dp.plain === dsb.plain,
      `primary ${dp.items} items typed ${dp.typed.slice(0, 12)}… plain ${dp.plain.slice(0, 12)}…; standby ${dsb.items} items typed ${dsb.typed.slice(0, 12)}… plain ${dsb.plain.slice(0, 12)}…`);
    const objs = await standbyObjects({ host: standby.host, port: standby.port, user: standby.user }, standby.database, ds.recordings.name);
    let mismatched = 0;
    for (const [key, r] of recordings) {
      const o = objs.get(key); // format v2: the standby lists each recording under its source key
      if (!o || o.sha256 !== r.sha256 || o.size !== r.size) mismatched++;
    }
    check(`${label}: recordings (count + SHA-256 of every object vs what was seeded)`, mismatched === 0 && objs.size === recordings.size, `${objs.size} listed in the standby, ${recordings.size} on the primary, ${mismatched} mismatched`);
    const cc = new Client({ host: standby.host, port: standby.port, user: standby.user, database: standby.database });
    await cc.connect();
    const connectRows = Number((await cc.query('SELECT count(*) AS n FROM counterparty.connect_config WHERE night = $1', [night])).rows[0].n);
    const status = (await cc.query('SELECT night, state FROM counterparty_control.restore_status')).rows[0];
    await cc.end();
    check(`${label}: Connect configuration kept as versioned JSON`, connectRows >= 11, `${connectRows} resource documents for night ${night}`);
    check(`${label}: restore marker`, status?.state === 'complete' && status?.night === night, `restore_status = ${status?.night} ${status?.state}`);
    return { crm: { primary: p, standby: s, equal: pgOk }, contactRecords: { primary: dp, standby: dsb }, recordings: { standby: objs.size, primary: recordings.size, mismatched }, connectDocuments: connectRows };
  };

  const nights: Record<string, unknown>[] = [];
  const scenario: ScenarioContext = {
    store: cp.store, storeUrl: cp.url, storeEnv: cp.env, datasets: verifyDatasets, freshness: { rpoHours: plan.rpoHours, alarmGraceHours: plan.alarmGraceHours },
    check, say, logLines,
  };
  const verifyOnCounterparty = (): Promise<VerifyRunResult> => verifyRun({ store: cp.store, datasets: verifyDatasets, freshness: scenario.freshness });
  const runNight = async (label: string, night: string, opts: { duringCopy?: boolean } = {}): Promise<{ primary: NightResult; copy: CopyResult; verify: VerifyRunResult; restore: RestoreResult; before: Map<string, { etag: string; size: number }>; after: Map<string, { etag: string; size: number }> }> => {
    const before = await listVersions(s3, exportBucket.bucket);
    const primary = await stage(`${label}: primary exports + manifest (night ${night})`, () => runPrimaryNight({ plan, s3, ddb, bucket: exportBucket.bucket, night, sources }),
      (r) => `${r.manifest.manifest.totals.objects} objects, ${formatBytes(r.manifest.manifest.totals.bytes)}; recordings copied ${r.sync[ds.recordings.name].copied}, skipped ${r.sync[ds.recordings.name].skipped}; manifest reused ${r.manifest.reusedChecksums} S3 SHA-256 checksums, hashed ${r.manifest.hashedObjects}; steps ${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
    const after = await listVersions(s3, exportBucket.bucket);
    let c: CopyResult;
    let run: VerifyRunResult;
    if (opts.duringCopy) {
      // the manifest lands before the data (a copy still running): pending, then verified, no manual step
      const during = await stage(`${label}: verify during copy (manifest first), copy, verify again`, () => verifyDuringCopy(scenario, { night, copyManifestsFirst: () => copyWith({ phase: 'manifests' }), copyData: () => copyWith({ phase: 'data', mode: 'full' }) }),
        (x) => `first verify: ${x.first.nights.map((n) => `${n.night} ${n.result}`).join(', ')}; copy ${x.copy.result} (${x.copy.objects} objects, ${formatBytes(x.copy.bytes)}); second verify: ${x.second.nights.map((n) => `${n.night} ${n.result}`).join(', ')}`);
      c = during.copy;
      run = during.second;
    } else {
      c = await stage(`${label}: copy to the Azure counterparty (rclone)`, copy, (r) => `${r.result}: ${r.objects} objects, ${formatBytes(r.bytes)} moved, ${r.checks} checked unchanged`);
      run = await stage(`${label}: verify on the counterparty`, verifyOnCounterparty, (r) => `${r.result}: ${r.nights.map((n) => `${n.night} ${n.result}, ${n.objects} night files, new blobs ${n.coverage?.newBlobs.objects ?? 0} (${formatBytes(n.coverage?.newBlobs.bytes ?? 0)}), scrub ${n.coverage?.scrub.objects ?? 0}, chain ${n.chain.status}`).join('; ')}`);
    }
    if (c.result !== 'success') throw new Error(`copy failed: ${c.error}`);
    const v = run.nights.find((n) => n.night === night);
    check(`${label}: verification`, run.result === 'success' && v?.result === 'success', `${v?.result ?? 'not judged'} (run ${run.result}${run.reason ? `, ${run.reason}` : ''}), ${v?.bad.length ?? 0} bad${v?.bad.length ? `: ${v.bad.slice(0, 3).map((b) => `${b.key} (${b.problem})`).join('; ')}` : ''}`);
    const r = await stage(`${label}: restore into the standby`, () => restoreNight({ store: cp.store, pg: standby, datasets: verifyDatasets }), (x) => `night ${x.night}: postgres ${x.postgres.map((p) => `${p.dataset} ${p.seconds.toFixed(1)} s`).join(', ')}; dynamodb ${x.dynamodb.map((d) => `${d.items} items ${d.seconds.toFixed(1)} s`).join(', ')}; ${x.objects} objects listed; ${x.connectDocuments} Connect documents`);
    const comparison = await stage(`${label}: compare standby vs primary`, () => compareAll(label, night));
    nights.push({ label, night, primary: { seconds: primary.seconds, objects: primary.manifest.manifest.totals.objects, bytes: primary.manifest.manifest.totals.bytes, manifestSha256: primary.manifest.sha256, previous: primary.manifest.manifest.previous, sync: primary.sync[ds.recordings.name] && { ...primary.sync[ds.recordings.name], copiedKeys: undefined }, reusedChecksums: primary.manifest.reusedChecksums, hashedObjects: primary.manifest.hashedObjects }, copy: { bytes: c.bytes, objects: c.objects, checks: c.checks, seconds: c.seconds }, verify: { result: v?.result, objects: v?.objects, bytes: v?.bytes, coverage: v?.coverage, counts: v?.counts, chain: v?.chain, bad: v?.bad }, restore: r, comparison });
    return { primary, copy: c, verify: run, restore: r, before, after };
  };

  // ------------------------------------------------------------------ night 1
  const night1 = nightId(-2);
  const n1 = await runNight('night 1', night1);

  // ------------------------------------------------------------------ night 2: change ~1 %
  const night2 = nightId(-1);
  const night1Recordings = new Map(recordings);
  const change = await stage('change about 1 % of the data', async () => {
    const keys = [...recordings.keys()];
    const every = 100;
    const changed: SeededRecording[] = await mapLimit(keys.filter((_, i) => i % every === 3), 8, (k) => putRecording(s3, sourceBucket, k, recordings.get(k)!.size));
    const added: SeededRecording[] = await mapLimit(Array.from({ length: Math.ceil(keys.length / 200) }, (_, i) => recordingKey(keys.length + i)), 8, (k) => putRecording(s3, sourceBucket, k, 150_000));
    for (const r of [...changed, ...added]) recordings.set(r.key, r);
    const erased = keys[5]; // format v2: one recording deleted on night 2 (night 1 must still restore it)
    await deleteRecording(s3, sourceBucket, erased);
    recordings.delete(erased);
    const itemIds = Array.from({ length: Math.ceil(size.contactRecords / 100) }, (_, i) => i * 100 + 7);
    const items = [...itemIds.map((i) => contactItem(i, 2)), ...Array.from({ length: 50 }, (_, i) => contactItem(size.contactRecords + i))];
    await writeItems(ddb, ds.contacts.tableName, items);
    for (const it of items) written.set(it.contactId.S!, it);
    const crmRows = await changeCrm(pgPrimary, ds.crm.databaseName, 0.01);
    return { recordingsChanged: changed.length, recordingsAdded: added.length, recordingBytesChanged: [...changed, ...added].reduce((n, r) => n + r.size, 0), contactRecordsChanged: itemIds.length + 50, crmRowsChanged: crmRows };
  }, (c) => `${c.recordingsChanged} recordings rewritten + ${c.recordingsAdded} new (${formatBytes(c.recordingBytesChanged)}), ${c.contactRecordsChanged} contact records, ${c.crmRowsChanged} CRM rows`);
  const n2 = await runNight('night 2', night2, { duringCopy: true });
  const n2Changed = changedBytes(n2.before, n2.after);
  const transferRatio = n2Changed.bytes > 0 ? n2.copy.bytes / n2Changed.bytes : 0;
  check('night 2: transfer moved only what changed (≤ 1.05x)', transferRatio <= 1.05 && n2.copy.bytes > 0, `rclone moved ${formatBytes(n2.copy.bytes)} in ${n2.copy.objects} objects; the export bucket changed ${formatBytes(n2Changed.bytes)} in ${n2Changed.objects} objects; ratio ${transferRatio.toFixed(3)}`);
  const n1Changed = changedBytes(n1.before, n1.after);
  const v2 = await stage('format v2: restore night 1 and night 2 recordings from the counterparty, then prune', () => formatV2Scenario({
    store: cp.store, dataset: ds.recordings.name,
    night1: { night: night1, expected: night1Recordings }, night2: { night: night2, expected: recordings },
  }), (r) => r.checks.map((c) => `${c.check}: ${c.ok ? 'ok' : 'FAILED'}`).join('; '));
  for (const c of v2.checks) check(c.check, c.ok, c.detail);

  // ------------------------------------------------------------------ the newest manifest disappears (head truncation)
  await stage('deleted newest manifest: verify and status must alert, then the same bytes are put back', () => deletedNewestManifest(scenario, {
    night: night2, deleteObject: async (key) => { await cp.store.container.deleteBlob(key); },
  }));

  // ------------------------------------------------------------------ benchmarks (data path)
  const bench = await stage('benchmarks: verifier vs sha256sum, restore vs pg_restore', async () => {
    const bundleDir = join(outDir, 'exit-bundle');
    await fs.rm(bundleDir, { recursive: true, force: true });
    const tb = Date.now();
    const bundle = await writeExitBundle({ store: cp.store, out: bundleDir });
    const bundleSeconds = (Date.now() - tb) / 1000;
    const local = new FileStore(bundleDir);
    // flush the bundle's dirty pages and warm the page cache, then time each twice, alternating, best of two
    spawnSync('bash', ['-c', `sync; find "${bundleDir}/nights" "${bundleDir}/objects" -type f -print0 | xargs -0 cat > /dev/null`]);
    // what the bundle's files must hash to: the night's files from the manifest, each recording from the night's index
    const stored = await readManifestV2(cp.store, bundle.night);
    const expected = [...stored.manifest.entries];
    for await (const e of (await readNight(cp.store, bundle.night)).entries(ds.recordings.name)) expected.push({ key: `${naming.OBJECTS_PREFIX}${ds.recordings.name}/${e.key}`, size: e.size, sha256: e.sha256, dataset: ds.recordings.name });
    const localManifest = { ...stored, manifest: { ...stored.manifest, entries: expected } };
    let verifySeconds = Infinity;
    let shaSeconds = Infinity;
    let checked = { bad: [] as unknown[], bytes: 0 };
    for (let round = 0; round < 2; round++) {
      const ts = Date.now();
      const sh = spawnSync('bash', ['-c', `cd "${bundleDir}" && find nights objects -type f ! -name manifest.json -print0 | xargs -0 sha256sum > /dev/null`]);
      shaSeconds = Math.min(shaSeconds, (Date.now() - ts) / 1000);
      if (sh.status !== 0) throw new Error(`sha256sum failed: ${sh.stderr}`);
      const tv = Date.now();
      checked = await checkObjects(local, localManifest, 2);
      verifySeconds = Math.min(verifySeconds, (Date.now() - tv) / 1000);
    }
    const vr = { bytes: checked.bytes, result: checked.bad.length === 0 && localManifest.sha256 === bundle.manifestSha256 ? 'success' : 'failure' };
    const mb = vr.bytes / 1048576;
    // restore: plain pg_restore of the dump vs the restorer's postgres path (download + verify + TOC + extensions + pg_restore -L + table check)
    const manifest = stored.manifest;
    const dumpEntry = manifest.entries.find((e) => e.key === naming.postgresDumpKey(bundle.night, ds.crm.name))!;
    const dumpPath = join(bundleDir, dumpEntry.key);
    const admin = new Client({ host: standby.host, port: standby.port, user: standby.user, database: 'postgres' });
    await admin.connect();
    await admin.query('DROP DATABASE IF EXISTS bench_plain');
    await admin.query('CREATE DATABASE bench_plain');
    await admin.query('DROP DATABASE IF EXISTS bench_restorer');
    await admin.query('CREATE DATABASE bench_restorer'); // both restore into an existing, empty database
    await admin.query('DROP DATABASE IF EXISTS bench_restorer_full');
    await admin.end();
    const tp = Date.now();
    await runPgRestore(['--no-owner', '-d', 'bench_plain', dumpPath], { ...process.env, PGHOST: standby.host, PGPORT: String(standby.port), PGUSER: standby.user });
    const plainSeconds = (Date.now() - tp) / 1000;
    // the restorer's restore step on the same local dump (pg_restore -l, extensions one by one, pg_restore -L, every TOC table present)
    const tr = Date.now();
    await restorePostgresDump(standby, 'bench_restorer', dumpPath);
    const restorerSeconds = (Date.now() - tr) / 1000;
    // and its whole PostgreSQL path from the counterparty: download from Azurite + SHA-256 check + the same restore
    const tf = Date.now();
    const tmp = join(outDir, 'bench.pgdump');
    await downloadVerified(cp.store, dumpEntry, tmp);
    await restorePostgresDump(standby, 'bench_restorer_full', tmp); // the restorer only ever restores into a fresh database
    const restorerFullSeconds = (Date.now() - tf) / 1000;
    await fs.rm(tmp, { force: true });
    return {
      exitBundle: { night: bundle.night, objects: bundle.objects, bytes: bundle.bytes, seconds: bundleSeconds },
      verifier: { bytes: vr.bytes, seconds: verifySeconds, mibPerSecond: mb / verifySeconds, result: vr.result },
      sha256sum: { seconds: shaSeconds, mibPerSecond: mb / shaSeconds },
      verifierVsSha256sum: (mb / verifySeconds) / (mb / shaSeconds),
      pgRestorePlain: { seconds: plainSeconds, dumpBytes: dumpEntry.size },
      restorerPostgres: { seconds: restorerSeconds, withDownloadSeconds: restorerFullSeconds },
      restoreVsPgRestore: restorerSeconds / plainSeconds,
      verifierOnAzurite: { seconds: n2.verify && stages.find((s) => s.stage === 'night 2: verify on the counterparty')?.seconds, bytes: n2.verify.nights.reduce((n, x) => n + x.bytes, 0) },
    };
  }, (b) => `verifier ${b.verifier.mibPerSecond.toFixed(0)} MiB/s vs sha256sum ${b.sha256sum.mibPerSecond.toFixed(0)} MiB/s = ${b.verifierVsSha256sum.toFixed(2)}x; restorer ${b.restorerPostgres.seconds.toFixed(2)} s vs pg_restore ${b.pgRestorePlain.seconds.toFixed(2)} s = ${b.restoreVsPgRestore.toFixed(2)}x; exit bundle ${b.exitBundle.objects} objects in ${b.exitBundle.seconds.toFixed(1)} s`);
  check('exit bundle of the latest verified night', bench.exitBundle.night === night2 && bench.verifier.result === 'success', `night ${bench.exitBundle.night}, ${bench.exitBundle.objects} objects, re-verified locally: ${bench.verifier.result}`);

  // ------------------------------------------------------------------ the primary is lost: reload it from the Azure copy
  // The recordings bucket is emptied, the table deleted and the CRM dropped; `reload` puts the last verified night
  // (night 2) back into moto and the primary PostgreSQL; the drill compares with what the primary held (scripts/drill/reload.ts).
  const crmTruth = await pgDigests(pgPrimary, ds.crm.databaseName);
  const failBack = await runPrimaryLostNight({
    s3, ddb, region, counterparty: cp.store, pg: pgPrimary,
    datasets: { recordings: ds.recordings.name, contacts: ds.contacts.name, crm: ds.crm.name, connect: ds.connect.name },
    recordingsBucket: sourceBucket, contactsTable: ds.contacts.tableName, crmDatabase: ds.crm.databaseName,
    truth: { recordings, contacts: written, crm: crmTruth }, stage, check,
  });

  // ------------------------------------------------------------------ night 3: the primary goes dark mid-night
  const night3 = nightId(0);
  const dark = await stage('night 3: the primary goes dark mid-night; the counterparty restores the last verified night', async () => {
    await writeItems(ddb, ds.contacts.tableName, [contactItem(1, 3)]);
    const partial = runPrimaryNight({ plan, s3, ddb, bucket: exportBucket.bucket, night: night3, sources }).then(() => 'completed', (e: Error) => `failed: ${e.message.split('\n')[0]}`);
    await new Promise((r) => setTimeout(r, 400));
    const goneAt = Date.now();
    await moto!.stop();
    moto = undefined;
    say('  moto_server stopped: the primary is gone');
    const primaryOutcome = await partial;
    const c = await copy();
    let v: VerifyRunResult | undefined;
    let verifyError: string | undefined;
    try {
      v = await verifyOnCounterparty();
    } catch (e) {
      verifyError = (e as Error).message;
    }
    const r = await restoreNight({ store: cp.store, pg: standby, datasets: verifyDatasets });
    const restoredAt = Date.now();
    const latest = await latestVerifiedNight(cp.store);
    const createdAt = Date.parse(latest!.manifest.manifest.createdAt);
    return { primaryOutcome, copy: c, verify: v && { night: (v.fields.newestVerifiedNight as string | null) ?? '-', result: v.result, judged: v.nights.map((n) => `${n.night} ${n.result}`).join(', ') || 'nothing new', stale: v.fields.stale, dataAgeHours: v.fields.dataAgeHours }, verifyError, restoredNight: r.night, rtoSeconds: (restoredAt - goneAt) / 1000, rpoSeconds: (restoredAt - createdAt) / 1000, restoredManifestCreatedAt: latest!.manifest.manifest.createdAt };
  }, (d) => `night 3 export ${d.primaryOutcome}; copy ${d.copy.result}${d.copy.error ? ` (${d.copy.error.slice(0, 80)})` : ''}; verify latest: ${d.verify ? `${d.verify.night} ${d.verify.result}` : d.verifyError}; restored night ${d.restoredNight}; RTO ${d.rtoSeconds.toFixed(1)} s`);
  check('night 3: standby restored the last verified night after the primary went dark', dark.restoredNight === night2, `restored ${dark.restoredNight} (night 3 = ${night3} never verified); copy ${dark.copy.result}`);
  const comparison3 = await compareAll('night 3 (primary dark)', night2).catch((e: Error) => ({ error: e.message }));
  void comparison3;
  // no new night arrives: on the drill's clock, once rpoHours + alarmGraceHours pass, the counterparty must say stale
  const stale = await stage('night 3: the drill\'s clock moves past rpoHours + alarmGraceHours; status and the verify line must say stale', () => primaryDarkStale(scenario, { lastGoodNight: night2, createdAt: dark.restoredManifestCreatedAt }), (x) => `clock at ${x.late.toISOString()}`);
  void stale;

  // ------------------------------------------------------------------ report
  await stopAll();
  const totalSeconds = (Date.now() - t0) / 1000;
  const ok = checks.every((c) => c.ok);
  const report = {
    result: ok ? 'success' : 'failure',
    quick,
    size,
    generatedAt: new Date().toISOString(),
    totalSeconds,
    exportBucket,
    stages,
    checks,
    nights,
    transfer: {
      definition: {
        bytesMoved: 'bytes rclone reported transferred (its final stats "bytes") by the night-2 copy from the export bucket to the Azure counterparty',
        bytesChanged: 'sum of the sizes of the objects in the export bucket that are new or have a new ETag between the listing taken before night 2 and the one after it (objects/ overwritten by sync-objects + every nights/<night2>/ object incl. the manifest)',
      },
      night1: { bytesMoved: n1.copy.bytes, objectsMoved: n1.copy.objects, bytesChanged: n1Changed.bytes, objectsChanged: n1Changed.objects },
      night2: { bytesMoved: n2.copy.bytes, objectsMoved: n2.copy.objects, bytesChanged: n2Changed.bytes, objectsChanged: n2Changed.objects, ratio: transferRatio, sourceChange: change },
    },
    benchmarks: bench,
    primaryDark: dark,
    rpo: { seconds: dark.rpoSeconds, night: dark.restoredNight, meaning: 'age of the newest restorable (verified) night at the moment the standby finished restoring: now − its manifest createdAt' },
    rto: { seconds: dark.rtoSeconds, meaning: 'from stopping moto_server (primary gone) to restore_status=complete on the standby, including the failed copy attempt and verify' },
    failBack: { night: failBack?.night, rtoSeconds: failBack?.rtoSeconds, phases: failBack?.phases, meaning: 'reload of the last verified night from the Azure copy into the emulated AWS after the primary lost its data: start to proven (verify, load, proof of every dataset)' },
    logLines,
  };
  writeFileSync(join(outDir, 'drill-report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'drill-report.md'), markdown(report));
  say(`report: ${join(outDir, 'drill-report.md')}`);
  say(`${ok ? 'DRILL PASSED' : 'DRILL FAILED'} in ${totalSeconds.toFixed(1)} s: ${checks.filter((c) => c.ok).length}/${checks.length} checks; night-2 transfer ${transferRatio.toFixed(3)}x of changed bytes; verifier ${bench.verifierVsSha256sum.toFixed(2)}x sha256sum; restore ${bench.restoreVsPgRestore.toFixed(2)}x pg_restore; RPO ${dark.rpoSeconds.toFixed(0)} s, RTO ${dark.rtoSeconds.toFixed(1)} s, fail-back RTO ${failBack ? `${failBack.rtoSeconds.toFixed(1)} s` : 'n/a (reload failed)'}`);
  if (!quick && totalSeconds > 180) say(`note: ${totalSeconds.toFixed(0)} s is over the 3-minute target; seeding moto alone took ${stages.find((x) => x.stage.startsWith('seed'))?.seconds.toFixed(0)} s (see the stage timings in the report)`);
  process.exitCode = ok ? 0 : 1;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function markdown(r: any): string {
  const lines: string[] = [];
  const mib = (b: number): string => formatBytes(b);
  lines.push(`# Counterparty drill report`, '', `**Result: ${r.result.toUpperCase()}** — ${r.checks.filter((c: { ok: boolean }) => c.ok).length}/${r.checks.length} checks passed, total wall time **${r.totalSeconds.toFixed(1)} s**${r.quick ? ' (QUICK run: 10x smaller data)' : ''}, generated ${r.generatedAt}.`, '');
  if (!r.quick && r.totalSeconds > 180) {
    const seed = r.stages.find((x: { stage: string }) => x.stage.startsWith('seed'));
    lines.push(`**Over the 3-minute target**: ${r.totalSeconds.toFixed(0)} s in all, of which seeding the synthetic data into moto_server took ${seed?.seconds.toFixed(0)} s (moto is a single Python process; 50,000 DynamoDB items by BatchWriteItem are the slowest part) and moto's own S3 request rate bounds sync-objects, the manifest's HeadObject calls and rclone's reads. The data set is the issue's size, not shrunk; \`--quick\` runs a 10x smaller one.`, '');
  }
  lines.push(`Data: ${r.size.recordings} call recordings (${mib(r.size.recordingBytes)}), ${r.size.contactRecords} DynamoDB contact records, CRM with ${r.size.crmCustomers} customers (see row counts below), a Connect configuration fixture. Export bucket \`${r.exportBucket.bucket}\`: Object Lock ${r.exportBucket.mode}, ${r.exportBucket.days} days (from the reference plan).`, '');
  lines.push('## What went where', '', '```mermaid', 'flowchart LR',
    '  subgraph AWS["primary (moto_server)"]', '    REC[(recordings bucket)] -->|sync-objects: CopyObject SHA256| EB', '    DDB[(contact-records table)] -->|ExportTableToPointInTime| EB', '    CRM[(CRM PostgreSQL)] -->|pg_dump -Fc → Upload| EB', '    CON[Connect fixture client] -->|crawler JSON| EB', '    EB[(export bucket<br/>Object Lock)] --> MAN[manifest.json<br/>chained SHA-256]', '  end',
    '  subgraph AZ["Azure counterparty (Azurite)"]', '    BLOB[(exports container)]', '    REC2[verifications/night/attempt.json]', '  end',
    '  EB -->|rclone copy, size+modtime| BLOB', '  BLOB -->|verify: size + SHA-256 + chain| REC2',
    '  subgraph SB["standby PostgreSQL"]', '    CRM2[(crm database)]', '    CP[(counterparty schema:<br/>ddb_contact_records, objects, connect_config)]', '  end',
    '  BLOB -->|restore latest-verified| CRM2', '  BLOB -->|restore| CP', '  BLOB -->|exit-bundle| BUNDLE[local folder]', '```', '');
  lines.push('## Stages', '', '| stage | seconds | detail |', '| --- | ---: | --- |');
  for (const s of r.stages) lines.push(`| ${s.stage} | ${s.seconds.toFixed(1)} | ${(s.detail ?? '').replace(/\|/g, '\\|')} |`);
  lines.push('', '## Checks', '', '| check | result | detail |', '| --- | --- | --- |');
  for (const c of r.checks) lines.push(`| ${c.check} | ${c.ok ? 'ok' : '**FAIL**'} | ${c.detail.replace(/\|/g, '\\|')} |`);
  const t = r.transfer;
  lines.push('', '## Transfer: bytes moved vs bytes changed', '', `- **bytes moved**: ${t.definition.bytesMoved}.`, `- **bytes changed**: ${t.definition.bytesChanged}.`, '',
    '| night | moved | objects moved | changed in export bucket | objects changed | ratio |', '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| 1 (everything new) | ${mib(t.night1.bytesMoved)} | ${t.night1.objectsMoved} | ${mib(t.night1.bytesChanged)} | ${t.night1.objectsChanged} | ${(t.night1.bytesMoved / Math.max(1, t.night1.bytesChanged)).toFixed(3)} |`,
    `| 2 (~1 % changed) | ${mib(t.night2.bytesMoved)} | ${t.night2.objectsMoved} | ${mib(t.night2.bytesChanged)} | ${t.night2.objectsChanged} | **${t.night2.ratio.toFixed(3)}** (target ≤ 1.05) |`, '',
    `Night 2's source change: ${JSON.stringify(t.night2.sourceChange)}. The nightly PostgreSQL dump and DynamoDB export are full exports, so each night adds their whole size to the export bucket; the transfer moves exactly those plus the changed recordings.`, '');
  const b = r.benchmarks;
  lines.push('## Data-path benchmarks', '', '| measure | value |', '| --- | --- |',
    `| verifier object check (FileStore on the exit-bundle folder, ${mib(b.verifier.bytes)}, 2 objects in flight; best of 2) | ${b.verifier.seconds.toFixed(2)} s, ${b.verifier.mibPerSecond.toFixed(0)} MiB/s |`,
    `| \`sha256sum\` on the same files (best of 2, alternating) | ${b.sha256sum.seconds.toFixed(2)} s, ${b.sha256sum.mibPerSecond.toFixed(0)} MiB/s |`,
    `| **verifier / sha256sum throughput** | **${b.verifierVsSha256sum.toFixed(2)}x** (target ≥ 0.8x) |`,
    `| verifier against Azurite (night 2, over HTTP) | ${b.verifierOnAzurite.seconds?.toFixed(2)} s for ${mib(b.verifierOnAzurite.bytes)} |`,
    `| plain \`pg_restore\` of the CRM dump (${mib(b.pgRestorePlain.dumpBytes)}) | ${b.pgRestorePlain.seconds.toFixed(2)} s |`,
    `| restorer's restore step on the same local dump (\`pg_restore -l\`, extensions one by one, \`pg_restore -L --no-owner --exit-on-error\` into an empty database like the plain one, then every TOC table checked) | ${b.restorerPostgres.seconds.toFixed(2)} s |`,
    `| restorer's whole PostgreSQL path from the counterparty (download from Azurite + SHA-256 check + the same restore, into a fresh database as every restore does) | ${b.restorerPostgres.withDownloadSeconds.toFixed(2)} s |`,
    `| **restorer / pg_restore time** | **${b.restoreVsPgRestore.toFixed(2)}x** (target ≤ 1.1x) |`,
    `| exit bundle of night ${b.exitBundle.night} from Azurite | ${b.exitBundle.objects} objects, ${mib(b.exitBundle.bytes)} in ${b.exitBundle.seconds.toFixed(1)} s |`, '');
  const d = r.primaryDark;
  lines.push('## The primary goes dark (night 3)', '', `moto_server was stopped 0.4 s into night 3's export. Night 3 export: ${d.primaryOutcome}. Copy: ${d.copy.result}${d.copy.error ? ` (${d.copy.error})` : ''}. Verify run: ${d.verify ? `${d.verify.result}, judged ${d.verify.judged}; newest verified night ${d.verify.night}, data age ${d.verify.dataAgeHours} h, stale ${d.verify.stale}` : d.verifyError}. Nothing new arriving is never reported as a fresh success: the verify line carries the data age, and the drill then moves its clock past \`rpoHours + alarmGraceHours\`, where the verify line says \`stale: true\` and \`npm run status\` exits 2 (check row "primary dark: counterparty reports stale").`, '',
    `**The standby restored night ${d.restoredNight}**, the last verified night.`, '',
    `- **RPO achieved: ${r.rpo.seconds.toFixed(0)} s** — ${r.rpo.meaning} (manifest created ${d.restoredManifestCreatedAt}). In production the nights are a day apart, so the RPO is up to 24 h plus the copy lag.`,
    `- **RTO achieved: ${r.rto.seconds.toFixed(1)} s** — ${r.rto.meaning}.`, '');
  lines.push('## Restore comparison (night 2)', '');
  const n2 = r.nights.find((n: { label: string }) => n.label === 'night 2');
  if (n2) {
    lines.push('| CRM table | primary rows | standby rows | md5 equal |', '| --- | ---: | ---: | --- |');
    for (const [tname, dg] of Object.entries(n2.comparison.crm.primary as Record<string, { rows: number; md5: string }>)) {
      const s = n2.comparison.crm.standby[tname];
      lines.push(`| ${tname} | ${dg.rows} | ${s?.rows ?? '-'} | ${s?.md5 === dg.md5 ? 'yes' : 'NO'} |`);
    }
    lines.push('', `Contact records: primary ${n2.comparison.contactRecords.primary.items} items, standby ${n2.comparison.contactRecords.standby.items} (digest ${n2.comparison.contactRecords.primary.sha256 === n2.comparison.contactRecords.standby.sha256 ? 'equal' : 'DIFFERENT'}). Recordings: ${n2.comparison.recordings.standby} listed, ${n2.comparison.recordings.mismatched} mismatched. Connect documents: ${n2.comparison.connectDocuments}.`, '');
  }
  lines.push('## Structured log lines', '', '```', ...r.logLines.map((l: string) => (l.length > 400 ? `${l.slice(0, 400)}…` : l)), '```', '');
  return `${lines.join('\n')}\n`;
}

main().catch(async (err: Error) => {
  say(`DRILL ERROR: ${err.message.split('\n')[0]}`);
  if (process.env.CP_DEBUG) process.stderr.write(`${err.stack}\n`);
  await stopAll();
  process.exitCode = 1;
}).finally(() => stopAll());
