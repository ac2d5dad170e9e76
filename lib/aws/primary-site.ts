import { Annotations, ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { awsScheduleExpression, formatIssue, naming, resolvePlan, type Dataset, type ProtectionPlan, type ResolvedPlan } from '../core';
import { AzureReaderRole, GcpReaderRole } from './counterparty-reader-role';
import { FreshnessAlarms } from './freshness-alarms';
import { TamperAlarm } from './tamper-alarm';
import { ImmutableExportBucket } from './immutable-export-bucket';
import { LockedBackupVault } from './locked-backup-vault';
import { NativeSnapshotPlan, type SnapshotCopyDestination, type SnapshotResource } from './native-snapshot-plan';
import { NightlyExportPipeline, type DatasetSource, type JobsNetwork } from './nightly-export-pipeline';
import { ProtectedKey } from './protected-key';

/** Properties of a {@link PrimarySite}. */
export interface PrimarySiteProps {
  /** The protection plan. It is validated (and defaulted) with `resolvePlan`; an invalid plan throws. */
  readonly plan: ProtectionPlan;
  /**
   * Constructs of the same app that are the plan's sources, by dataset name:
   * an `s3.IBucket` for an `s3Bucket` dataset, a `dynamodb.ITable` for a
   * `dynamoDbTable` dataset, an `rds.IDatabaseCluster` or
   * `rds.IDatabaseInstance` for a `postgres` dataset. They replace the ARNs
   * the plan implies (for the backup selection and the export permissions),
   * and a `dynamodb.Table` whose point-in-time recovery is off is refused.
   * @default - every source is named by the ARN the plan implies
   */
  readonly sources?: Readonly<Record<string, s3.IBucket | dynamodb.ITable | { readonly clusterIdentifier: string } | { readonly instanceIdentifier: string }>>;
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
}

/** Default of {@link PrimarySiteProps.maxDatasets}. */
export const DEFAULT_MAX_DATASETS = 150;

type Source = NonNullable<PrimarySiteProps['sources']>[string];

/**
 * The AWS primary of a Counterparty deployment, from one protection plan: the
 * immutable export bucket, AWS Backup snapshots in a locked vault, the nightly
 * portable export, keyless reader roles for the GCP and Azure counterparties,
 * the jobs image repository, and freshness alarms.
 */
export class PrimarySite extends Construct {
  /** The resolved plan (defaults filled in). */
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

  constructor(scope: Construct, id: string, props: PrimarySiteProps) {
    super(scope, id);
    const resolved = resolvePlan(props.plan);
    const maxDatasets = props.maxDatasets ?? DEFAULT_MAX_DATASETS;
    if (resolved.datasets.length > maxDatasets) {
      throw new Error(`${this.node.path}: plan.datasets has ${resolved.datasets.length} datasets; one primary stack holds at most ${maxDatasets} `
        + '(past about 250 the template outgrows CloudFormation\'s 1 MB limit and its roles need more than 10 managed policies). '
        + 'Fix: split the plan (one plan and PrimarySite per system or per group of datasets), or raise maxDatasets only after checking those limits.');
    }
    this.plan = resolved;
    const plan = resolved;
    const stack = Stack.of(this);
    this.checkSources(plan.datasets, props.sources ?? {});
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
      changeableFor: compliance ? Duration.hours(plan.immutability.vaultLockChangeableForHours) : undefined,
      breakGlassPrincipalArns: breakGlass,
    });
    const snapshotResources = this.snapshotResources(plan.datasets, props.sources ?? {});
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
    });
    this.applicationRepository = ecr.Repository.fromRepositoryName(this, 'ApplicationImageRepository', naming.imageRepository(plan.images.application));

    // 4. The nightly portable export.
    this.pipeline = new NightlyExportPipeline(this, 'NightlyExport', {
      exportBucket: this.exportBucket,
      datasets: plan.datasets,
      sources: props.sources as Readonly<Record<string, DatasetSource>> | undefined,
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
    const access = { exportBucket: this.exportBucket, imageRepositories: [this.jobsRepository, this.applicationRepository] };
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
        });
        azureRole = reader.role;
        this.azureOidcProvider = reader.oidcProvider;
        new CfnOutput(this, 'AzureReaderRoleArn', { value: azureRole.roleArn, description: 'Role the Azure copy identity assumes (naming.azureReaderRoleArn)' });
        new CfnOutput(this, 'AzureOidcProviderArn', { value: reader.oidcProvider.oidcProviderArn, description: 'IAM OIDC provider of the Entra tenant issuer' });
      } else warn('counterparties.azure.copyIdentityPrincipalId');
    }
    this.readerRoles = { gcp: gcpRole, azure: azureRole };

    // 6. Freshness alarms.
    this.alarms = new FreshnessAlarms(this, 'Alarms', {
      stateMachine: this.stateMachine,
      window: Duration.hours(plan.rpoHours + plan.alarmGraceHours),
      topicKey: opsKey,
      emails: plan.notifications.emails,
    });
    this.alarmTopic = this.alarms.topic;
    // 7. Tamper detection: the ways around the locks (key deletion, lock or policy changes) alarm too.
    this.tamperAlarm = new TamperAlarm(this, 'TamperAlarm', {
      topic: this.alarmTopic,
      topicKey: opsKey,
      keys: [this.exportKey, this.backupVault.encryptionKey, opsKey],
      backupVaultNames: [naming.backupVaultName(plan)],
      bucketNames: [naming.exportBucketName(plan)],
    });

    new CfnOutput(this, 'ExportBucketName', { value: this.exportBucket.bucket.bucketName, description: 'Immutable export bucket (naming.exportBucketName)' });
    new CfnOutput(this, 'ExportKeyArn', { value: this.exportKey.keyArn, description: 'KMS key of the export bucket' });
    new CfnOutput(this, 'JobsImageRepositoryUri', { value: this.jobsRepository.repositoryUri, description: 'Push the jobs image here before the first night' });
  }

  private checkSources(datasets: readonly Dataset[], sources: Readonly<Record<string, Source>>): void {
    for (const [name, source] of Object.entries(sources)) {
      const ds = datasets.find((d) => d.name === name);
      if (!ds) {
        throw new Error(`${this.node.path}: sources.${name} names no dataset of the plan. Fix: use one of: ${datasets.map((d) => d.name).join(', ')}.`);
      }
      const ok = ds.kind === 's3Bucket' ? 'bucketArn' in source
        : ds.kind === 'dynamoDbTable' ? 'tableArn' in source
          : ds.kind === 'postgres' ? 'clusterIdentifier' in source || 'instanceIdentifier' in source
            : false;
      if (!ok) {
        const want = { s3Bucket: 'an s3.IBucket', dynamoDbTable: 'a dynamodb.ITable', postgres: 'an rds.IDatabaseCluster or rds.IDatabaseInstance', connectInstance: 'nothing (Connect instances have no CDK construct source)' }[ds.kind];
        throw new Error(`${this.node.path}: sources.${name} is ${(source as Construct).node?.path ?? typeof source}, but dataset "${name}" is a ${ds.kind}, which takes ${want}. Fix: pass the right construct or remove the entry.`);
      }
      if (source instanceof dynamodb.Table) {
        const cfn = source.node.defaultChild as dynamodb.CfnTable;
        const spec = cfn.pointInTimeRecoverySpecification as dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty | undefined;
        if (spec?.pointInTimeRecoveryEnabled !== true) {
          throw new Error(`${this.node.path}: sources.${name} is the table ${source.node.path}, whose point-in-time recovery is off; ExportTableToPointInTime needs it. Fix: create the table with pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true }.`);
        }
      }
    }
  }

  private snapshotResources(datasets: readonly Dataset[], sources: Readonly<Record<string, Source>>): SnapshotResource[] {
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
