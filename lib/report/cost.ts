/**
 * Monthly cost per provider and line item, from a resolved plan, the volumes
 * and the dated price table. Pure: no I/O, no cdk/cdktf imports (the synth-time
 * annotation calls it through {@link headlineMonthlyEstimate}).
 */
import { resolvePlan, type ProtectionPlan, type ResolvedPlan } from '../core';
import { DAYS_PER_MONTH, HOURS_PER_MONTH, quantities, type Quantities } from './model';
import { egress, price, priceTable, regionPrices, tieredCost, type PriceEntry, type PriceTable, type Provider, type RegionPrices } from './prices';
import { MEASURED, secondsFor, throughputs, type Throughputs } from './throughputs';
import { referenceVolumes, scaleData, type Volumes } from './volumes';

export type Category = 'storage' | 'requests' | 'egress' | 'export' | 'backup' | 'compute' | 'standby' | 'keys' | 'registry' | 'transfer';

export interface PriceRef {
  readonly key: string;
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  readonly onStoredPage: boolean;
  readonly note?: string;
}

export interface LineItem {
  readonly provider: Provider;
  readonly category: Category;
  readonly item: string;
  /** Rounded to the cent; provider totals are sums of these. */
  readonly monthlyUsd: number;
  /** The computation with its inputs, e.g. `4,420 GiB × $0.0245/GB-month`. */
  readonly formula: string;
  readonly prices: readonly PriceRef[];
  readonly notes: readonly string[];
}

export interface CostEstimate {
  readonly lines: readonly LineItem[];
  readonly perProvider: Readonly<Partial<Record<Provider, number>>>;
  readonly totalUsd: number;
  /** One-time AWS egress of the initial seed of each counterparty (not in the monthly total). */
  readonly initialSeed: { readonly gbPerCounterparty: number; readonly egressUsd: number; readonly formula: string };
  readonly priceTableDate: string;
  readonly regions: readonly RegionPrices[];
  readonly quantities: Quantities;
  readonly warnings: readonly string[];
}

/** Rounds to the cent (half away from zero, tolerant of binary floating point). */
export function cents(usd: number): number {
  return Math.round((usd + Math.sign(usd) * 1e-9) * 100) / 100;
}

