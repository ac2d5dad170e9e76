/**
 * The nightly verify-and-restore: a Cloud Run v2 Job running the project's jobs
 * image (`verify-and-restore`, see docs/ARCHITECTURE.md) from this project's
 * Artifact Registry, as a dedicated least-privilege service account, started
 * by Cloud Scheduler at `counterpartySchedule(plan).verifyCronUtc`.
 *
 * Why Cloud Scheduler and not the transfer's Pub/Sub notification: a Pub/Sub
 * push subscription authenticates with an OIDC ID token, but the Cloud Run
 * Admin API (`jobs.run`) accepts only OAuth access tokens; Eventarc cannot
 * target a Cloud Run *job* without an intermediate Workflow. Cloud Scheduler
 * calls `jobs:run` with an OAuth token directly, on a time derived from the
 * same plan, and a late or failed transfer is caught anyway: the verifier then
 * fails (or finds no new night) and the freshness alert fires.
 *
 * Where verification records go: `verifications/…` and `restorations/…` in the
 * vault itself (the jobs CLI reads them from `CP_STORE` for `latest-verified`). The
 * verifier may only CREATE objects, only under those two prefixes (IAM condition),
 * and the bucket's retention policy makes those records immutable too: it can't
 * overwrite or delete anything, including its own records.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudRunV2Job, type CloudRunV2JobTemplateTemplateContainersEnv } from '@cdktf/provider-google/lib/cloud-run-v2-job';
import { CloudRunV2JobIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-job-iam-member';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import * as naming from '../core/naming';
import { invalid } from './common';
import { checkJobProps } from './scheduled-job';

/** Where restore records go (`lib/runtime/records.ts` RESTORATIONS_PREFIX): the job may create objects there too. */
export const RESTORATIONS_PREFIX = 'restorations/';

/** The jobs CLI command this job runs. */
export const VERIFY_COMMAND = 'verify-and-restore';

/** How the job reaches the standby database it restores into. */
export interface RestoreTarget {
  /** The Cloud SQL instance name (for the `cloudsql.client` IAM condition). */
  readonly instanceName: string;
  /** The instance connection name `<project>:<region>:<instance>` (Cloud SQL socket). */
  readonly connectionName: string;
  /** The database the job connects to (`PGDATABASE`; it holds the restored DynamoDB tables, objects and Connect configuration). */
  readonly databaseName: string;
  /**
   * The database each postgres dataset is restored into, as `CP_PG_DATABASES` (`naming.standbyDatabasesEnv(plan.datasets)`).
   * @default - each dataset restores into a database named after the dataset
   */
  readonly datasetDatabases?: string;
  /** The database user. */
  readonly user: string;
  /** The Secret Manager secret (ID `projects/<p>/secrets/<s>`) holding the user's password. */
  readonly passwordSecretId: string;
  /**
   * The secret's version: the job depends on it (and on its accessor grant), so the first execution never races them.
   * @default - no dependency on a version
   */
  readonly passwordVersion?: ITerraformDependable;
  /**
   * The application's database role, granted DML (never DDL) on what the restore creates (`CP_PG_APP_ROLE`).
   * @default - no grant
   */
  readonly appRole?: string;
  /**
   * Connect over TCP to this private IP through Direct VPC egress instead of the Cloud SQL socket.
   * @default - the Cloud SQL socket (`/cloudsql/<connection name>`)
   */
  readonly privateIp?: string;
  /**
   * The VPC network for Direct VPC egress; required with `privateIp`.
   * @default - none
   */
  readonly network?: string;
}

export interface VerifyRestoreJobProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The region of the job and its schedule. */
  readonly region: string;
  /** The Cloud Run job name. */
  readonly jobName: string;
  /** The full image URI in this project's Artifact Registry (never a registry outside GCP). */
  readonly image: string;
  /** The vault bucket the job verifies (`CP_STORE=gs://<bucket>`). */
  readonly vaultBucketName: string;
  /** The dedicated service account's ID (use `naming.gcpServiceAccountId(plan, 'verify')`). */
  readonly serviceAccountId: string;
  /** When to run, as a UTC 5-field cron (use `counterpartySchedule(plan).verifyCronUtc`). */
  readonly scheduleCronUtc: string;
  /**
   * The standby database to restore into.
   * @default - verify only: no database settings and no Cloud SQL grants (the command's restore step then fails loudly)
   */
  readonly restore?: RestoreTarget;
  /**
   * More environment for the command (docs/runtime.md: `CP_RPO_HOURS`, `CP_ALARM_GRACE_HOURS`, `CP_DATASETS`).
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * Pause the nightly trigger. The composed counterparty pauses it while `mode` is `active`, so that a
   * nightly restore never overwrites the live database after a failover.
   * @default false
   */
  readonly paused?: boolean;
  /**
   * Task timeout, in seconds.
   * @default 10800 (3 hours)
   */
  readonly timeoutSeconds?: number;
  /**
   * Labels of the job.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** Cloud Run v2 Job `verify-and-restore` + Cloud Scheduler trigger + least-privilege service account. */
export class VerifyRestoreJob extends Construct {
  public readonly serviceAccount: ServiceAccount;
  public readonly job: CloudRunV2Job;
  public readonly trigger: CloudSchedulerJob;

