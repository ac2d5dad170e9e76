/**
 * The nightly keyless pull: a Storage Transfer Service job that copies the
 * primary's export bucket into the vault. It authenticates to AWS with no
 * keys: STS presents a Google-signed identity token for the project's transfer
 * service account, and the AWS reader role (`naming.gcpReaderRoleArn(plan)`)
 * trusts exactly that account's `subjectId`, which this construct exposes.
 *
 * It never deletes (source or sink) and never overwrites (`overwriteWhen: NEVER`).
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { DataGoogleStorageTransferProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-transfer-project-service-account';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import { StorageTransferJob } from '@cdktf/provider-google/lib/storage-transfer-job';
import * as naming from '../core/naming';
import type { TimeOfDay } from '../core/schedule';
import { invalid } from './common';

/** Roles the transfer service account needs on the sink bucket (list, compare, write). */
export const TRANSFER_SINK_ROLES: readonly string[] = ['roles/storage.legacyBucketWriter', 'roles/storage.objectViewer'];

/**
 * Storage Transfer `transferOptions.overwriteWhen`: never replace an object that already exists in the vault.
 * Storage Transfer copies objects in no guaranteed order, so a night's manifest may land before its data;
 * the verifier then finds that night *pending* (not failed) and judges it on its next run (docs/gcp.md).
 */
export const OVERWRITE_WHEN = 'NEVER';

/** The transfer outcomes published to the notification topic. */
export const TRANSFER_EVENT_TYPES: readonly string[] = ['TRANSFER_OPERATION_SUCCESS', 'TRANSFER_OPERATION_FAILED', 'TRANSFER_OPERATION_ABORTED'];

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface S3PullTransferJobProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The region the notification topic's messages are stored in (residency). */
  readonly region: string;
  /** The S3 bucket to pull from (use `naming.exportBucketName(plan)`). */
  readonly sourceBucketName: string;
  /** The AWS role STS assumes, keyless (use `naming.gcpReaderRoleArn(plan)`). */
  readonly roleArn: string;
  /** The vault bucket to write to. */
  readonly sinkBucketName: string;
  /** When the daily transfer starts, in UTC (use `counterpartySchedule(plan).copyUtc`). */
  readonly startTimeUtc: TimeOfDay;
  /**
   * First day the schedule is active. A date in the past starts on the next matching day.
   * @default { year: 2026, month: 1, day: 1 }
   */
  readonly startDate?: CalendarDate;
  /** The notification topic's name. */
  readonly topicName: string;
  /**
   * Human-readable description of the job.
   * @default 'Counterparty nightly keyless pull of <source> into <sink>'
   */
  readonly description?: string;
  /**
   * Resources the job must wait for (e.g. the sink bucket).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Labels of the topic.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** A daily Storage Transfer Service job S3 → GCS with a role ARN (no keys), a Pub/Sub outcome topic and the sink grants. */
export class S3PullTransferJob extends Construct {
  public readonly job: StorageTransferJob;
  public readonly topic: PubsubTopic;
  public readonly transferServiceAccount: DataGoogleStorageTransferProjectServiceAccount;
  /** The transfer service account's numeric `subjectId`: what the AWS reader role must trust. */
  public readonly subjectId: string;

  constructor(scope: Construct, id: string, props: S3PullTransferJobProps) {
    super(scope, id);
    const bucketViolation = naming.nameRuleViolation(props.sourceBucketName, naming.NAME_RULES.s3Bucket);
    if (bucketViolation) invalid(this, 'sourceBucketName', props.sourceBucketName, `is invalid: ${bucketViolation}.`, 'use naming.exportBucketName(plan).');
    if (!ROLE_ARN_RE.test(props.roleArn)) {
      invalid(this, 'roleArn', props.roleArn, 'is not an IAM role ARN.', 'use naming.gcpReaderRoleArn(plan); access keys are never used.');
    }
    const t = props.startTimeUtc;
    if (!Number.isInteger(t.hour) || t.hour < 0 || t.hour > 23 || !Number.isInteger(t.minute) || t.minute < 0 || t.minute > 59) {
      invalid(this, 'startTimeUtc', t, 'is not a time of day.', 'use counterpartySchedule(plan).copyUtc.');
    }
    const start = props.startDate ?? { year: 2026, month: 1, day: 1 };

    this.transferServiceAccount = new DataGoogleStorageTransferProjectServiceAccount(this, 'TransferServiceAccount', { project: props.projectId });
    this.subjectId = this.transferServiceAccount.subjectId;

    this.topic = new PubsubTopic(this, 'Topic', {
      project: props.projectId,
      name: props.topicName,
      messageStoragePolicy: { allowedPersistenceRegions: [props.region] },
      messageRetentionDuration: '604800s',
      labels: props.labels,
    });
    const publish = new PubsubTopicIamMember(this, 'TransferPublishes', {
      project: props.projectId, topic: this.topic.name, role: 'roles/pubsub.publisher', member: this.transferServiceAccount.member,
    });
    const sinkGrants = TRANSFER_SINK_ROLES.map((role) => new StorageBucketIamMember(this, `Sink-${role.split('.').pop()}`, {
      bucket: props.sinkBucketName, role, member: this.transferServiceAccount.member,
    }));

    this.job = new StorageTransferJob(this, 'Job', {
      project: props.projectId,
      description: props.description ?? `Counterparty nightly keyless pull of ${props.sourceBucketName} into ${props.sinkBucketName}`,
      status: 'ENABLED',
      transferSpec: {
        awsS3DataSource: { bucketName: props.sourceBucketName, roleArn: props.roleArn },
        gcsDataSink: { bucketName: props.sinkBucketName },
        transferOptions: {
          deleteObjectsFromSourceAfterTransfer: false,
          deleteObjectsUniqueInSink: false,
          // Format v2 writes every key once (content-addressed blobs, per-night exports), so an existing key is
          // never replaced: NEVER skips it (an overwrite inside retention would be refused and fail the run).
          overwriteWhen: OVERWRITE_WHEN,
        },
      },
      schedule: {
        scheduleStartDate: start,
        startTimeOfDay: { hours: t.hour, minutes: t.minute, seconds: 0, nanos: 0 },
        repeatInterval: '86400s',
      },
      notificationConfig: { pubsubTopic: this.topic.id, eventTypes: [...TRANSFER_EVENT_TYPES], payloadFormat: 'JSON' },
      // FAILED actions are logged at severity ERROR: the transfer-failure alert keys on them.
      loggingConfig: { logActions: ['FIND', 'COPY'], logActionStates: ['FAILED'] },
      dependsOn: [publish, ...sinkGrants, ...(props.dependsOn ?? [])],
    });
  }
}
