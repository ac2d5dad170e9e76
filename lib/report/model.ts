/**
 * What the plan and the volumes imply per night, per month and at rest: the
 * quantities every cost line and every recovery phase is computed from.
 *
 * Storage follows export format v2 (docs/runtime.md): recordings are stored
 * once as content-addressed blobs; a rewritten or deleted recording's old blob
 * stays referenced by the retained nights and is pruned `retentionDays` after
 * the last night that referenced it. Nightly exports (DynamoDB, pg_dump,
 * Connect JSON) are written under per-night keys and expire after the retention.
 */
import { parseCron, type DatasetKind, type ResolvedPlan } from '../core';
import type { Volumes } from './volumes';

/** Days in an average month (365 / 12). */
export const DAYS_PER_MONTH = 365 / 12;
/** Hours in an average month (8,760 / 12). */
export const HOURS_PER_MONTH = 730;

export interface Quantities {
  readonly retentionDays: number;
  /** Scheduled nights per year and per average month. */
  readonly nightsPerYear: number;
  readonly nightsPerMonth: number;
  /** Nightly exports kept at a site at any time (retentionDays × nights per day). */
  readonly retainedNights: number;
  readonly scrubCycleNights: number;
  readonly kinds: Readonly<Record<DatasetKind, number>>;
  /** Recordings (all s3Bucket datasets); zero when the plan has none. */
  readonly recordingsGiB: number;
  readonly recordingsObjects: number;
  readonly changedGiBPerMonth: number;
  readonly changedObjectsPerMonth: number;
  readonly changedGiBPerNight: number;
  readonly changedObjectsPerNight: number;
  /** Blobs at rest at each site: current recordings plus superseded ones kept for the retention. */
  readonly storedRecordingsGiB: number;
  readonly storedRecordingObjects: number;
  /** One night's exports: DynamoDB full export + pg_dump + Connect documents (kinds absent from the plan count 0). */
  readonly dynamoDbGiBPerNight: number;
  readonly pgDumpGiBPerNight: number;
  readonly connectGiBPerNight: number;
  readonly exportGiBPerNight: number;
  readonly storedExportsGiB: number;
  /** Everything at rest at one site. */
  readonly storedGiB: number;
  /** Bytes the verifier re-reads per night for the scrub (stored blobs ÷ scrubCycleNights). */
  readonly scrubGiBPerNight: number;
  readonly scrubObjectsPerNight: number;
}

/** How often the plan's cron fires in a (non-leap) year. */
export function nightsPerYear(cronExpression: string): number {
  const cron = parseCron(cronExpression);
  let fired = 0;
  const start = Date.UTC(2026, 0, 1);
  for (let d = 0; d < 365; d++) {
    const day = new Date(start + d * 86_400_000);
    const domOk = cron.dayOfMonth.values.includes(day.getUTCDate());
    const dowOk = cron.dayOfWeek.values.includes(day.getUTCDay());
    const monthOk = cron.month.values.includes(day.getUTCMonth() + 1);
    const dayOk = cron.dayOfMonth.any ? dowOk : cron.dayOfWeek.any ? domOk : domOk || dowOk;
    if (monthOk && dayOk) fired++;
  }
  return fired;
}

function countKinds(plan: ResolvedPlan): Record<DatasetKind, number> {
  const kinds: Record<DatasetKind, number> = { s3Bucket: 0, dynamoDbTable: 0, postgres: 0, connectInstance: 0 };
  for (const d of plan.datasets) kinds[d.kind]++;
  return kinds;
}

export function quantities(plan: ResolvedPlan, v: Volumes): Quantities {
  const retentionDays = v.retentionDays ?? plan.retentionDays;
  const perYear = nightsPerYear(plan.schedule.cron);
  const nightsPerMonth = perYear / 12;
  const retainedNights = retentionDays * (perYear / 365);
  const kinds = countKinds(plan);
  const has = (k: DatasetKind) => (kinds[k] > 0 ? 1 : 0);
  const recordingsGiB = v.recordings.totalGiB * has('s3Bucket');
  const recordingsObjects = v.recordings.objects * has('s3Bucket');
  const changedGiBPerMonth = recordingsGiB * v.dailyChangeRate * DAYS_PER_MONTH;
  const changedObjectsPerMonth = recordingsObjects * v.dailyChangeRate * DAYS_PER_MONTH;
  const storedRecordingsGiB = recordingsGiB * (1 + v.dailyChangeRate * retentionDays);
  const storedRecordingObjects = recordingsObjects * (1 + v.dailyChangeRate * retentionDays);
  const dynamoDbGiBPerNight = v.dynamoDb.totalGiB * has('dynamoDbTable');
  const pgDumpGiBPerNight = v.postgres.dumpGiB * has('postgres');
  const connectGiBPerNight = v.connect.totalGiB * has('connectInstance');
  const exportGiBPerNight = dynamoDbGiBPerNight + pgDumpGiBPerNight + connectGiBPerNight;
  const storedExportsGiB = exportGiBPerNight * retainedNights;
  const scrubCycleNights = plan.verification.scrubCycleNights;
  return {
    retentionDays, nightsPerYear: perYear, nightsPerMonth, retainedNights, scrubCycleNights, kinds,
    recordingsGiB, recordingsObjects, changedGiBPerMonth, changedObjectsPerMonth,
    changedGiBPerNight: perYear > 0 ? changedGiBPerMonth / nightsPerMonth : 0,
    changedObjectsPerNight: perYear > 0 ? changedObjectsPerMonth / nightsPerMonth : 0,
    storedRecordingsGiB, storedRecordingObjects,
    dynamoDbGiBPerNight, pgDumpGiBPerNight, connectGiBPerNight, exportGiBPerNight, storedExportsGiB,
    storedGiB: storedRecordingsGiB + storedExportsGiB,
    scrubGiBPerNight: storedRecordingsGiB / scrubCycleNights,
    scrubObjectsPerNight: storedRecordingObjects / scrubCycleNights,
  };
}
