/**
 * The volumes a cost and recovery estimate is computed from: how much data the
 * plan protects and how fast it changes. The plan says *what* is protected;
 * only the operator knows *how much* of it there is.
 */
import referenceVolumesJson from './reference-volumes.json';

export interface Volumes {
  /** All `s3Bucket` datasets together (call recordings, transcripts). */
  readonly recordings: { readonly objects: number; readonly totalGiB: number };
  /** Fraction of the recordings' bytes (and objects) that is new or rewritten per day, e.g. 0.005 = 0.5 %. */
  readonly dailyChangeRate: number;
  /** All `dynamoDbTable` datasets together: table size, which is what a full export and a backup hold. */
  readonly dynamoDb: { readonly totalGiB: number };
  /** All `postgres` datasets together: the nightly `pg_dump -Fc` size, and the database size on disk. */
  readonly postgres: { readonly dumpGiB: number; readonly databaseGiB: number };
  /** All `connectInstance` datasets together: JSON documents and prompt audio written per night. */
  readonly connect: { readonly documents: number; readonly totalGiB: number };
  /** Sizes of the jobs image and the application image (how many releases are kept is the plan's `images.keepReleases`). */
  readonly images: { readonly jobsGiB: number; readonly applicationGiB: number };
  /** Retention to price, in days. `null`: the plan's `retentionDays`. */
  readonly retentionDays: number | null;
  /** Figures that are not measured here; each is printed next to what it drives. */
  readonly assumptions: {
    /** Sustained internet throughput from AWS to one counterparty. */
    readonly networkMiBps: number;
    /** `pg_dump -Fc` output rate. */
    readonly pgDumpMiBps: number;
    /** Keys listed per second by a streaming ListObjectsV2 / list-blobs pass. */
    readonly listKeysPerSecond: number;
    /** Connect crawler time per document (List/Describe calls under throttling). */
    readonly connectSecondsPerDocument: number;
    /** Manifest/index builder time per 1,000 changed objects. */
    readonly manifestSecondsPer1000Objects: number;
    /** Switching a counterparty to `active` (deploy with `mode: 'active'`) and the first instance serving. */
    readonly startStandbyMinutes: number;
  };
}

export class VolumesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumesError';
  }
}

const NUMBER_FIELDS: readonly string[] = [
  'recordings.objects', 'recordings.totalGiB', 'dailyChangeRate', 'dynamoDb.totalGiB', 'postgres.dumpGiB', 'postgres.databaseGiB',
  'connect.documents', 'connect.totalGiB', 'images.jobsGiB', 'images.applicationGiB',
  'assumptions.networkMiBps', 'assumptions.pgDumpMiBps', 'assumptions.listKeysPerSecond', 'assumptions.connectSecondsPerDocument',
  'assumptions.manifestSecondsPer1000Objects', 'assumptions.startStandbyMinutes',
];

/** Throughputs must be positive: a zero would divide by zero in the recovery estimate. */
const POSITIVE_FIELDS = new Set(['assumptions.networkMiBps', 'assumptions.pgDumpMiBps', 'assumptions.listKeysPerSecond']);

function read(input: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), input);
}

/**
 * Checks a parsed volumes document and returns it typed. Every problem is
 * reported at once, each naming the field, the value and the fix.
 */
export function validateVolumes(input: unknown, origin = 'volumes'): Volumes {
  const problems: string[] = [];
  for (const field of NUMBER_FIELDS) {
    const value = read(input, field);
    const positive = POSITIVE_FIELDS.has(field);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      problems.push(`${field} is ${JSON.stringify(value)}; give a ${positive ? 'positive' : 'non-negative'} number`);
    }
  }
  const rate = read(input, 'dailyChangeRate');
  if (typeof rate === 'number' && rate > 1) problems.push(`dailyChangeRate is ${rate}; give a fraction from 0 to 1 (0.005 = 0.5 % a day)`);
  const retention = read(input, 'retentionDays');
  if (retention !== null && retention !== undefined && !(typeof retention === 'number' && Number.isInteger(retention) && retention >= 1)) {
    problems.push(`retentionDays is ${JSON.stringify(retention)}; give a whole number of days, or null for the plan's retentionDays`);
  }
  if (problems.length > 0) throw new VolumesError(`${origin}: ${problems.join('; ')}. See docs/plan-report.md "Volumes".`);
  const volumes = input as Volumes;
  return { ...volumes, retentionDays: volumes.retentionDays ?? null };
}

/** The same volumes with every data size (and object count) multiplied by `factor`. */
export function scaleData(v: Volumes, factor: number): Volumes {
  return {
    ...v,
    recordings: { objects: v.recordings.objects * factor, totalGiB: v.recordings.totalGiB * factor },
    dynamoDb: { totalGiB: v.dynamoDb.totalGiB * factor },
    postgres: { dumpGiB: v.postgres.dumpGiB * factor, databaseGiB: v.postgres.databaseGiB * factor },
    connect: { documents: v.connect.documents * factor, totalGiB: v.connect.totalGiB * factor },
  };
}

/** The documented reference volumes (lib/report/reference-volumes.json). */
export const referenceVolumes: Volumes = validateVolumes(referenceVolumesJson, 'lib/report/reference-volumes.json');
