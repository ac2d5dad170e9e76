/**
 * `GcpCounterparty`: the whole GCP side of a protection plan, composed from
 * the constructs of this folder. Every cross-engine name comes from the
 * naming contract, so the AWS half (synthesized separately by aws-cdk-lib)
 * and this half agree without references between them.
 */
import { Annotations, TerraformOutput } from 'cdktf';
import { annotatePlanWarnings } from '../terraform/plan-warnings';
import { Construct } from 'constructs';
import type { PostgresDataset, ProtectionPlan } from '../core/plan';
import * as naming from '../core/naming';
import { counterpartySchedule } from '../core/schedule';
import { resolvePlan } from '../core/validate';
import { FreshnessAlerts } from './alerts';
import { gcpLabels, invalid } from './common';
import { CounterpartyKeys } from './keys';
import { ImageRegistry } from './registry';
import { StandbyEnvironment } from './standby';
import { S3PullTransferJob } from './transfer';
import { ImmutableVaultBucket } from './vault-bucket';
import { VerifyRestoreJob } from './verify-job';

/** Stable names of the stack outputs (other tools and the AWS half's operators read them). */
export const GCP_OUTPUTS = {
  storageTransferSubjectId: 'storage_transfer_subject_id',
  gcpReaderRoleArn: 'gcp_reader_role_arn',
  vaultBucket: 'vault_bucket',
  imageRegistry: 'image_registry',
  imageMirrorSubjectId: 'image_mirror_subject_id',
  standbyServiceUri: 'standby_service_uri',
} as const;

/** Database the standby uses when the plan has no postgres dataset. */
export const DEFAULT_STANDBY_DATABASE = 'contact_centre';

export interface GcpCounterpartyProps {
  /** The protection plan; its `counterparties.gcp` is rendered (resolved and validated here). */
  readonly plan: ProtectionPlan;
}

/** The GCP counterparty of a plan: keys, immutable vault, keyless nightly pull, verify/restore, standby, images and alerts. */
export class GcpCounterparty extends Construct {
  public readonly keys: CounterpartyKeys;
  public readonly vault: ImmutableVaultBucket;
  public readonly transfer: S3PullTransferJob;
  public readonly registry: ImageRegistry;
  public readonly standby: StandbyEnvironment;
  public readonly verifier: VerifyRestoreJob;
  public readonly alerts: FreshnessAlerts;