export function fmt(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function ref(r: RegionPrices, key: string): PriceRef {
  const p: PriceEntry = price(r, key);
  return { key: `${r.provider}.${r.used}.${key}`, usd: p.usd, unit: p.unit, source: p.source, onStoredPage: p.onStoredPage, ...(p.note ? { note: p.note } : {}) };
}

function line(provider: Provider, category: Category, item: string, usd: number, formula: string, prices: PriceRef[], notes: string[] = []): LineItem {
  return { provider, category, item, monthlyUsd: cents(usd), formula, prices, notes };
}

interface Context {
  readonly plan: ResolvedPlan;
  readonly v: Volumes;
  readonly q: Quantities;
  readonly t: Throughputs;
  readonly counterparties: number;
}

/** Where the stored bytes come from, as a formula fragment shared by every site's storage line. */
function storedFormula(q: Quantities, v: Volumes): string {
  return `(${fmt(q.recordingsGiB)} GiB recordings × (1 + ${v.dailyChangeRate} × ${q.retentionDays} d) + ${fmt(q.exportGiBPerNight)} GiB nightly exports × ${fmt(q.retainedNights)} retained nights) = ${fmt(q.storedGiB)} GiB`;
}

/** The standby database's size: the postgres databases plus the DynamoDB tables loaded as JSONB. */
function standbyDatabaseGiB(c: Context): number {
  return (c.q.kinds.postgres > 0 ? c.v.postgres.databaseGiB : 0) + c.q.dynamoDbGiBPerNight;
}

/** Seconds per night of one verify-and-restore run on a counterparty. */
function verifyAndRestoreSeconds(c: Context): number {
  const verifyGiB = c.q.changedGiBPerNight + c.q.exportGiBPerNight + c.q.scrubGiBPerNight;
  return secondsFor(verifyGiB, c.t.verifyMiBps.value) + secondsFor(c.q.dynamoDbGiBPerNight + c.q.pgDumpGiBPerNight, c.t.restoreMiBps.value);
}

function verifyAndRestoreFormula(c: Context, seconds: number): string {
  return `(${fmt(c.q.changedGiBPerNight + c.q.exportGiBPerNight)} GiB new + ${fmt(c.q.scrubGiBPerNight)} GiB scrub) ÷ ${fmt(c.t.verifyMiBps.value)} MiB/s verify + ${fmt(c.q.dynamoDbGiBPerNight + c.q.pgDumpGiBPerNight)} GiB ÷ ${fmt(c.t.restoreMiBps.value)} MiB/s restore = ${fmt(seconds / 60, 1)} min/night × ${fmt(c.q.nightsPerMonth)} nights`;
}

function awsLines(c: Context, r: RegionPrices): LineItem[] {
  const { q, v } = c;
  const out: LineItem[] = [];
  const s3 = ref(r, 's3StandardGbMonth');
  out.push(line('aws', 'storage', 'Export bucket storage (S3 Standard, Object Lock)', q.storedGiB * s3.usd, `${storedFormula(q, v)} × $${s3.usd}/GB-month`, [s3]));

  const listsPerMonth = (q.recordingsObjects / 1000) * q.nightsPerMonth + (q.storedRecordingObjects / 1000) * q.nightsPerMonth * c.counterparties;
  const puts = q.changedObjectsPerMonth + listsPerMonth;
  // sync-objects reads each new or changed source object once to hash it; each counterparty reads each new blob once.
  const gets = q.changedObjectsPerMonth * (1 + c.counterparties);
  const put = ref(r, 's3PutPer1000');
  const get = ref(r, 's3GetPer1000');
  out.push(line('aws', 'requests', 'S3 requests (copies, listings, counterparty reads)', (puts / 1000) * put.usd + (gets / 1000) * get.usd,
    `(${fmt(q.changedObjectsPerMonth, 0)} copies + ${fmt(listsPerMonth, 0)} LIST pages) ÷ 1,000 × $${put.usd} + ${fmt(gets, 0)} GETs (hashing + counterparty reads) ÷ 1,000 × $${get.usd}`,
    [put, get], ['nightly export objects (tens per night) are not counted']));

  out.push(...egressLines(c, r));

  if (q.kinds.dynamoDbTable > 0) {
    const exp = ref(r, 'dynamoDbExportPerGb');
    const gb = q.dynamoDbGiBPerNight * q.nightsPerMonth;
    out.push(line('aws', 'export', 'DynamoDB export to S3 (full export every night)', gb * exp.usd, `${fmt(q.dynamoDbGiBPerNight)} GiB × ${fmt(q.nightsPerMonth)} nights × $${exp.usd}/GB`, [exp]));
  }
  out.push(...backupLines(c, r));
  out.push(...awsComputeLines(c, r));

  const key = ref(r, 'kmsKeyMonth');
  out.push(line('aws', 'keys', 'KMS keys (export bucket, backup vault, alarm topic)', 3 * key.usd, `3 keys × $${key.usd}/month`, [key],
    ['each of a key\'s first two yearly rotations adds $1/month (KMS pricing page)']));
  const kmsReq = ref(r, 'kmsPer10kRequests');
  const kmsOps = q.changedObjectsPerMonth * (1 + c.counterparties);
  out.push(line('aws', 'keys', 'KMS requests (SSE-KMS on the export bucket)', (kmsOps / 10_000) * kmsReq.usd,
    `${fmt(kmsOps, 0)} object writes and reads ÷ 10,000 × $${kmsReq.usd}`, [kmsReq], ['upper bound: the bucket uses S3 Bucket Keys, which cut KMS requests by up to 99 %']));

  const ecr = ref(r, 'ecrGbMonth');
  const releases = c.plan.images.keepReleases;
  const ecrGiB = v.images.jobsGiB * releases;
  out.push(line('aws', 'registry', 'ECR (jobs image)', ecrGiB * ecr.usd, `${v.images.jobsGiB} GiB × ${releases} releases (plan images.keepReleases) × $${ecr.usd}/GB-month`, [ecr]));
  return out;
}

function egressLines(c: Context, r: RegionPrices): LineItem[] {
  const { q, plan } = c;
  const tiers = egress(r, 'internetEgressTiers');
  const exportsGb = q.exportGiBPerNight * q.nightsPerMonth;
  const totalGb = c.counterparties * (q.changedGiBPerMonth + exportsGb);
  const avg = totalGb > 0 ? tieredCost(tiers.tiers, totalGb) / totalGb : tiers.tiers[0].usd;
  const tierRef: PriceRef = {
    key: `aws.${r.used}.internetEgressTiers`, usd: avg, unit: `GB (average of the tiers over ${fmt(totalGb, 0)} GB/month to all counterparties)`,
    source: tiers.source, onStoredPage: tiers.onStoredPage, ...(tiers.note ? { note: tiers.note } : {}),
  };
  const out: LineItem[] = [];
  const names: [keyof ResolvedPlan['counterparties'], string][] = [['gcp', 'GCP'], ['azure', 'Azure']];
  for (const [cp, label] of names) {
    if (!plan.counterparties[cp]) continue;
    out.push(line('aws', 'egress', `Internet egress to ${label}: recordings`, q.changedGiBPerMonth * avg,
      `${fmt(q.recordingsGiB)} GiB × ${c.v.dailyChangeRate}/day × ${fmt(DAYS_PER_MONTH)} days = ${fmt(q.changedGiBPerMonth)} GB × $${fmt(avg, 5)}/GB`, [tierRef]));
    out.push(line('aws', 'egress', `Internet egress to ${label}: nightly exports`, exportsGb * avg,
      `${fmt(q.exportGiBPerNight)} GiB × ${fmt(q.nightsPerMonth)} nights = ${fmt(exportsGb)} GB × $${fmt(avg, 5)}/GB`, [tierRef],
      ['DynamoDB is exported in full every night (docs/runtime.md), so its whole size crosses every night']));
  }
  return out;
}

function backupLines(c: Context, r: RegionPrices): LineItem[] {
  const { q, v } = c;
  const out: LineItem[] = [];
  if (q.kinds.s3Bucket > 0) {
    const p = ref(r, 'backupS3GbMonth');
    const gb = q.recordingsGiB * (1 + v.dailyChangeRate * q.retentionDays);
    out.push(line('aws', 'backup', 'AWS Backup: S3 recordings', gb * p.usd, `${fmt(q.recordingsGiB)} GiB × (1 + ${v.dailyChangeRate} × ${q.retentionDays} d) × $${p.usd}/GB-month`, [p],
      ['incremental backups; GET requests on the source bucket are billed too and not counted']));
  }
  if (q.kinds.dynamoDbTable > 0) {
    const p = ref(r, 'backupDynamoDbGbMonth');
    const gb = q.dynamoDbGiBPerNight * q.retainedNights;
    out.push(line('aws', 'backup', 'AWS Backup: DynamoDB (a full backup per night)', gb * p.usd, `${fmt(q.dynamoDbGiBPerNight)} GiB × ${fmt(q.retainedNights)} retained × $${p.usd}/GB-month`, [p]));
  }
  if (q.kinds.postgres > 0) {
    const p = ref(r, 'backupAuroraGbMonth');
    const gb = v.postgres.databaseGiB * v.dailyChangeRate * q.retentionDays;
    out.push(line('aws', 'backup', 'AWS Backup: Aurora/RDS snapshots (incremental)', gb * p.usd,
      `${fmt(v.postgres.databaseGiB)} GiB × ${v.dailyChangeRate}/day × ${q.retentionDays} d × $${p.usd}/GB-month`, [p],
      ['the first full copy is taken as covered by the free backup storage (up to the cluster\'s size); the database is assumed to change at dailyChangeRate']));
  }
  return out;
}

function awsComputeLines(c: Context, r: RegionPrices): LineItem[] {
  const { q, v, t } = c;
  const vcpu = ref(r, 'fargateVcpuHour');
  const mem = ref(r, 'fargateGbHour');
  // Per night: stream the source listing, hash the new or changed objects (at the measured SHA-256 stream rate), copy them once.
  const syncSeconds = q.recordingsObjects / t.listKeysPerSecond.value + secondsFor(q.changedGiBPerNight, t.verifyMiBps.value) + q.changedObjectsPerNight / MEASURED.syncObjects.value;
  const dumpSeconds = secondsFor(q.pgDumpGiBPerNight, t.pgDumpMiBps.value);
  // Fargate bills a minimum of one minute per task; one task per dataset per night.
  const syncHours = q.kinds.s3Bucket > 0 ? (q.kinds.s3Bucket * Math.max(60, syncSeconds / q.kinds.s3Bucket)) / 3600 : 0;
  const dumpHours = q.kinds.postgres > 0 ? (q.kinds.postgres * Math.max(60, dumpSeconds / q.kinds.postgres)) / 3600 : 0;
  const fargate = q.nightsPerMonth * (syncHours * (1 * vcpu.usd + 2 * mem.usd) + dumpHours * (1 * vcpu.usd + 4 * mem.usd));
  const out = [line('aws', 'compute', 'Job compute: Fargate (sync-objects 1 vCPU/2 GB, pg_dump 1 vCPU/4 GB)', fargate,
    `(${fmt(syncHours, 3)} h × (1 × $${vcpu.usd} + 2 × $${mem.usd}) + ${fmt(dumpHours, 3)} h × (1 × $${vcpu.usd} + 4 × $${mem.usd})) × ${fmt(q.nightsPerMonth)} nights; sync = ${fmt(q.recordingsObjects, 0)} keys ÷ ${t.listKeysPerSecond.value}/s + ${fmt(q.changedGiBPerNight)} GiB hashed ÷ ${t.verifyMiBps.value} MiB/s + ${fmt(q.changedObjectsPerNight, 0)} copies ÷ ${MEASURED.syncObjects.value}/s; dump = ${fmt(q.pgDumpGiBPerNight)} GiB ÷ ${t.pgDumpMiBps.value} MiB/s`,
    [vcpu, mem], [`copy rate: ${MEASURED.syncObjects.source} (${MEASURED.syncObjects.note}); listing and dump rates are assumptions (volumes.assumptions)`])];

  const gbs = ref(r, 'lambdaGbSecond');
  const reqs = ref(r, 'lambdaPerMillionRequests');
  const connectSeconds = q.kinds.connectInstance > 0 ? v.connect.documents * v.assumptions.connectSecondsPerDocument : 0;
  const manifestSeconds = (q.changedObjectsPerNight / 1000) * v.assumptions.manifestSecondsPer1000Objects + 1;
  const gbSeconds = connectSeconds * 0.5 + manifestSeconds * 1;
  const invocations = q.kinds.connectInstance + 1;
  out.push(line('aws', 'compute', 'Job compute: Lambda (Connect crawler 512 MB, manifest builder 1 GB)',
    q.nightsPerMonth * (gbSeconds * gbs.usd + (invocations / 1e6) * reqs.usd),
    `(${fmt(connectSeconds, 0)} s × 0.5 GB + ${fmt(manifestSeconds, 0)} s × 1 GB) × $${gbs.usd}/GB-s + ${invocations} invocations × $${reqs.usd}/M, × ${fmt(q.nightsPerMonth)} nights`,
    [gbs, reqs], ['durations from volumes.assumptions.connectSecondsPerDocument and manifestSecondsPer1000Objects']));
  return out;
}

function gcpLines(c: Context, r: RegionPrices): LineItem[] {
  const { q, v, plan } = c;
  const out: LineItem[] = [];
  const gcs = ref(r, 'gcsStandardGbMonth');
  out.push(line('gcp', 'storage', 'Vault bucket storage (GCS Standard, retention policy)', q.storedGiB * gcs.usd, `${storedFormula(q, v)} × $${gcs.usd}/GB-month`, [gcs]));
  const classA = ref(r, 'gcsClassAPer1000');
  const classB = ref(r, 'gcsClassBPer1000');
  const writes = q.changedObjectsPerMonth + (q.storedRecordingObjects / 1000) * q.nightsPerMonth;
  const reads = q.changedObjectsPerMonth + q.scrubObjectsPerNight * q.nightsPerMonth;
  out.push(line('gcp', 'requests', 'GCS operations (transfer writes and listings; verifier reads and scrub)', (writes / 1000) * classA.usd + (reads / 1000) * classB.usd,
    `${fmt(writes, 0)} Class A ÷ 1,000 × $${classA.usd} + ${fmt(reads, 0)} Class B ÷ 1,000 × $${classB.usd}`, [classA, classB]));
  const sts = ref(r, 'storageTransferPerGb');
  const transferGb = q.changedGiBPerMonth + q.exportGiBPerNight * q.nightsPerMonth;
  out.push(line('gcp', 'transfer', 'Storage Transfer Service (agentless, from S3)', transferGb * sts.usd, `${fmt(transferGb)} GB × $${sts.usd}/GB`, [sts]));

  const vcpu = ref(r, 'cloudRunJobVcpuSecond');
  const gib = ref(r, 'cloudRunJobGibSecond');
  const seconds = verifyAndRestoreSeconds(c);
  out.push(line('gcp', 'compute', 'Job compute: Cloud Run job verify-and-restore (1 vCPU, 2 GiB)', q.nightsPerMonth * seconds * (1 * vcpu.usd + 2 * gib.usd),
    `${verifyAndRestoreFormula(c, seconds)} × (1 × $${vcpu.usd} + 2 × $${gib.usd}) per second`, [vcpu, gib], throughputNotes(c)));

  const sqlCpu = ref(r, 'cloudSqlVcpuHour');
  const sqlMem = ref(r, 'cloudSqlGbHour');
  out.push(line('gcp', 'standby', 'Standby at rest: Cloud SQL db-custom-1-3840 (1 vCPU, 3.75 GB, zonal)', HOURS_PER_MONTH * (1 * sqlCpu.usd + 3.75 * sqlMem.usd),
    `${HOURS_PER_MONTH} h × (1 × $${sqlCpu.usd} + 3.75 × $${sqlMem.usd})`, [sqlCpu, sqlMem], ['tier: the GcpStandby construct default (lib/gcp/standby.ts `tier`)']));
  const ssd = ref(r, 'cloudSqlSsdGbMonth');
  const diskGiB = Math.max(10, standbyDatabaseGiB(c));
  out.push(line('gcp', 'standby', 'Standby at rest: Cloud SQL SSD', diskGiB * ssd.usd,
    `max(10, ${fmt(standbyDatabaseGiB(c))} GiB postgres + DynamoDB tables) = ${fmt(diskGiB)} GiB × $${ssd.usd}/GB-month`, [ssd],
    ['the standby\'s own 14 retained Cloud SQL backups are not counted']));
  out.push(appLine(c, 'gcp', plan.counterparties.gcp?.mode ?? 'standby', 'Cloud Run service', ref(r, 'cloudRunAlwaysOnVcpuSecond'), gib));

  const keyVersion = ref(r, 'cloudKmsKeyVersionMonth');
  out.push(line('gcp', 'keys', 'Cloud KMS key (CMEK for bucket, database, registry)', keyVersion.usd, `1 active key version × $${keyVersion.usd}/month`, [keyVersion],
    ['every rotation adds an active version: the line grows by $0.06/month per rotation until old versions are destroyed']));
  const ops = ref(r, 'cloudKmsPer10kOps');
  out.push(line('gcp', 'keys', 'Cloud KMS operations', ((writes + reads) / 10_000) * ops.usd, `${fmt(writes + reads, 0)} object operations ÷ 10,000 × $${ops.usd}`, [ops],
    ['upper bound: one operation per object written or read']));
  const ar = ref(r, 'artifactRegistryGbMonth');
  const arGiB = (v.images.jobsGiB + v.images.applicationGiB) * plan.images.keepReleases;
  out.push(line('gcp', 'registry', 'Artifact Registry (jobs and application images)', Math.max(0, arGiB - 0.5) * ar.usd,
    `(${fmt(arGiB)} GiB − 0.5 GiB free) × $${ar.usd}/GB-month`, [ar]));
  return out;
}

function azureLines(c: Context, r: RegionPrices): LineItem[] {
  const { q, v, t, plan } = c;
  const out: LineItem[] = [];
  const blob = ref(r, 'blobHotLrsGbMonth');
  out.push(line('azure', 'storage', 'Vault container storage (Blob Hot LRS, version-level immutability)', q.storedGiB * blob.usd, `${storedFormula(q, v)} × $${blob.usd}/GB-month`, [blob]));
  const write = ref(r, 'blobWritePer10k');
  const read = ref(r, 'blobReadPer10k');
  const writes = q.changedObjectsPerMonth + (q.storedRecordingObjects / 5000) * q.nightsPerMonth;
  const reads = q.changedObjectsPerMonth + q.scrubObjectsPerNight * q.nightsPerMonth;
  out.push(line('azure', 'requests', 'Blob operations (copy writes and listings; verifier reads and scrub)', (writes / 10_000) * write.usd + (reads / 10_000) * read.usd,
    `${fmt(writes, 0)} writes ÷ 10,000 × $${write.usd} + ${fmt(reads, 0)} reads ÷ 10,000 × $${read.usd}`, [write, read]));

  const vcpu = ref(r, 'containerAppsVcpuSecond');
  const gib = ref(r, 'containerAppsGibSecond');
  const copySeconds = q.storedRecordingObjects / t.listKeysPerSecond.value + secondsFor(q.changedGiBPerNight + q.exportGiBPerNight, t.azureCopyMiBps.value);
  const perSecond = 1 * vcpu.usd + 2 * gib.usd;
  out.push(line('azure', 'compute', 'Job compute: Container Apps job copy (1 vCPU, 2 GiB)', q.nightsPerMonth * copySeconds * perSecond,
    `(${fmt(q.storedRecordingObjects, 0)} keys ÷ ${t.listKeysPerSecond.value}/s + ${fmt(q.changedGiBPerNight + q.exportGiBPerNight)} GiB ÷ ${fmt(t.azureCopyMiBps.value)} MiB/s) = ${fmt(copySeconds / 60, 1)} min/night × ${fmt(q.nightsPerMonth)} nights × (1 × $${vcpu.usd} + 2 × $${gib.usd}) per second`,
    [vcpu, gib], [`copy rate: ${t.azureCopyMiBps.source}`]));
  const seconds = verifyAndRestoreSeconds(c);
  out.push(line('azure', 'compute', 'Job compute: Container Apps job verify-and-restore (1 vCPU, 2 GiB)', q.nightsPerMonth * seconds * perSecond,
    `${verifyAndRestoreFormula(c, seconds)} × (1 × $${vcpu.usd} + 2 × $${gib.usd}) per second`, [vcpu, gib], throughputNotes(c)));

  const server = ref(r, 'flexibleServerB1msHour');
  out.push(line('azure', 'standby', 'Standby at rest: PostgreSQL Flexible Server B_Standard_B1ms', HOURS_PER_MONTH * server.usd, `${HOURS_PER_MONTH} h × $${server.usd}/h`, [server],
    ['SKU: the AzureStandby construct default (lib/azure/standby.ts `skuName`)']));
  const storage = ref(r, 'flexibleServerStorageGbMonth');
  const diskGiB = Math.max(32, standbyDatabaseGiB(c));
  out.push(line('azure', 'standby', 'Standby at rest: Flexible Server storage', diskGiB * storage.usd,
    `max(32, ${fmt(standbyDatabaseGiB(c))} GiB postgres + DynamoDB tables) = ${fmt(diskGiB)} GiB × $${storage.usd}/GB-month`, [storage]));
  out.push(appLine(c, 'azure', plan.counterparties.azure?.mode ?? 'standby', 'Container App', vcpu, gib));

  const kv = ref(r, 'keyVaultAdvancedKeyPer10kOps');
  const kvOps = 2 * HOURS_PER_MONTH;
  out.push(line('azure', 'keys', 'Key Vault operations (RSA 3072 CMK)', (kvOps / 10_000) * kv.usd, `${fmt(kvOps, 0)} operations ÷ 10,000 × $${kv.usd}`, [kv],
    ['assumption: storage account and PostgreSQL each unwrap the key about once an hour; software keys in a Standard vault have no monthly fee']));
  const acr = ref(r, 'acrStandardDay');
  out.push(line('azure', 'registry', 'Container Registry (Standard, 100 GiB included)', DAYS_PER_MONTH * acr.usd, `${fmt(DAYS_PER_MONTH)} days × $${acr.usd}/day`, [acr],
    [`images: ${fmt((v.images.jobsGiB + v.images.applicationGiB) * plan.images.keepReleases)} GiB, within the included storage`]));
  return out;
}

/** The application container: at zero in standby (no charge), one instance always on when active. */
function appLine(c: Context, provider: Provider, mode: string, what: string, vcpu: PriceRef, gib: PriceRef): LineItem {
  if (mode !== 'active') {
    return line(provider, 'standby', `Standby at rest: ${what} (application) at zero`, 0, 'minimum instances 0 while the counterparty is a standby: no charge at rest', [vcpu, gib]);
  }
  const seconds = HOURS_PER_MONTH * 3600;
  return line(provider, 'standby', `Active: ${what} (application), one instance always on (1 vCPU, 2 GiB)`, seconds * (vcpu.usd + 2 * gib.usd),
    `${fmt(seconds, 0)} s × (1 × $${vcpu.usd} + 2 × $${gib.usd})`, [vcpu, gib], ['the counterparty\'s mode is active: it serves the application']);
}

function throughputNotes(c: Context): string[] {
  return [`verify rate: ${c.t.verifyMiBps.source}`, `restore rate: ${c.t.restoreMiBps.source} (${c.t.restoreMiBps.note ?? ''})`];
}

function initialSeed(c: Context, r: RegionPrices): CostEstimate['initialSeed'] {
  const gb = c.q.recordingsGiB + c.q.exportGiBPerNight;
  const tiers = egress(r, 'internetEgressTiers').tiers;
  const usd = cents(tieredCost(tiers, gb * c.counterparties));
  return { gbPerCounterparty: gb, egressUsd: usd, formula: `${fmt(gb)} GB (recordings + one night's exports) × ${c.counterparties} counterpart${c.counterparties === 1 ? "y" : "ies"} at the tiered egress rate` };
}

/** The full estimate for an already resolved plan. */
export function estimateResolved(plan: ResolvedPlan, volumes: Volumes = referenceVolumes, prices: PriceTable = priceTable): CostEstimate {
  const q = quantities(plan, volumes);
  const counterparties = (plan.counterparties.gcp ? 1 : 0) + (plan.counterparties.azure ? 1 : 0);
  const c: Context = { plan, v: volumes, q, t: throughputs(volumes), counterparties };
  const aws = regionPrices(prices, 'aws', plan.primary.region);
  const regions: RegionPrices[] = [aws];
  const lines = awsLines(c, aws);
  if (plan.counterparties.gcp) {
    const gcp = regionPrices(prices, 'gcp', plan.counterparties.gcp.region);
    regions.push(gcp);
    lines.push(...gcpLines(c, gcp));
  }
  if (plan.counterparties.azure) {
    const azure = regionPrices(prices, 'azure', plan.counterparties.azure.location);
    regions.push(azure);
    lines.push(...azureLines(c, azure));
  }
  const perProvider: Partial<Record<Provider, number>> = {};
  for (const l of lines) perProvider[l.provider] = cents((perProvider[l.provider] ?? 0) + l.monthlyUsd);
  const totalUsd = cents(Object.values(perProvider).reduce((a, b) => a + (b ?? 0), 0));
  const warnings = regions.filter((r) => r.used !== r.requested)
    .map((r) => `The price table has no ${r.provider} prices for ${r.requested}; ${r.used}'s were used. Add ${r.requested} to lib/report/price-table.json for an estimate in that region.`);
  const absent = (['s3Bucket', 'dynamoDbTable', 'postgres', 'connectInstance'] as const).filter((k) => q.kinds[k] === 0);
  if (absent.length > 0) warnings.push(`The plan has no ${absent.join(', ')} dataset: the matching volumes are ignored.`);
  return { lines, perProvider, totalUsd, initialSeed: initialSeed(c, aws), priceTableDate: prices.date, regions, quantities: q, warnings };
}

export interface Sensitivity {
  readonly label: string;
  readonly totalUsd: number;
  readonly perProvider: Readonly<Partial<Record<Provider, number>>>;
  /** Relative to the base estimate, e.g. 1.8 = +80 %. */
  readonly ratio: number;
}

/** The estimate again at 2× data and at 2× change rate. */
export function sensitivity(plan: ResolvedPlan, volumes: Volumes, prices: PriceTable, base: CostEstimate): Sensitivity[] {
  const variants: [string, Volumes][] = [
    ['2× data (recordings, DynamoDB, PostgreSQL, Connect)', scaleData(volumes, 2)],
    ['2× daily change rate', { ...volumes, dailyChangeRate: Math.min(1, volumes.dailyChangeRate * 2) }],
  ];
  return variants.map(([label, v]) => {
    const e = estimateResolved(plan, v, prices);
    return { label, totalUsd: e.totalUsd, perProvider: e.perProvider, ratio: base.totalUsd > 0 ? e.totalUsd / base.totalUsd : 1 };
  });
}

export interface HeadlineEstimate {
  readonly totalUsd: number;
  readonly perProvider: Readonly<Partial<Record<Provider, number>>>;
  /** One line for a synth-time annotation. */
  readonly text: string;
  /** The same, for one provider's stack (e.g. the AWS primary's, or the GCP counterparty's). */
  readonly perProviderText: Readonly<Partial<Record<Provider, string>>>;
}

const PROVIDER_LABEL: Record<Provider, string> = { aws: 'AWS', gcp: 'GCP', azure: 'Azure' };

function usd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * The plan's headline monthly estimate: total, per provider, and one line of
 * text. Pure and fast (no file I/O beyond the bundled price table), for
 * synth-time annotations on PrimarySite and the counterparty stacks.
 */
export function headlineMonthlyEstimate(plan: ProtectionPlan, volumes?: Volumes, prices: PriceTable = priceTable): HeadlineEstimate {
  const e = estimateResolved(resolvePlan(plan), volumes ?? referenceVolumes, prices);
  const at = volumes ? 'at the given volumes' : 'at the reference volumes (lib/report/reference-volumes.json)';
  const parts = (Object.keys(e.perProvider) as Provider[]).map((p) => `${PROVIDER_LABEL[p]} ${usd(e.perProvider[p] ?? 0)}`);
  const tail = `${at}, list prices of ${prices.date}; \`npm run plan-report\` shows the line items`;
  const perProviderText: Partial<Record<Provider, string>> = {};
  for (const p of Object.keys(e.perProvider) as Provider[]) {
    perProviderText[p] = `Counterparty estimate for ${PROVIDER_LABEL[p]}: ${usd(e.perProvider[p] ?? 0)}/month of ${usd(e.totalUsd)}/month for the whole plan, ${tail}.`;
  }
  return { totalUsd: e.totalUsd, perProvider: e.perProvider, text: `Counterparty estimate: ${usd(e.totalUsd)}/month (${parts.join(', ')}) ${tail}.`, perProviderText };
}
