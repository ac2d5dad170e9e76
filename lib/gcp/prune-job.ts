/**
 * The nightly prune of the vault: a Cloud Run job running the jobs CLI's `prune` command (format v2,
 * lib/runtime/prune.ts: `CP_STORE`, `CP_PRUNE_DRY_RUN`), which deletes blobs that no night present in the
 * vault references once their retention has expired. Its service account can read the vault and delete objects under `blobs/sha256/` only
 * (a custom role with `storage.objects.delete` alone, under an IAM condition); it can't create or
 * overwrite anything, and the bucket's retention policy refuses any delete before retention anyway.
 */
import { Construct } from 'constructs';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import * as naming from '../core/naming';
import { invalid } from './common';
import { ScheduledJob } from './scheduled-job';

/** The jobs CLI command this job runs. */
export const PRUNE_COMMAND = 'prune';

export interface PruneJobProps {
  readonly projectId: string;
  readonly region: string;
  /** The Cloud Run job name (use `naming.gcpResourceName(plan, 'prune')`). */
  readonly jobName: string;
  /** The jobs image, by digest, in this project's Artifact Registry. */
  readonly image: string;
  /** The vault bucket (`CP_STORE=gs://<bucket>`). */
  readonly vaultBucketName: string;
  /** The dedicated service account's ID (use `naming.gcpServiceAccountId(plan, 'prune')`). */
  readonly serviceAccountId: string;
  /** The custom role's ID (letters, digits, `_`, `.`; use `<system>_prune_delete` with `-` replaced). */
  readonly deleteRoleId: string;
  /** Nightly, as a UTC 5-field cron. */
  readonly scheduleCronUtc: string;
  /**
   * Report only: list what would be deleted and delete nothing (`CP_PRUNE_DRY_RUN=true`).
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Labels of the job.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** The `prune` Cloud Run job, its least-privilege service account and its nightly schedule. */
export class PruneJob extends Construct {
  public readonly serviceAccount: ServiceAccount;
  public readonly scheduled: ScheduledJob;

  constructor(scope: Construct, id: string, props: PruneJobProps) {
    super(scope, id);
    const violation = naming.nameRuleViolation(props.serviceAccountId, naming.NAME_RULES.gcpServiceAccountId);
    if (violation) invalid(this, 'serviceAccountId', props.serviceAccountId, `is invalid: ${violation}.`, 'use naming.gcpServiceAccountId(plan, "prune") with a shorter system name.');
    if (!/^[A-Za-z0-9_.]{3,64}$/.test(props.deleteRoleId)) invalid(this, 'deleteRoleId', props.deleteRoleId, 'is not a custom role ID.', 'use 3-64 letters, digits, underscores and periods.');

    this.serviceAccount = new ServiceAccount(this, 'ServiceAccount', {
      project: props.projectId,
      accountId: props.serviceAccountId,
      displayName: `Counterparty prune (${props.jobName})`,
      description: 'Reads the vault; deletes unreferenced blobs under blobs/sha256/ only, never before retention.',
    });
    const member = this.serviceAccount.member;
    const role = new ProjectIamCustomRole(this, 'DeleteBlobsRole', {
      project: props.projectId,
      roleId: props.deleteRoleId,
      title: 'Counterparty prune: delete objects',
      description: 'storage.objects.delete only; granted on the vault under an IAM condition limiting it to blobs/sha256/.',
      permissions: ['storage.objects.delete'],
    });
    const reads = new StorageBucketIamMember(this, 'ReadsVault', { bucket: props.vaultBucketName, role: 'roles/storage.objectViewer', member });
    const deletes = new StorageBucketIamMember(this, 'DeletesBlobs', {
      bucket: props.vaultBucketName,
      role: role.name,
      member,
      condition: {
        title: 'blobs-only',
        description: 'Delete objects under blobs/sha256/ only.',
        expression: `resource.name.startsWith("projects/_/buckets/${props.vaultBucketName}/objects/${naming.BLOBS_PREFIX}")`,
      },
    });
    this.scheduled = new ScheduledJob(this, 'Prune', {
      projectId: props.projectId,
      region: props.region,
      jobName: props.jobName,
      image: props.image,
      command: PRUNE_COMMAND,
      serviceAccountEmail: this.serviceAccount.email,
      serviceAccountMember: member,
      scheduleCronUtc: props.scheduleCronUtc,
      description: `Prunes blobs of gs://${props.vaultBucketName} that no retained night references.`,
      timeoutSeconds: 10_800,
      memory: '2Gi',
      env: [
        { name: 'CP_STORE', value: `gs://${props.vaultBucketName}` },
        ...(props.dryRun ? [{ name: 'CP_PRUNE_DRY_RUN', value: 'true' }] : []),
      ],
      dependsOn: [reads, deletes],
      labels: props.labels,
    });
  }
}
