/**
 * The immutable vault: a GCS bucket in the plan's region that holds the
 * nightly copies under the counterparty's own key, with a bucket retention
 * policy equal to the plan's retention. Locking that policy is irreversible
 * and happens only with the plan's explicit opt-in.
 *
 * Object Versioning is deliberately OFF: Cloud Storage does not allow a bucket
 * retention policy and Object Versioning on the same bucket (see docs/gcp.md,
 * "Versioning vs retention"). The retention policy already refuses deleting or
 * replacing any object younger than the retention period, and the soft-delete
 * policy keeps deleted objects restorable for a further window.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { LIMITS } from '../core/plan';
import * as naming from '../core/naming';
import { allowedRegions, regionAllowed } from '../core/residency';
import { invalid, STATEFUL } from './common';

/** Extra days `nights/` is kept past retention: {@link naming.NIGHTS_EXPIRY_EXTRA_DAYS} (every site uses the same). */
export const NIGHTS_EXTRA_DAYS = naming.NIGHTS_EXPIRY_EXTRA_DAYS;

/** GCS soft-delete retention bounds, in days (0 disables, which we refuse). */
export const GCS_SOFT_DELETE_DAYS = { min: 7, max: 90 } as const;

export interface ImmutableVaultBucketProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The bucket name (use `naming.gcsVaultBucketName(plan, projectId)`). */
  readonly bucketName: string;
  /** The bucket's location: a region (must pass `residency` when given). */
  readonly location: string;
  /** Retention of every object, in days: objects can't be deleted or replaced before. */
  readonly retentionDays: number;
  /**
   * Lock the retention policy (`isLocked`). IRREVERSIBLE: the policy can then only be lengthened,
   * and the bucket can't be deleted until every object has aged out.
   * @default false
   */
  readonly lock?: boolean;
  /**
   * Explicit opt-in to `lock`; must be `true` when `lock` is.
   * @default false
   */
  readonly acknowledgeLockIsIrreversible?: boolean;
  /** The Cloud KMS key ID used as the bucket's default key (CMEK). */
  readonly kmsKeyName: string;
  /**
   * The IAM grants that let the Cloud Storage service agent use the key; the bucket depends on them.
   * @default []
   */
  readonly kmsGrants?: ITerraformDependable[];
  /**
   * Data-residency constraint (jurisdictions such as `eu` and/or region names); the location must pass it.
   * @default - no constraint
   */
  readonly residency?: readonly string[];
  /**
   * How long deleted objects stay restorable (soft delete), in days (7-90).
   * @default 7
   */
  readonly softDeleteDays?: number;
  /**
   * Key prefixes whose objects the lifecycle deletes a day after the retention period; `nights/`
   * among them is kept {@link NIGHTS_EXTRA_DAYS} days longer (its own rule), so that every retained
   * night keeps the checkpoint its view is built from. Blobs (`blobs/sha256/`) are never expired by
   * the lifecycle: only the prune job deletes them, once no retained night references them.
   * @default ['nights/', 'verifications/']
   */
  readonly expirePrefixes?: readonly string[];
  /**
   * Labels. `system` and `datasets` (the dataset names, joined by `_`) are added when given.
   * @default {}
   */
  readonly labels?: Record<string, string>;
  /**
   * The system name, added as the `system` label.
   * @default - no system label
   */
  readonly system?: string;
  /**
   * The dataset names, added as the `datasets` label.
   * @default - no datasets label
   */
  readonly datasets?: readonly string[];
}

/** A CMEK, UBLA, public-access-prevented GCS bucket with a (lockable) retention policy, soft delete and expiry. */
export class ImmutableVaultBucket extends Construct {
  public readonly bucket: StorageBucket;
  public readonly bucketName: string;
  /** `gs://<bucket>`: the jobs' `CP_STORE`. */
  public readonly storeUrl: string;