  constructor(scope: Construct, id: string, props: VerifyRestoreJobProps) {
    super(scope, id);
    const saViolation = naming.nameRuleViolation(props.serviceAccountId, naming.NAME_RULES.gcpServiceAccountId);
    if (saViolation) invalid(this, 'serviceAccountId', props.serviceAccountId, `is invalid: ${saViolation}.`, 'use naming.gcpServiceAccountId(plan, "verify") with a shorter system name.');
    const timeout = checkJobProps(this, props, {
      defaultTimeoutSeconds: 10_800,
      imageFix: 'give ImageRegistry.imageDigestUri(plan.images.jobs) (or <region>-docker.pkg.dev/<project>/<repository>/<image>:<tag>).',
      cronFix: 'use counterpartySchedule(plan).verifyCronUtc.',
    });
    const r = props.restore;
    if (r?.privateIp && !r.network) invalid(this, 'restore.network', r.network, 'is required with restore.privateIp.', 'give the VPC network the database\'s private IP is on.');

    this.serviceAccount = new ServiceAccount(this, 'ServiceAccount', {
      project: props.projectId,
      accountId: props.serviceAccountId,
      displayName: `Counterparty verifier (${props.jobName})`,
      description: 'Reads the vault, writes verification records under verifications/ only, restores into the standby database.',
    });
    const member = this.serviceAccount.member;
    new StorageBucketIamMember(this, 'ReadsVault', { bucket: props.vaultBucketName, role: 'roles/storage.objectViewer', member });
    new StorageBucketIamMember(this, 'WritesRecords', {
      bucket: props.vaultBucketName,
      role: 'roles/storage.objectCreator',
      member,
      condition: {
        title: 'verification-records-only',
        description: 'Create (never overwrite or delete) objects under verifications/ and restorations/ only.',
        expression: [naming.VERIFICATIONS_PREFIX, RESTORATIONS_PREFIX]
          .map((prefix) => `resource.name.startsWith("projects/_/buckets/${props.vaultBucketName}/objects/${prefix}")`).join(' || '),
      },
    });

    const env: CloudRunV2JobTemplateTemplateContainersEnv[] = [
      { name: 'CP_STORE', value: `gs://${props.vaultBucketName}` },
      ...Object.entries(props.environment ?? {}).map(([name, value]) => ({ name, value })),
    ];
    const secretDeps: ITerraformDependable[] = [];
    if (r) {
      new ProjectIamMember(this, 'ConnectsToStandbyDb', {
        project: props.projectId,
        role: 'roles/cloudsql.client',
        member,
        condition: {
          title: 'standby-instance-only',
          description: 'Connect to the standby Cloud SQL instance only.',
          expression: `resource.name == "projects/${props.projectId}/instances/${r.instanceName}"`,
        },
      });
      secretDeps.push(new SecretManagerSecretIamMember(this, 'ReadsDbPassword', { secretId: r.passwordSecretId, role: 'roles/secretmanager.secretAccessor', member }));
      if (r.passwordVersion) secretDeps.push(r.passwordVersion);
      env.push(
        { name: 'PGHOST', value: r.privateIp ?? `/cloudsql/${r.connectionName}` },
        { name: 'PGPORT', value: '5432' },
        { name: 'PGDATABASE', value: r.databaseName },
        ...(r.datasetDatabases ? [{ name: 'CP_PG_DATABASES', value: r.datasetDatabases }] : []),
        { name: 'PGUSER', value: r.user },
        ...(r.appRole ? [{ name: 'CP_PG_APP_ROLE', value: r.appRole }] : []),
        { name: 'PGPASSWORD', valueSource: { secretKeyRef: { secret: r.passwordSecretId, version: 'latest' } } },
      );
    }
    const useSocket = r !== undefined && r.privateIp === undefined;

    this.job = new CloudRunV2Job(this, 'Job', {
      project: props.projectId,
      location: props.region,
      name: props.jobName,
      labels: props.labels,
      template: {
        taskCount: 1,
        parallelism: 1,
        template: {
          serviceAccount: this.serviceAccount.email,
          maxRetries: 1,
          timeout: `${timeout}s`,
          containers: [{
            image: props.image,
            args: [VERIFY_COMMAND],
            env,
            resources: { limits: { cpu: '1', memory: '2Gi' } },
            volumeMounts: useSocket ? [{ name: 'cloudsql', mountPath: '/cloudsql' }] : undefined,
          }],
          volumes: useSocket ? [{ name: 'cloudsql', cloudSqlInstance: { instances: [r.connectionName] } }] : undefined,
          vpcAccess: r?.privateIp ? { networkInterfaces: [{ network: r.network }], egress: 'PRIVATE_RANGES_ONLY' } : undefined,
        },
      },
      dependsOn: secretDeps.length > 0 ? secretDeps : undefined,
    });

    const invoke = new CloudRunV2JobIamMember(this, 'SchedulerRunsJob', {
      project: props.projectId, location: props.region, name: this.job.name, role: 'roles/run.invoker', member,
    });
    this.trigger = new CloudSchedulerJob(this, 'Schedule', {
      project: props.projectId,
      region: props.region,
      name: `${props.jobName}-nightly`,
      description: `Runs ${props.jobName} (${VERIFY_COMMAND}) after the nightly transfer.`,
      schedule: props.scheduleCronUtc,
      paused: props.paused ?? false,
      timeZone: 'Etc/UTC',
      attemptDeadline: '180s',
      retryConfig: { retryCount: 3, minBackoffDuration: '60s', maxBackoffDuration: '600s' },
      httpTarget: {
        httpMethod: 'POST',
        uri: `https://run.googleapis.com/v2/projects/${props.projectId}/locations/${props.region}/jobs/${props.jobName}:run`,
        oauthToken: { serviceAccountEmail: this.serviceAccount.email, scope: 'https://www.googleapis.com/auth/cloud-platform' },
      },
      dependsOn: [invoke],
    });
  }
}
