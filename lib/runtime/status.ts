/**
 * Freshness (data age) and the `status` answer: "can this counterparty take over right now?".
 * Data age is now − the manifest `createdAt` of the newest verified / restored night, never the time
 * a record was written, so re-verifying an old night never looks fresh. See docs/runtime.md,
 * "Log lines and alert conditions".
 */
import { RuntimeError } from './errors';
import { listNights as listManifestNights, readManifestV2 as readManifest } from './format';
import { latestRestoration, latestVerifiedNight, listAttemptKeys, readHighWater, readRecord, type VerificationRecord } from './records';
import type { ObjectStore } from './stores/types';

export interface FreshnessConfig {
  /** The plan's rpoHours (`CP_RPO_HOURS`). @default 24 */
  readonly rpoHours: number;
  /** The plan's alarmGraceHours (`CP_ALARM_GRACE_HOURS`). @default 6 */
  readonly alarmGraceHours: number;
}

function hoursFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new RuntimeError(`${name} must be a number of hours >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** `CP_RPO_HOURS` and `CP_ALARM_GRACE_HOURS` (set from the plan by the counterparty constructs). */
export function freshnessConfigFromEnv(env: NodeJS.ProcessEnv): FreshnessConfig {
  return { rpoHours: hoursFromEnv(env, 'CP_RPO_HOURS', 24), alarmGraceHours: hoursFromEnv(env, 'CP_ALARM_GRACE_HOURS', 6) };
}

/** "Now": `CP_NOW` (drills and tests move the clock with it), else the clock. */
export function nowFromEnv(env: NodeJS.ProcessEnv): Date {
  if (!env.CP_NOW) return new Date();
  const t = Date.parse(env.CP_NOW);
  if (Number.isNaN(t)) throw new RuntimeError(`CP_NOW is not an ISO time: ${JSON.stringify(env.CP_NOW)}`);
  return new Date(t);
}

export interface Freshness {
  readonly newestVerifiedNight: string | null;
  readonly newestVerifiedAgeHours: number | null;
  readonly newestRestoredNight: string | null;
  readonly newestRestoredAgeHours: number | null;
  readonly newestPendingNight: string | null;
  readonly newestSeenNight: string | null;
  readonly thresholdHours: number;
}

export function ageHours(createdAt: string | null | undefined, now: Date): number | null {
  if (!createdAt) return null;
  const t = Date.parse(createdAt);
  if (Number.isNaN(t)) return null;
  return Math.round(((now.getTime() - t) / 3600_000) * 10) / 10;
}

/** Reads the freshness facts from the records (and the manifests they name). */
export async function readFreshness(store: ObjectStore, recordsStore: ObjectStore, cfg: FreshnessConfig, now: Date): Promise<Freshness> {
  const [verified, restored, highWater, attempts] = await Promise.all([
    latestVerifiedNight(store, recordsStore), latestRestoration(recordsStore), readHighWater(recordsStore), listAttemptKeys(recordsStore),
  ]);
  let pending: string | null = null;
  for (const night of [...attempts.keys()].reverse()) {
    if (verified && night <= verified.night) break;
    const r = await readRecord(recordsStore, night, undefined, attempts.get(night));
    if (r?.result === 'pending') { pending = night; break; }
  }
  return {
    newestVerifiedNight: verified?.night ?? null,
    newestVerifiedAgeHours: ageHours(verified?.manifest.manifest.createdAt, now),
    newestRestoredNight: restored?.night ?? null,
    newestRestoredAgeHours: ageHours(restored?.manifestCreatedAt, now),
    newestPendingNight: pending,
    newestSeenNight: highWater?.night ?? null,
    thresholdHours: cfg.rpoHours + cfg.alarmGraceHours,
  };
}

/** The freshness fields of a result line; `vouches` picks which age is this job's `dataAgeHours`. */
export function freshnessFields(f: Freshness, vouches: 'verified' | 'restored'): Record<string, unknown> {
  const dataAgeHours = vouches === 'verified' ? f.newestVerifiedAgeHours : f.newestRestoredAgeHours;
  return { ...f, dataAgeHours, stale: dataAgeHours === null || dataAgeHours > f.thresholdHours };
}

export interface StatusOptions {
  readonly store: ObjectStore;
  /** @default the store */
  readonly recordsStore?: ObjectStore;
  /** The primary's export bucket, when this side may read it (newest night on the primary, as seen from here). */
  readonly primaryStore?: ObjectStore;
  readonly config: FreshnessConfig;
  /** @default now */
  readonly now?: Date;
  /** Are the application images present on this side? (lib/runtime/mirror.ts provides one.) */
  readonly imagesCheck?: () => Promise<{ readonly present: boolean; readonly detail: string }>;
}

export interface StatusReport extends Freshness {
  readonly ready: boolean;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly newestPrimaryNight: string | null;
  /** Where newestPrimaryNight came from: the primary's bucket, or the newest manifest copied here. */
  readonly primarySeenVia: 'primary' | 'copy';
  readonly newestManifestNight: string | null;
  readonly dataAgeHours: number | null;
  readonly stale: boolean;
  readonly lastFailure: { readonly night: string; readonly at: string; readonly reason: string | null; readonly error: string } | null;
  readonly images: { readonly present: boolean; readonly detail: string } | null;
}

async function lastFailure(recordsStore: ObjectStore): Promise<StatusReport['lastFailure']> {
  const attempts = await listAttemptKeys(recordsStore);
  let best: VerificationRecord | undefined;
  // newest few nights are enough for "the last failure"; every attempt of them is read
  for (const night of [...attempts.keys()].slice(-7)) {
    for (const k of attempts.get(night)!) {
      const r = await readRecord(recordsStore, night, undefined, [k]);
      if (r?.result === 'failure' && (!best || r.verifiedAt > best.verifiedAt)) best = r;
    }
  }
  if (!best) return null;
  return { night: best.night, at: best.verifiedAt, reason: best.reason ?? null, error: best.bad.slice(0, 3).map((b) => `${b.key}: ${b.problem}`).join('; ') };
}

/** Answers "can this counterparty take over now?". `ready` is false on any problem. */
export async function counterpartyStatus(opts: StatusOptions): Promise<StatusReport> {
  const now = opts.now ?? new Date();
  const recordsStore = opts.recordsStore ?? opts.store;
  const f = await readFreshness(opts.store, recordsStore, opts.config, now);
  const fields = freshnessFields(f, 'restored') as { dataAgeHours: number | null; stale: boolean };
  const manifests = await listManifestNights(opts.store);
  const newestManifestNight = manifests.length ? manifests[manifests.length - 1] : null;
  let newestPrimaryNight = newestManifestNight;
  let primarySeenVia: StatusReport['primarySeenVia'] = 'copy';
  const problems: string[] = [];
  const warnings: string[] = [];
  if (opts.primaryStore) {
    try {
      const p = await listManifestNights(opts.primaryStore);
      newestPrimaryNight = p.length ? p[p.length - 1] : null;
      primarySeenVia = 'primary';
    } catch (err) {
      warnings.push(`the primary (${opts.primaryStore.url}) can't be read from here: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (!f.newestRestoredNight) problems.push('nothing has been restored into the standby yet');
  else if (fields.stale) problems.push(`the standby's data is ${fields.dataAgeHours} h old (night ${f.newestRestoredNight}), over rpoHours + alarmGraceHours = ${f.thresholdHours} h`);
  if (!f.newestVerifiedNight) problems.push('no night has been verified on this side');
  if (f.newestSeenNight && (!newestManifestNight || newestManifestNight < f.newestSeenNight)) {
    problems.push(`rollback: night ${f.newestSeenNight} was seen here but its manifest is gone (newest manifest now: ${newestManifestNight ?? 'none'})`);
  }
  if (f.newestVerifiedNight && f.newestRestoredNight && f.newestRestoredNight < f.newestVerifiedNight) {
    warnings.push(`the standby holds night ${f.newestRestoredNight}; night ${f.newestVerifiedNight} is verified but not restored yet`);
  }
  if (f.newestPendingNight) warnings.push(`night ${f.newestPendingNight} is pending (its data is still arriving)`);
  if (newestPrimaryNight && f.newestVerifiedNight && newestPrimaryNight > f.newestVerifiedNight) {
    warnings.push(`the primary's newest night ${newestPrimaryNight} is not verified here yet`);
  }
  const lf = await lastFailure(recordsStore);
  let images: StatusReport['images'] = null;
  if (opts.imagesCheck) {
    try {
      images = await opts.imagesCheck();
    } catch (err) {
      images = { present: false, detail: `image check failed: ${(err as Error).message.split('\n')[0]}` };
    }
    if (!images.present) problems.push(`application images: ${images.detail}`);
  }
  // the createdAt of the newest restored night is read through its record; check that manifest still exists
  if (f.newestRestoredNight) {
    try {
      await readManifest(opts.store, f.newestRestoredNight);
    } catch {
      warnings.push(`the manifest of the restored night ${f.newestRestoredNight} is no longer on this side`);
    }
  }
  return {
    ...f, ...fields, ready: problems.length === 0, problems, warnings, newestPrimaryNight, primarySeenVia, newestManifestNight, lastFailure: lf, images,
  };
}

