import { Annotations, ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { awsScheduleExpression, formatIssue, naming, resolvePlan, type Dataset, type ProtectionPlan, type ResolvedPlan } from '../core';
import { AzureImageMirrorRole, AzureReaderRole, GcpImageMirrorRole, GcpReaderRole } from './counterparty-reader-role';
import { BackupJobAlarm } from './backup-job-alarm';
import { ExportPruneTask, pruneScheduleExpression } from './export-prune-task';
import { InitialSeed } from './initial-seed';
import { ManagementEventsTrail } from './management-events-trail';
import { FreshnessAlarms } from './freshness-alarms';
import { TamperAlarm } from './tamper-alarm';
import { ImmutableExportBucket } from './immutable-export-bucket';
import { applyNagAcknowledgements, primarySiteNagAcknowledgements, type NagAcknowledgement } from './primary-site-acknowledgements';
import { applySources, type PrimarySiteSource } from './primary-site-sources';
import { LockedBackupVault } from './locked-backup-vault';
import { NativeSnapshotPlan, type SnapshotCopyDestination, type SnapshotResource } from './native-snapshot-plan';
import { NightlyExportPipeline, type DatasetSource, type JobsNetwork } from './nightly-export-pipeline';
import { ProtectedKey } from './protected-key';
import { annotateMonthlyEstimate } from './cost-annotation';

/** Properties of a {@link PrimarySite}. */
export interface PrimarySiteProps {
  /** The protection plan. It is validated (and defaulted) with `resolvePlan`; an invalid plan throws. */
  readonly plan: ProtectionPlan;
  /**
   * Constructs of your app that are the plan's sources, by dataset name:
   * an `s3.IBucket` for an `s3Bucket` dataset, a `dynamodb.ITable` (`Table`
   * or `TableV2`) for a `dynamoDbTable` dataset, and for a `postgres` dataset
   * an `rds.IDatabaseCluster` / `rds.IDatabaseInstance` or a
   * {@link PostgresSource} (`{ database, credentials, vpc, subnets, securityGroups }`).
   * They replace the ARNs the plan implies (backup selection, export
   * permissions) and fill in the postgres fields only the AWS half reads
   * (endpoint, credentialsSecretArn, network). They are checked against the
   * plan at synth: bucket and table names must match the plan's, tables need
   * point-in-time recovery and buckets versioning.
   * @default - every source is named by the ARN the plan implies
   */
  readonly sources?: Readonly<Record<string, PrimarySiteSource>>;
  /**
   * Copy every AWS Backup recovery point to a second vault (another region or account).
   * @default - no copy
   */
  readonly backupCopyDestination?: SnapshotCopyDestination;
  /**
   * Where the `sync-objects` Fargate tasks run.
   * @default - the plan's `primary.jobsNetwork`, else the network of the plan's first postgres dataset
   */
  readonly jobsNetwork?: JobsNetwork;
  /**
   * Principals still allowed to delete or disable the site's KMS keys in
   * governance mode (the break-glass path). In compliance mode the export and
   * vault keys allow no one.
   * @default - the account root user
   */
  readonly breakGlassPrincipalArns?: string[];
  /**
   * Whether the nightly schedule is enabled.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * The most datasets one primary stack may hold. Past about 250 the template
   * outgrows CloudFormation's 1 MB limit and the pipeline's roles need more than
   * IAM's 10 managed policies per role (measured: BENCHMARKS.md), so a larger
   * plan is refused at synth time rather than failing at deploy time.
   * @default 150
   */
  readonly maxDatasets?: number;
  /**
   * Acknowledge the cdk-nag findings (AWS Solutions, NIST 800-53 R5) the site
   * accepts, on its own resources, each with its reason
   * (lib/aws/primary-site-acknowledgements.ts), so cdk-nag in your stack
   * reports nothing from inside the site. Turn off to review them yourself.
   * @default true
   */
  readonly acknowledgeNagFindings?: boolean;
  /**
   * An existing IAM OIDC provider for the Azure tenant's issuer
   * (`naming.azureOidcIssuer(tenantId)`): an account holds only one per issuer
   * URL, so a second deployment (or one made by hand) must reuse it. Its client
   * ID list must contain the federation audience (`naming.azureFederationAudience(plan)`).
   * @default - a new provider for the tenant's issuer
   */
  readonly azureOidcProvider?: iam.IOidcProvider;
  /**
   * Create a CloudTrail trail of the account's management events (multi-region,
   * log file validation, KMS-encrypted, into its own bucket). The tamper alarm's
   * API-call rules receive events only when some trail logs management events;
   * leave this off when the account or organization already has one.
   * @default false
   */
  readonly managementEventsTrail?: boolean;
  /**
   * Run `prune` on the export bucket daily, after the export window
   * ({@link ExportPruneTask}): blobs no retained night references are deleted
   * once their Object Lock retention has expired, so `blobs/` does not grow
   * forever and an erased recording leaves AWS too (docs/aws.md "Prune").
   * Only plans with an s3Bucket dataset write blobs; without one there is no task.
   * @default true
   */
  readonly exportPrune?: boolean;
}

/** Default of {@link PrimarySiteProps.maxDatasets}. */
export const DEFAULT_MAX_DATASETS = 150;

/**
 * The AWS primary of a Counterparty deployment, from one protection plan: the
 * immutable export bucket, AWS Backup snapshots in a locked vault, the nightly
 * portable export, keyless reader roles for the GCP and Azure counterparties,
 * the jobs image repository, and freshness alarms.
 */
export class PrimarySite extends Construct {
  /** The resolved plan: defaults filled in, and the postgres fields (endpoint, credentialsSecretArn, network) that `sources` give. */
  public readonly plan: ResolvedPlan;
  /** The immutable export bucket. */
  public readonly exportBucket: ImmutableExportBucket;
  /** The export bucket's key. */
  public readonly exportKey: kms.IKey;
  /** The locked AWS Backup vault. */
  public readonly backupVault: LockedBackupVault;
  /** The nightly AWS Backup plan, when any dataset can be backed up natively. */
  public readonly snapshots?: NativeSnapshotPlan;
  /** The nightly export pipeline. */
  public readonly pipeline: NightlyExportPipeline;
  /** The nightly export state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The jobs image repository (immutable tags, scan on push). */
  public readonly jobsRepository: ecr.Repository;
  /** The application image repository (imported by name). */
  public readonly applicationRepository: ecr.IRepository;
  /** Counterparty reader roles, by provider (absent until the counterparty's identity is known). */
  public readonly readerRoles: { readonly gcp?: iam.IRole; readonly azure?: iam.IRole };
  /** The Azure tenant's OIDC provider, when the Azure reader role exists. */
  public readonly azureOidcProvider?: iam.IOidcProvider;
  /** The alarms. */
  public readonly alarms: FreshnessAlarms;
  /** The topic the alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** Alarms on key deletion/disabling and lock or policy changes of the site's keys, vault and export bucket. */
  public readonly tamperAlarm: TamperAlarm;
  /** The key of logs, the alarm topic and the image repository. */
  public readonly operationsKey: kms.IKey;
  /** The cdk-nag findings acknowledged on the site's resources (empty when `acknowledgeNagFindings` is false). */
  public readonly nagAcknowledgements: readonly NagAcknowledgement[];
  /** Alarms on AWS Backup jobs into the site's vault that failed, were aborted or expired. */
  public readonly backupJobAlarm: BackupJobAlarm;
  /** The initial-seed (S3 Batch Operations) state machine, when the plan has an s3Bucket dataset. */
  public readonly initialSeed?: InitialSeed;
  /** Image-mirror roles (ECR pull only), by counterparty (absent until the mirror identity is known). */
  public readonly imageMirrorRoles: { readonly gcp?: iam.IRole; readonly azure?: iam.IRole };
  /** The management-events trail, when `managementEventsTrail` is set. */
  public readonly managementEventsTrail?: ManagementEventsTrail;
  /** The daily prune of the export bucket's blobs (absent when `exportPrune` is false or the plan has no s3Bucket dataset). */
  public readonly exportPrune?: ExportPruneTask;

  constructor(scope: Construct, id: string, props: PrimarySiteProps) {
    super(scope, id);
    const resolved = resolvePlan(props.plan);
    // Your constructs in: checked against the plan, and filling in the postgres fields only the AWS half reads.
    const applied = applySources(this, resolved, props.sources ?? {});
    const maxDatasets = props.maxDatasets ?? DEFAULT_MAX_DATASETS;
    if (resolved.datasets.length > maxDatasets) {
      throw new Error(`${this.node.path}: plan.datasets has ${resolved.datasets.length} datasets; one primary stack holds at most ${maxDatasets} `
        + '(past about 250 the template outgrows CloudFormation\'s 1 MB limit and its roles need more than 10 managed policies). '
        + 'Fix: split the plan (one plan and PrimarySite per system or per group of datasets), or raise maxDatasets only after checking those limits.');
    }
    this.plan = applied.plan;
    const plan = applied.plan;
    annotateMonthlyEstimate(this, props.plan);
    const stack = Stack.of(this);
    for (const [k, v] of Object.entries(plan.tags)) Tags.of(this).add(k, v);

    const compliance = plan.immutability.mode === 'compliance';
    const breakGlass = props.breakGlassPrincipalArns;

    // Operations key: log groups, the alarm topic, the image repository.
    const opsKey = new ProtectedKey(this, 'OperationsKey', {
      alias: `${naming.exportKeyAlias(plan)}-operations`,
      description: `Counterparty ${plan.system}: encrypts logs, the alarm topic and the jobs image repository`,
      breakGlassPrincipalArns: breakGlass,
    }).key;
    opsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
    }));
    this.operationsKey = opsKey;

    // 1. The immutable export bucket.
    this.exportBucket = new ImmutableExportBucket(this, 'ExportBucket', {
      bucketName: naming.exportBucketName(plan),
      accessLogBucketName: naming.accessLogBucketName(plan),
      retention: Duration.days(plan.retentionDays),
      mode: plan.immutability.mode,
      acknowledgeComplianceIsIrreversible: plan.immutability.acknowledgeComplianceIsIrreversible,
      keyAlias: naming.exportKeyAlias(plan),
      breakGlassPrincipalArns: breakGlass,
    });
    this.exportKey = this.exportBucket.encryptionKey;

    // 2. Native snapshots.
    this.backupVault = new LockedBackupVault(this, 'BackupVault', {
      backupVaultName: naming.backupVaultName(plan),
      keyAlias: naming.backupVaultKeyAlias(plan),
      minRetention: Duration.days(plan.retentionDays),
      mode: plan.immutability.mode,
      acknowledgeComplianceIsIrreversible: plan.immutability.acknowledgeComplianceIsIrreversible,
      changeableFor: compliance ? Duration.hours(plan.immutability.vaultLockChangeableForHours) : undefined,
      breakGlassPrincipalArns: breakGlass,
    });
    const snapshotResources = this.snapshotResources(plan.datasets, applied.sources);
    if (snapshotResources.length > 0) {
      this.snapshots = new NativeSnapshotPlan(this, 'Snapshots', {
        vault: this.backupVault.vault,
        vaultKey: this.backupVault.encryptionKey,
        scheduleExpression: awsScheduleExpression(plan),
        timeZone: plan.schedule.timeZone,
        retention: Duration.days(plan.retentionDays),
        resources: snapshotResources,
        copyTo: props.backupCopyDestination,
        backupPlanName: `${plan.system}-nightly`,
      });
    }

    // 3. Images.
    this.jobsRepository = new ecr.Repository(this, 'JobsImageRepository', {
      repositoryName: naming.imageRepository(plan.images.jobs),
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: opsKey,
      removalPolicy: RemovalPolicy.RETAIN,
      // Tags are immutable, so an untagged image is a failed or superseded push: gone after a week.
      lifecycleRules: [{ description: 'Expire untagged images', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7) }],
    });
    this.applicationRepository = ecr.Repository.fromRepositoryName(this, 'ApplicationImageRepository', naming.imageRepository(plan.images.application));

    // 4. The nightly portable export.
    this.pipeline = new NightlyExportPipeline(this, 'NightlyExport', {
      exportBucket: this.exportBucket,
      datasets: plan.datasets,
      sources: applied.sources,
      scheduleExpression: awsScheduleExpression(plan),
      timeZone: plan.schedule.timeZone,
      jobsImage: { repository: this.jobsRepository, tag: naming.imageTag(plan.images.jobs) },
      jobsNetwork: props.jobsNetwork ?? this.plan.primary.jobsNetwork,
      timeout: Duration.hours(plan.schedule.exportWindowHours),
      logKey: opsKey,
      enabled: props.scheduleEnabled,
    });
    this.stateMachine = this.pipeline.stateMachine;

    // 5. Keyless counterparty readers.
    // The data readers read the export bucket only; images are pulled by the separate mirror roles.
    const access = { exportBucket: this.exportBucket };
    const imageRepositories = [this.jobsRepository, this.applicationRepository];
    let gcpMirror: iam.IRole | undefined;
    let azureMirror: iam.IRole | undefined;
    const warn = (field: string) => {
      const w = (resolved.warnings ?? []).find((i) => i.field === field);
      if (w) Annotations.of(this).addWarningV2(`counterparty:${field}`, formatIssue(w));
    };
    let gcpRole: iam.IRole | undefined;
    let azureRole: iam.IRole | undefined;
    const gcp = plan.counterparties.gcp;
    if (gcp) {
      if (gcp.storageTransferSubjectId) {
        gcpRole = new GcpReaderRole(this, 'GcpReader', { ...access, roleName: naming.gcpReaderRoleName(plan), storageTransferSubjectId: gcp.storageTransferSubjectId }).role;
        new CfnOutput(this, 'GcpReaderRoleArn', { value: gcpRole.roleArn, description: 'Role the GCP Storage Transfer Service assumes (naming.gcpReaderRoleArn)' });
      } else warn('counterparties.gcp.storageTransferSubjectId');
      const mirrorSubjectId = (gcp as { readonly imageMirrorSubjectId?: string }).imageMirrorSubjectId;
      if (mirrorSubjectId) {
        gcpMirror = new GcpImageMirrorRole(this, 'GcpImageMirror', {
          repositories: imageRepositories, roleName: naming.imageMirrorRoleName(plan, 'gcp'), mirrorSubjectId, tokenAudience: naming.gcpImageMirrorTokenAudience(plan),
        }).role;
        new CfnOutput(this, 'GcpImageMirrorRoleArn', { value: gcpMirror.roleArn, description: 'Role the GCP image mirror assumes for ECR pull (naming.imageMirrorRoleArn(plan, "gcp"))' });
      }
    }
    const azure = plan.counterparties.azure;
    if (azure) {
      if (azure.copyIdentityPrincipalId) {
        const reader = new AzureReaderRole(this, 'AzureReader', {
          ...access,
          roleName: naming.azureReaderRoleName(plan),
          tenantId: azure.tenantId,
          principalId: azure.copyIdentityPrincipalId,
          audience: naming.azureFederationAudience(plan),
          oidcProvider: props.azureOidcProvider,
        });
        azureRole = reader.role;
        this.azureOidcProvider = reader.oidcProvider;
        new CfnOutput(this, 'AzureReaderRoleArn', { value: azureRole.roleArn, description: 'Role the Azure copy identity assumes (naming.azureReaderRoleArn)' });
        new CfnOutput(this, 'AzureOidcProviderArn', { value: reader.oidcProvider.oidcProviderArn, description: 'IAM OIDC provider of the Entra tenant issuer' });
        if (azure.mirrorIdentityPrincipalId) {
          azureMirror = new AzureImageMirrorRole(this, 'AzureImageMirror', {
            repositories: imageRepositories, roleName: naming.azureMirrorRoleName(plan), oidcProvider: reader.oidcProvider,
            tenantId: azure.tenantId, principalId: azure.mirrorIdentityPrincipalId, audience: naming.azureFederationAudience(plan),
          }).role;
          new CfnOutput(this, 'AzureImageMirrorRoleArn', { value: azureMirror.roleArn, description: 'Role the Azure image mirror identity assumes for ECR pull (naming.azureMirrorRoleArn)' });
        }
      } else warn('counterparties.azure.copyIdentityPrincipalId');
    }
    this.readerRoles = { gcp: gcpRole, azure: azureRole };
    this.imageMirrorRoles = { gcp: gcpMirror, azure: azureMirror };

    // 6. Freshness alarms.
    this.alarms = new FreshnessAlarms(this, 'Alarms', {
      stateMachine: this.stateMachine,
      window: Duration.hours(plan.rpoHours + plan.alarmGraceHours),
      topicKey: opsKey,
      emails: plan.notifications.emails,
    });
    this.alarmTopic = this.alarms.topic;
    // 7. Tamper detection: the ways around the locks (key deletion, lock or policy changes) alarm too.
    // With prune, deletions under blobs/sha256/ are prune's (the bucket policy lets nobody else delete there, docs/aws.md "Prune").
    const jobsNetwork = props.jobsNetwork ?? plan.primary.jobsNetwork ?? plan.datasets.find((d) => d.kind === 'postgres')?.network;
    const prunes = (props.exportPrune ?? true) && this.pipeline.cluster !== undefined && jobsNetwork !== undefined && plan.datasets.some((d) => d.kind === 's3Bucket');
    this.tamperAlarm = new TamperAlarm(this, 'TamperAlarm', {
      topic: this.alarmTopic,
      topicKey: opsKey,
      keys: [this.exportKey, this.backupVault.encryptionKey, opsKey],
      backupVaultNames: [naming.backupVaultName(plan)],
      bucketNames: [naming.exportBucketName(plan)],
      backupPlanIds: this.snapshots ? [this.snapshots.plan.backupPlanId] : [],
      objectDeletionBucketNames: [naming.exportBucketName(plan)],
      objectDeletionExemptPrefix: prunes ? naming.BLOBS_PREFIX : undefined,
    });
    // 7b. The daily prune of unreferenced, unlocked blobs, on the nightly pipeline's cluster and network.
    if (prunes && jobsNetwork) {
      this.exportPrune = new ExportPruneTask(this, 'ExportPrune', {
        exportBucket: this.exportBucket,
        jobsImage: { repository: this.jobsRepository, tag: naming.imageTag(plan.images.jobs) },
        network: jobsNetwork,
        cluster: this.pipeline.cluster,
        alarmTopic: this.alarmTopic,
        scheduleExpression: pruneScheduleExpression(plan),
        timeZone: plan.schedule.timeZone,
        enabled: props.scheduleEnabled,
        logKey: opsKey,
      });
    }
    // 8. AWS Backup jobs that did not make their recovery point alarm too.
    this.backupJobAlarm = new BackupJobAlarm(this, 'BackupJobAlarm', { topic: this.alarmTopic, backupVaultNames: [naming.backupVaultName(plan)] });
    // 9. The initial seed of large source buckets (S3 Batch Operations), run on demand.
    if (plan.datasets.some((d) => d.kind === 's3Bucket')) {
      this.initialSeed = new InitialSeed(this, 'InitialSeed', {
        exportBucket: this.exportBucket,
        datasets: plan.datasets,
        sources: applied.sources,
        logKey: opsKey,
      });
      this.alarms.watch(this.initialSeed.stateMachine, 'InitialSeed');
      if (this.pipeline.syncObjectsTaskDefinition) this.initialSeed.feed(this.pipeline.syncObjectsTaskDefinition);
    }
    // 10. Optionally, the management-events trail the tamper alarm's API-call rules need.
    if (props.managementEventsTrail) {
      this.managementEventsTrail = new ManagementEventsTrail(this, 'ManagementEventsTrail', { encryptionKey: opsKey, accessLogBucket: this.exportBucket.accessLogBucket });
    }

    new CfnOutput(this, 'ExportBucketName', { value: this.exportBucket.bucket.bucketName, description: 'Immutable export bucket (naming.exportBucketName)' });
    new CfnOutput(this, 'ExportKeyArn', { value: this.exportKey.keyArn, description: 'KMS key of the export bucket' });
    new CfnOutput(this, 'JobsImageRepositoryUri', { value: this.jobsRepository.repositoryUri, description: 'Push the jobs image here before the first night' });

    // Last, once every resource exists: the cdk-nag findings the site accepts, on its own resources.
    this.nagAcknowledgements = props.acknowledgeNagFindings === false ? [] : primarySiteNagAcknowledgements(this, applied.sources);
    applyNagAcknowledgements(this, this.nagAcknowledgements);
  }

  private snapshotResources(datasets: readonly Dataset[], sources: Readonly<Record<string, DatasetSource>>): SnapshotResource[] {
    const stack = Stack.of(this);
    const out: SnapshotResource[] = [];
    for (const ds of datasets) {
      const src = sources[ds.name];
      switch (ds.kind) {
        case 's3Bucket':
          out.push({ type: 's3-bucket', arn: src && 'bucketArn' in src ? src.bucketArn : stack.formatArn({ service: 's3', region: '', account: '', resource: ds.bucketName }) });
          break;
        case 'dynamoDbTable':
          out.push({ type: 'dynamodb-table', arn: src && 'tableArn' in src ? src.tableArn : stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: ds.tableName }) });
          break;
        case 'postgres': {
          const cluster = src && 'clusterIdentifier' in src ? src.clusterIdentifier : undefined;
          const instance = src && 'instanceIdentifier' in src ? src.instanceIdentifier : undefined;
          const isCluster = cluster !== undefined || (instance === undefined && ds.engine === 'aurora-postgresql');
          out.push(isCluster
            ? { type: 'rds-cluster', arn: stack.formatArn({ service: 'rds', resource: 'cluster', resourceName: cluster ?? ds.identifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) }
            : { type: 'rds-instance', arn: stack.formatArn({ service: 'rds', resource: 'db', resourceName: instance ?? ds.identifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }) });
          break;
        }
        case 'connectInstance':
          break; // AWS Backup cannot back up Amazon Connect; the nightly export covers it.
      }
    }
    return out;
  }
}