  constructor(scope: Construct, id: string, props: ImmutableVaultBucketProps) {
    super(scope, id);
    const violation = naming.nameRuleViolation(props.bucketName, naming.NAME_RULES.gcsBucket);
    if (violation) {
      invalid(this, 'bucketName', props.bucketName, `is invalid: ${violation}.`, 'shorten the system name or the project ID; the vault bucket is "<system>-vault-<projectId>".');
    }
    if (props.residency && !regionAllowed('gcp', props.location, props.residency)) {
      invalid(this, 'location', props.location, `is outside the residency (${props.residency.join(', ')}).`,
        `use one of: ${allowedRegions('gcp', props.residency).join(', ')}; or widen residency if the data may live there.`);
    }
    const days = props.retentionDays;
    if (!Number.isInteger(days) || days < 1) {
      invalid(this, 'retentionDays', days, 'must be a whole number of days, at least 1.', 'give the plan\'s retentionDays, e.g. 35.');
    }
    const retentionSeconds = days * 86_400;
    if (retentionSeconds > LIMITS.gcsMaxRetentionSeconds) {
      invalid(this, 'retentionDays', days, `is ${retentionSeconds} s, over the GCS retention maximum of ${LIMITS.gcsMaxRetentionSeconds} s.`,
        `give at most ${Math.floor(LIMITS.gcsMaxRetentionSeconds / 86_400)} days.`);
    }
    const lock = props.lock ?? false;
    if (lock && props.acknowledgeLockIsIrreversible !== true) {
      invalid(this, 'lock', lock, 'locks the retention policy irreversibly (it can then never be shortened or removed, and the bucket can\'t be deleted until every object ages out), and was not opted into.',
        'set acknowledgeLockIsIrreversible: true (plan: immutability.acknowledgeLockIsIrreversible) after reading docs/gcp.md "Two-step lock", or leave lock false.');
    }
    const softDeleteDays = props.softDeleteDays ?? GCS_SOFT_DELETE_DAYS.min;
    if (!Number.isInteger(softDeleteDays) || softDeleteDays < GCS_SOFT_DELETE_DAYS.min || softDeleteDays > GCS_SOFT_DELETE_DAYS.max) {
      invalid(this, 'softDeleteDays', softDeleteDays, `is not a whole number of days from ${GCS_SOFT_DELETE_DAYS.min} to ${GCS_SOFT_DELETE_DAYS.max}.`, 'give e.g. 7.');
    }
    const labels: Record<string, string> = { ...(props.labels ?? {}) };
    if (props.system) labels.system = props.system;
    if (props.datasets && props.datasets.length > 0) labels.datasets = props.datasets.join('_').slice(0, 63);
    const expirePrefixes = props.expirePrefixes ?? [naming.NIGHTS_PREFIX, naming.VERIFICATIONS_PREFIX];

    this.bucketName = props.bucketName;
    this.storeUrl = `gs://${props.bucketName}`;
    this.bucket = new StorageBucket(this, 'Bucket', {
      project: props.projectId,
      name: props.bucketName,
      location: props.location,
      storageClass: 'STANDARD',
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: false,
      encryption: { defaultKmsKeyName: props.kmsKeyName },
      retentionPolicy: { retentionPeriod: retentionSeconds, isLocked: lock },
      softDeletePolicy: { retentionDurationSeconds: softDeleteDays * 86_400 },
      versioning: { enabled: false },
      lifecycleRule: expiryRules(expirePrefixes, days),
      labels,
      dependsOn: props.kmsGrants,
      lifecycle: STATEFUL,
    });
  }
}

/** Lifecycle delete rules: a day past retention (the retention policy refuses earlier deletes anyway); `nights/` {@link NIGHTS_EXTRA_DAYS} days later. */
function expiryRules(prefixes: readonly string[], days: number): { action: { type: string }; condition: { age: number; matchesPrefix: string[] } }[] | undefined {
  const rule = (age: number, matchesPrefix: string[]) => ({ action: { type: 'Delete' }, condition: { age, matchesPrefix } });
  const nights = prefixes.filter((p) => p === naming.NIGHTS_PREFIX);
  const others = prefixes.filter((p) => p !== naming.NIGHTS_PREFIX);
  const rules = [...(others.length ? [rule(days + 1, others)] : []), ...(nights.length ? [rule(days + 1 + NIGHTS_EXTRA_DAYS, nights)] : [])];
  return rules.length ? rules : undefined;
}
