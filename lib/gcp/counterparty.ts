/**
 * `GcpCounterparty`: the whole GCP side of a protection plan, composed from
 * the constructs of this folder. Every cross-engine name comes from the
 * naming contract, so the AWS half (synthesized separately by aws-cdk-lib)
 * and this half agree without references between them.
 */
import { Annotations, TerraformOutput } from 'cdktf';
import { annotateMonthlyEstimate, annotatePlanWarnings } from '../terraform/plan-warnings';
import { Construct } from 'constructs';
import type { PostgresDataset, ProtectionPlan, ResolvedPlan } from '../core/plan';
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
import { ImageMirrorJob } from './mirror-job';
import { PruneJob } from './prune-job';
import type { TimeOfDay } from '../core/schedule';

/** The prune runs this many hours after the verifier starts. */
export const PRUNE_AFTER_VERIFY_HOURS = 3;

function hoursAfter(t: TimeOfDay, hours: number): string {
  return `${t.minute} ${(t.hour + hours) % 24} * * *`;
}

/** Stable names of the stack outputs (other tools and the AWS half's operators read them). */
export const GCP_OUTPUTS = {
  storageTransferSubjectId: 'storage_transfer_subject_id',
  gcpReaderRoleArn: 'gcp_reader_role_arn',
  vaultBucket: 'vault_bucket',
  imageRegistry: 'image_registry',
  imageMirrorSubjectId: 'image_mirror_subject_id',
  imageMirrorRoleArn: 'image_mirror_role_arn',
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
  /** The verify-and-restore job; absent while bootstrapping. */
  public readonly verifier?: VerifyRestoreJob;
  /** The nightly image mirror; absent while bootstrapping (run the first mirror by hand). */
  public readonly mirror?: ImageMirrorJob;
  /** The nightly prune of unreferenced blobs; absent while bootstrapping. */
  public readonly prune?: PruneJob;
  public readonly alerts: FreshnessAlerts;

  constructor(scope: Construct, id: string, props: GcpCounterpartyProps) {
    super(scope, id);
    const plan = resolvePlan(props.plan);
    const gcp = plan.counterparties.gcp;
    if (!gcp) {
      invalid(this, 'plan.counterparties.gcp', undefined, 'is not set, so there is no GCP counterparty to build.', 'add counterparties.gcp: { projectId, region } to the plan, or do not add this construct.');
    }
    annotatePlanWarnings(this, plan.warnings);
    annotateMonthlyEstimate(this, props.plan, 'gcp');

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
      mirrorServiceAccountId: naming.gcpImageMirrorServiceAccountId(plan),
      labels,
    });
    // Day one (empty registries): nothing that runs an image; the digest lookups would fail the plan.
    const bootstrap = gcp.bootstrap ?? false;
    const jobsImage = bootstrap ? undefined : this.registry.imageDigestUri(plan.images.jobs);
    if (bootstrap) {
      Annotations.of(this).addWarning('Counterparty: counterparties.gcp.bootstrap is true: no application service and no Cloud Run jobs (verify/restore, mirror, prune) are deployed. Run the first image mirror by hand (docs/gcp.md "Bootstrap"), then set bootstrap to false and deploy again.');
    }
    if (!gcp.imageMirrorSubjectId) {
      Annotations.of(this).addWarning('Counterparty: counterparties.gcp.imageMirrorSubjectId is not set, so the AWS ECR-pull role for GCP is not created and the image mirror fails at STS until it is. Copy the output image_mirror_subject_id into the plan and deploy the AWS stack again.');
    }

    const pg = plan.datasets.find((d): d is PostgresDataset => d.kind === 'postgres');
    const databaseName = pg?.databaseName ?? DEFAULT_STANDBY_DATABASE;
    if (plan.datasets.filter((d) => d.kind === 'postgres').length > 1) {
      Annotations.of(this).addWarning(`Counterparty: the plan has several postgres datasets; the GCP standby restores only "${pg?.name}" (database "${databaseName}").`);
    }
    if (!gcp.network) {
      invalid(this, 'plan.counterparties.gcp.network', gcp.network, 'is not set: the standby database gets a private IP only (never a public IP), so it needs a VPC network with private services access.',
        'add counterparties.gcp.network: "projects/<project>/global/networks/<name>" to the plan (docs/gcp.md "Prerequisites").');
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
      engineVersion: pg?.engineVersion,
      extensions: pg?.extensions,
      serviceName: naming.gcpResourceName(plan, 'app'),
      applicationImage: bootstrap ? undefined : this.registry.imageDigestUri(plan.images.application),
      appServiceAccountId: naming.gcpServiceAccountId(plan, 'app'),
      vaultBucketName: this.vault.bucketName,
      labels,
    });

    const jobNames = { verify: naming.gcpResourceName(plan, 'verify'), mirror: naming.gcpResourceName(plan, 'mirror'), prune: naming.gcpResourceName(plan, 'prune') };
    const jobs = jobsImage ? this.newJobs(plan, jobsImage, jobNames, databaseName, labels) : undefined;
    this.verifier = jobs?.verifier;
    this.mirror = jobs?.mirror;
    this.prune = jobs?.prune;

    const channels = gcp.notificationChannels;
    if ((channels?.length ?? 0) === 0 && plan.notifications.emails.length === 0) {
      Annotations.of(this).addWarning('Counterparty: neither counterparties.gcp.notificationChannels nor notifications.emails is set; the GCP alerts notify no one.');
    }
    this.alerts = new FreshnessAlerts(this, 'Alerts', {
      projectId: project,
      metricName: naming.gcpResourceName(plan, 'verify-success').replace(/-/g, '_'),
      verifyJobName: jobNames.verify,
      jobNames: [jobNames.verify, jobNames.mirror, jobNames.prune],
      mirrorJobName: jobNames.mirror,
      verifyPaused: gcp.mode === 'active',
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
    output(GCP_OUTPUTS.imageMirrorSubjectId, this.registry.mirrorServiceAccount!.uniqueId,
      'uniqueId of the image-mirror service account: copy it to the plan, counterparties.gcp.imageMirrorSubjectId, so the AWS ECR-pull role for GCP trusts it; then deploy the AWS half.');
    output(GCP_OUTPUTS.imageMirrorRoleArn, naming.imageMirrorRoleArn(plan, 'gcp'), 'The AWS ECR-pull role the image mirror assumes (naming contract).');
    if (this.standby.service) output(GCP_OUTPUTS.standbyServiceUri, this.standby.service.uri, 'URI of the standby application service.');
  }

  /** The three Cloud Run jobs (verify-and-restore, mirror, prune), all on the jobs image by digest. */
  private newJobs(plan: ResolvedPlan, image: string, jobNames: { verify: string; mirror: string; prune: string }, databaseName: string, labels: Record<string, string>) {
    const gcp = plan.counterparties.gcp!;
    const project = gcp.projectId;
    const region = gcp.region;
    const schedule = counterpartySchedule(plan);
    const verifier = new VerifyRestoreJob(this, 'VerifyRestore', {
      projectId: project,
      region,
      jobName: jobNames.verify,
      image,
      vaultBucketName: this.vault.bucketName,
      serviceAccountId: naming.gcpServiceAccountId(plan, 'verify'),
      scheduleCronUtc: schedule.verifyCronUtc,
      // Once serving, the standby database is live: no nightly restore over it.
      paused: gcp.mode === 'active',
      environment: {
        CP_RPO_HOURS: String(plan.rpoHours),
        CP_ALARM_GRACE_HOURS: String(plan.alarmGraceHours),
        CP_DATASETS: plan.datasets.map((d) => `${d.name}:${d.kind}${d.allowEmpty ? ':allowEmpty' : ''}`).join(','),
      },
      restore: {
        instanceName: naming.gcpResourceName(plan, 'standby-db'),
        connectionName: this.standby.instance.connectionName,
        databaseName,
        datasetDatabases: naming.standbyDatabasesEnv(plan.datasets) || undefined,
        user: this.standby.databaseUser,
        passwordSecretId: this.standby.passwordSecret.id,
        passwordVersion: this.standby.passwordVersion,
        appRole: this.standby.appDatabaseUser,
        privateIp: this.standby.instance.privateIpAddress,
        network: gcp.network,
      },
      labels,
    });
    const mirror = new ImageMirrorJob(this, 'ImageMirror', {
      projectId: project,
      region,
      jobName: jobNames.mirror,
      image,
      serviceAccountEmail: this.registry.mirrorServiceAccount!.email,
      serviceAccountMember: this.registry.mirrorServiceAccount!.member,
      sourceRegistry: naming.ecrRegistryHost(plan),
      destinationRegistry: this.registry.registryPath,
      images: [plan.images.application, plan.images.jobs],
      keepReleases: plan.images.keepReleases,
      roleArn: naming.imageMirrorRoleArn(plan, 'gcp'),
      awsRegion: plan.primary.region,
      tokenAudience: naming.gcpImageMirrorTokenAudience(plan),
      scheduleCronUtc: schedule.copyCronUtc,
      paused: gcp.mode === 'active',
      dependsOn: this.registry.mirrorWriteGrant ? [this.registry.mirrorWriteGrant] : undefined,
      labels,
    });
    const prune = new PruneJob(this, 'Prune', {
      projectId: project,
      region,
      jobName: jobNames.prune,
      image,
      vaultBucketName: this.vault.bucketName,
      serviceAccountId: naming.gcpServiceAccountId(plan, 'prune'),
      deleteRoleId: `${plan.system.replace(/-/g, '_')}_prune_delete`,
      scheduleCronUtc: hoursAfter(schedule.verifyUtc, PRUNE_AFTER_VERIFY_HOURS),
      labels,
    });
    return { verifier, mirror, prune };
  }
}