  constructor(scope: Construct, id: string, props: GcpCounterpartyProps) {
    super(scope, id);
    const plan = resolvePlan(props.plan);
    const gcp = plan.counterparties.gcp;
    if (!gcp) {
      invalid(this, 'plan.counterparties.gcp', undefined, 'is not set, so there is no GCP counterparty to build.', 'add counterparties.gcp: { projectId, region } to the plan, or do not add this construct.');
    }
    annotatePlanWarnings(this, plan.warnings);

    const project = gcp.projectId;
    const region = gcp.region;
    const labels = { ...gcpLabels(plan.tags), system: plan.system };
    const schedule = counterpartySchedule(plan);

    this.keys = new CounterpartyKeys(this, 'Keys', {
      projectId: project, location: region, keyRingName: naming.gcpKeyRingName(plan), keyName: naming.gcpKeyName(plan), labels,
    });

    this.vault = new ImmutableVaultBucket(this, 'Vault', {
      projectId: project,
      bucketName: naming.gcsVaultBucketName(plan, project),
      location: region,
      residency: plan.residency?.allowed,
      retentionDays: plan.retentionDays,
      lock: plan.immutability.lock,
      acknowledgeLockIsIrreversible: plan.immutability.acknowledgeLockIsIrreversible,
      kmsKeyName: this.keys.keyId,
      kmsGrants: this.keys.grants,
      labels,
      system: plan.system,
      datasets: plan.datasets.map((d) => d.name),
    });

    this.transfer = new S3PullTransferJob(this, 'NightlyPull', {
      projectId: project,
      region,
      sourceBucketName: naming.exportBucketName(plan),
      roleArn: naming.gcpReaderRoleArn(plan),
      sinkBucketName: this.vault.bucketName,
      startTimeUtc: schedule.copyUtc,
      topicName: naming.gcpResourceName(plan, 'transfer-events'),
      dependsOn: [this.vault.bucket],
      labels,
    });

    this.registry = new ImageRegistry(this, 'Images', {
      projectId: project,
      location: region,
      repositoryId: naming.gcpArtifactRepositoryId(plan),
      kmsKeyName: this.keys.keyId,
      kmsGrants: this.keys.grants,
      mirrorServiceAccountId: naming.gcpServiceAccountId(plan, 'images'),
      labels,
    });

    const pg = plan.datasets.find((d): d is PostgresDataset => d.kind === 'postgres');
    const databaseName = pg?.databaseName ?? DEFAULT_STANDBY_DATABASE;
    if (plan.datasets.filter((d) => d.kind === 'postgres').length > 1) {
      Annotations.of(this).addWarning(`Counterparty: the plan has several postgres datasets; the GCP standby restores only "${pg?.name}" (database "${databaseName}").`);
    }
    this.standby = new StandbyEnvironment(this, 'Standby', {
      projectId: project,
      region,
      mode: gcp.mode,
      kmsKeyName: this.keys.keyId,
      kmsGrants: this.keys.grants,
      instanceName: naming.gcpResourceName(plan, 'standby-db'),
      databaseName,
      passwordSecretId: naming.gcpResourceName(plan, 'standby-db-password'),
      network: gcp.network,
      serviceName: naming.gcpResourceName(plan, 'app'),
      applicationImage: this.registry.imageUri(plan.images.application),
      appServiceAccountId: naming.gcpServiceAccountId(plan, 'app'),
      labels,
    });

    this.verifier = new VerifyRestoreJob(this, 'VerifyRestore', {
      projectId: project,
      region,
      jobName: naming.gcpResourceName(plan, 'verify'),
      image: this.registry.imageUri(plan.images.jobs),
      vaultBucketName: this.vault.bucketName,
      serviceAccountId: naming.gcpServiceAccountId(plan, 'verify'),
      scheduleCronUtc: schedule.verifyCronUtc,
      // Once serving, the standby database is live: no nightly restore over it.
      paused: gcp.mode === 'active',
      restore: {
        instanceName: naming.gcpResourceName(plan, 'standby-db'),
        connectionName: this.standby.instance.connectionName,
        databaseName,
        datasetDatabases: naming.standbyDatabasesEnv(plan.datasets) || undefined,
        user: this.standby.databaseUser,
        passwordSecretId: this.standby.passwordSecret.id,
        privateIp: gcp.network ? this.standby.instance.privateIpAddress : undefined,
        network: gcp.network,
      },
      labels,
    });

    const channels = gcp.notificationChannels;
    if ((channels?.length ?? 0) === 0 && plan.notifications.emails.length === 0) {
      Annotations.of(this).addWarning('Counterparty: neither counterparties.gcp.notificationChannels nor notifications.emails is set; the GCP alerts notify no one.');
    }
    this.alerts = new FreshnessAlerts(this, 'Alerts', {
      projectId: project,
      metricName: naming.gcpResourceName(plan, 'verify-success').replace(/-/g, '_'),
      verifyJobName: naming.gcpResourceName(plan, 'verify'),
      freshnessHours: plan.rpoHours + plan.alarmGraceHours,
      notificationChannels: channels && channels.length > 0 ? channels : undefined,
      emails: plan.notifications.emails,
      requireChannels: false,
    });

    const output = (id: string, value: string, description: string) => {
      new TerraformOutput(this, id, { value, description }).overrideLogicalId(id);
    };
    output(GCP_OUTPUTS.storageTransferSubjectId, this.transfer.subjectId,
      'subjectId of the Storage Transfer Service account: copy it to the plan, counterparties.gcp.storageTransferSubjectId, so the AWS reader role trusts it; then deploy the AWS half.');
    output(GCP_OUTPUTS.gcpReaderRoleArn, naming.gcpReaderRoleArn(plan), 'The AWS role the nightly pull assumes (naming contract).');
    output(GCP_OUTPUTS.vaultBucket, this.vault.bucketName, 'The immutable vault bucket (CP_STORE=gs://<this>).');
    output(GCP_OUTPUTS.imageRegistry, this.registry.registryPath, 'Artifact Registry path the images are mirrored to.');
    output(GCP_OUTPUTS.imageMirrorSubjectId, this.registry.mirrorServiceAccount!.uniqueId, 'uniqueId of the image-mirror service account (the AWS reader role must also trust it for the keyless ECR mirror; see docs/gcp.md).');
    output(GCP_OUTPUTS.standbyServiceUri, this.standby.service.uri, 'URI of the standby application service.');
  }
}
