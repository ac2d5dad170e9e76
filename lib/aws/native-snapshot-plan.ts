import { ArnFormat, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The kinds of resource a {@link NativeSnapshotPlan} can protect. */
export type SnapshotResourceType = 'dynamodb-table' | 'rds-cluster' | 'rds-instance' | 's3-bucket';

/** One resource the plan backs up, named by its ARN (a token when it is a construct of the same app). */
export interface SnapshotResource {
  /** What it is (decides the permissions the Backup role gets). */
  readonly type: SnapshotResourceType;
  /** Its ARN. */
  readonly arn: string;
}

/** A copy of every recovery point into a second vault (another region or account). */
export interface SnapshotCopyDestination {
  /** The destination vault (import it with `BackupVault.fromBackupVaultArn`). */
  readonly vault: backup.IBackupVault;
  /**
   * How long the copies are kept.
   * @default - the plan's retention
   */
  readonly retention?: Duration;
}

/** Properties of a {@link NativeSnapshotPlan}. */
export interface NativeSnapshotPlanProps {
  /** The vault the recovery points go to. */
  readonly vault: backup.IBackupVault;
  /**
   * The vault's customer-managed key, so that the Backup role can use it.
   * @default - no key grant (the vault uses an AWS-owned key, or the key policy grants the role)
   */
  readonly vaultKey?: kms.IKey;
  /** When the nightly rule runs: an AWS cron expression, `cron(0 2 * * ? *)` (BackupPlanRule takes cron only). */
  readonly scheduleExpression: string;
  /**
   * IANA time zone the cron is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /** How long recovery points are kept (at least the vault's minimum retention). */
  readonly retention: Duration;
  /** The resources backed up, listed by ARN (never by tag). At least one. */
  readonly resources: SnapshotResource[];
  /**
   * Copy every recovery point to a second vault.
   * @default - no copy
   */
  readonly copyTo?: SnapshotCopyDestination;
  /**
   * The backup plan's name.
   * @default - a CloudFormation-generated name
   */
  readonly backupPlanName?: string;
}

/**
 * A nightly AWS Backup plan: one rule from the plan's schedule and retention,
 * a selection that lists the protected resources themselves (not tags), an
 * optional copy to another vault, and a Backup role with a customer-managed
 * policy scoped to those resources instead of the AWS-managed
 * `AWSBackupServiceRolePolicyForBackup`.
 */
export class NativeSnapshotPlan extends Construct {
  /** The backup plan. */
  public readonly plan: backup.BackupPlan;
  /** The selection of protected resources. */
  public readonly selection: backup.BackupSelection;
  /** The role AWS Backup assumes. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: NativeSnapshotPlanProps) {
    super(scope, id);
    if (props.resources.length === 0) {
      throw new Error(`${this.node.path}: resources is empty; a backup selection needs at least one resource. Fix: list the tables, databases and buckets to back up by ARN.`);
    }
    if (!/^cron\(.+\)$/.test(props.scheduleExpression)) {
      throw new Error(`${this.node.path}: scheduleExpression is ${JSON.stringify(props.scheduleExpression)}; AWS Backup rules take a cron expression only. Fix: pass awsScheduleExpression(plan), e.g. "cron(0 2 * * ? *)".`);
    }
    const days = props.retention.toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new Error(`${this.node.path}: retention is ${days} days; it must be a whole number of days, at least 1. Fix: pass Duration.days(plan.retentionDays).`);
    }
    const stack = Stack.of(this);
    const of = (t: SnapshotResourceType) => props.resources.filter((r) => r.type === t).map((r) => r.arn);

    const policy = new iam.ManagedPolicy(this, 'BackupPolicy', { description: 'AWS Backup: back up the Counterparty-protected resources only' });
    const tables = of('dynamodb-table');
    if (tables.length) {
      policy.addStatements(
        new iam.PolicyStatement({ sid: 'DynamoDbBackup', actions: ['dynamodb:DescribeTable', 'dynamodb:CreateBackup', 'dynamodb:StartAwsBackupJob', 'dynamodb:ListTagsOfResource'], resources: tables }),
        new iam.PolicyStatement({ sid: 'DynamoDbBackupResources', actions: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'], resources: tables.map((t) => `${t}/backup/*`) }),
      );
    }
    const clusters = of('rds-cluster');
    const instances = of('rds-instance');
    if (clusters.length || instances.length) {
      const snapshotArns = [
        ...(clusters.length ? [stack.formatArn({ service: 'rds', resource: 'cluster-snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] : []),
        ...(instances.length ? [stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] : []),
      ];
      policy.addStatements(
        new iam.PolicyStatement({
          sid: 'RdsSnapshot',
          actions: ['rds:CreateDBClusterSnapshot', 'rds:CreateDBSnapshot', 'rds:AddTagsToResource', 'rds:ListTagsForResource'],
          resources: [...clusters, ...instances, ...snapshotArns],
        }),
        new iam.PolicyStatement({
          sid: 'RdsSnapshotManage',
          actions: ['rds:CopyDBClusterSnapshot', 'rds:CopyDBSnapshot', 'rds:DeleteDBClusterSnapshot', 'rds:DeleteDBSnapshot', 'rds:ModifyDBClusterSnapshotAttribute', 'rds:ModifyDBSnapshotAttribute'],
          resources: snapshotArns,
        }),
        new iam.PolicyStatement({
          sid: 'RdsDescribe',
          // RDS Describe* calls do not support resource-level scoping for these list operations.
          actions: ['rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:DescribeDBClusterSnapshots', 'rds:DescribeDBSnapshots', 'rds:DescribeDBClusterAutomatedBackups'],
          resources: ['*'],
        }),
      );
    }
    const buckets = of('s3-bucket');
    if (buckets.length) {
      policy.addStatements(
        new iam.PolicyStatement({
          sid: 'S3BucketBackup',
          actions: ['s3:GetInventoryConfiguration', 's3:PutInventoryConfiguration', 's3:ListBucketVersions', 's3:ListBucket', 's3:GetBucketVersioning',
            's3:GetBucketNotification', 's3:PutBucketNotification', 's3:GetBucketLocation', 's3:GetBucketTagging', 's3:GetBucketAcl'],
          resources: buckets,
        }),
        new iam.PolicyStatement({
          sid: 'S3ObjectBackup',
          actions: ['s3:GetObjectAcl', 's3:GetObject', 's3:GetObjectVersionTagging', 's3:GetObjectVersionAcl', 's3:GetObjectTagging', 's3:GetObjectVersion'],
          resources: buckets.map((b) => `${b}/*`),
        }),
        new iam.PolicyStatement({
          sid: 'S3BackupEventRule',
          actions: ['events:DeleteRule', 'events:PutTargets', 'events:DescribeRule', 'events:EnableRule', 'events:PutRule', 'events:RemoveTargets', 'events:ListTargetsByRule', 'events:DisableRule'],
          resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'AwsBackupManagedRule*' })],
        }),
        new iam.PolicyStatement({ sid: 'S3BackupMetrics', actions: ['cloudwatch:GetMetricData', 'events:ListRules'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'S3SourceKeys',
          actions: ['kms:Decrypt', 'kms:DescribeKey'],
          resources: ['*'],
          conditions: { StringLike: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    policy.addStatements(new iam.PolicyStatement({ sid: 'ResourceDiscovery', actions: ['tag:GetResources', 'backup:DescribeBackupVault'], resources: ['*'] }));
    if (props.copyTo) {
      policy.addStatements(new iam.PolicyStatement({ sid: 'CopyIntoDestination', actions: ['backup:CopyIntoBackupVault'], resources: [props.copyTo.vault.backupVaultArn] }));
    }

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'Assumed by AWS Backup for the Counterparty nightly snapshot plan',
      managedPolicies: [policy],
    });
    if (props.vaultKey) {
      props.vaultKey.grant(this.role, 'kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:RetireGrant', 'kms:DescribeKey');
    }

    this.plan = new backup.BackupPlan(this, 'Plan', { backupPlanName: props.backupPlanName, backupVault: props.vault });
    this.plan.addRule(new backup.BackupPlanRule({
      ruleName: 'Nightly',
      backupVault: props.vault,
      scheduleExpression: events.Schedule.expression(props.scheduleExpression),
      scheduleExpressionTimezone: TimeZone.of(props.timeZone ?? 'UTC'),
      startWindow: Duration.hours(1),
      completionWindow: Duration.hours(8),
      deleteAfter: Duration.days(days),
      copyActions: props.copyTo ? [{ destinationBackupVault: props.copyTo.vault, deleteAfter: props.copyTo.retention ?? Duration.days(days) }] : undefined,
    }));
    this.selection = this.plan.addSelection('ProtectedResources', {
      role: this.role,
      resources: props.resources.map((r) => backup.BackupResource.fromArn(r.arn)),
      allowRestores: false,
      // The role carries the scoped customer-managed policy above, not AWSBackupServiceRolePolicyForBackup.
      disableDefaultBackupPolicy: true,
    });
  }
}