/** The report for a person at 3 a.m. (stderr); the JSON result line carries the same facts. */
export function formatStatus(r: StatusReport): string {
  const age = (h: number | null): string => (h === null ? '-' : `${h} h old`);
  const lines = [
    `${r.ready ? 'READY' : 'NOT READY'}: ${r.ready ? 'this counterparty can take over now' : 'this counterparty can NOT take over now'}`,
    `  newest night on the primary (${r.primarySeenVia === 'primary' ? 'read from the primary' : 'newest manifest copied here'}): ${r.newestPrimaryNight ?? '-'}`,
    `  newest verified night: ${r.newestVerifiedNight ?? '-'} (${age(r.newestVerifiedAgeHours)})`,
    `  newest restored night: ${r.newestRestoredNight ?? '-'} (${age(r.newestRestoredAgeHours)}); limit ${r.thresholdHours} h (rpoHours + alarmGraceHours)${r.stale ? ' → STALE' : ''}`,
    `  newest pending night: ${r.newestPendingNight ?? '-'}`,
    `  last failure: ${r.lastFailure ? `${r.lastFailure.night} at ${r.lastFailure.at}: ${r.lastFailure.reason ?? ''} ${r.lastFailure.error}`.trim() : 'none'}`,
    `  images: ${r.images ? `${r.images.present ? 'present' : 'MISSING'} (${r.images.detail})` : 'not checked'}`,
    ...r.problems.map((p) => `  problem: ${p}`),
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
  return lines.join('\n');
}
