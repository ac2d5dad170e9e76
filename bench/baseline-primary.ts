/**
 * BENCHMARK BASELINE ONLY. Not part of Counterparty, not exported, not tested.
 *
 * The AWS resources that Counterparty's `PrimarySite` emits for a plan, written
 * directly with plain aws-cdk-lib L2/L1 constructs and no Counterparty code:
 * no import from lib/, no plan validation, no naming contract (the names are
 * spelled out here), no night templates. It exists so that `npm run bench`
 * can compare the cost of synthesizing `PrimarySite` against the cost of the
 * same template written by hand (issue 7, "hand-written baseline").
 *
 * It mirrors lib/aws as of the benchmark's writing, down to construct IDs, so
 * that the two templates are the same: the harness prints both templates'
 * resource counts per type and a normalized diff at every size. When lib/aws
 * changes what it emits, this file must follow, or the comparison says so.
 *
 * It reads the plan as a plain object (the shape of a generated plan:
 * scripts/bench/plan-gen.ts), with every default written out.
 */
import * as path from 'node:path';
import { ArnFormat, CfnOutput, Duration, Fn, Lazy, Names, RemovalPolicy, Stack, Tags, TimeZone, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

interface Network { vpcId: string; subnetIds: readonly string[]; securityGroupIds: readonly string[]; availabilityZones?: readonly string[] }
type BaselineDataset =
  | { kind: 's3Bucket'; name: string; bucketName: string; prefix?: string }
  | { kind: 'dynamoDbTable'; name: string; tableName: string }
  | { kind: 'postgres'; name: string; engine: string; identifier: string; endpoint: string; port?: number; databaseName: string; credentialsSecretArn: string; network: Network }
  | { kind: 'connectInstance'; name: string; instanceId: string };

/** The plan fields the baseline reads (a generated plan, with its defaults as the plan generator writes them). */
export interface BaselinePlan {
  readonly system: string;
  readonly primary: { readonly account: string; readonly region: string };
  readonly datasets: readonly BaselineDataset[];
  readonly retentionDays: number;
  readonly counterparties: {
    readonly gcp?: { readonly storageTransferSubjectId?: string; readonly imageMirrorSubjectId?: string };
    readonly azure?: { readonly tenantId: string; readonly copyIdentityPrincipalId?: string; readonly tokenAudience?: string; readonly mirrorIdentityPrincipalId?: string };
  };
  readonly notifications?: { readonly emails?: readonly string[] };
  readonly images?: { readonly application?: string; readonly jobs?: string };
  readonly tags?: Readonly<Record<string, string>>;
}

const HANDLERS = path.join(__dirname, '..', 'lib', 'runtime', 'handlers');

/** A KMS key with rotation, RETAIN, an alias and a statement denying deletion/disabling to all but the account root. */
function protectedKey(scope: Construct, id: string, alias: string, description: string): kms.Key {
  const holder = new Construct(scope, id);
  const key = new kms.Key(holder, 'Key', { description, enableKeyRotation: true, pendingWindow: Duration.days(30), removalPolicy: RemovalPolicy.RETAIN });
  key.addAlias(alias);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyKeyDestruction',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'],
    resources: ['*'],
    conditions: { ArnNotEquals: { 'aws:PrincipalArn': [Stack.of(scope).formatArn({ service: 'iam', region: '', resource: 'root' })] } },
  }));
  key.addToResourcePolicy(denyGrantsNotForAwsResources());
  return key;
}

function denyGrantsNotForAwsResources(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DenyGrantsNotForAwsResources',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false' } },
  });
}

/** The Amazon Connect read actions the crawler calls (lib/runtime/exporters/connect.ts CONNECT_READ_ACTIONS, written out). */
const CONNECT_READ_ACTIONS = [
  'connect:DescribeAgentStatus', 'connect:DescribeContactFlow', 'connect:DescribeContactFlowModule', 'connect:DescribeHoursOfOperation', 'connect:DescribeInstance',
  'connect:DescribePhoneNumber', 'connect:DescribePredefinedAttribute', 'connect:DescribePrompt', 'connect:DescribeQueue', 'connect:DescribeQuickConnect',
  'connect:DescribeRoutingProfile', 'connect:DescribeRule', 'connect:DescribeSecurityProfile', 'connect:DescribeUser', 'connect:DescribeUserHierarchyGroup',
  'connect:DescribeUserHierarchyStructure', 'connect:DescribeView', 'connect:GetPromptFile', 'connect:GetTaskTemplate', 'connect:ListAgentStatuses',
  'connect:ListApprovedOrigins', 'connect:ListBots', 'connect:ListContactFlowModules', 'connect:ListContactFlows', 'connect:ListFlowAssociations',
  'connect:ListHoursOfOperations', 'connect:ListInstanceAttributes', 'connect:ListInstanceStorageConfigs', 'connect:ListLambdaFunctions', 'connect:ListPhoneNumbersV2',
  'connect:ListPredefinedAttributes', 'connect:ListPrompts', 'connect:ListQueueQuickConnects', 'connect:ListQueues', 'connect:ListQuickConnects',
  'connect:ListRoutingProfileQueues', 'connect:ListRoutingProfiles', 'connect:ListRules', 'connect:ListSecurityProfilePermissions', 'connect:ListSecurityProfiles',
  'connect:ListTaskTemplates', 'connect:ListUserHierarchyGroups', 'connect:ListUsers', 'connect:ListViews',
];

/** EcsRunTask with ecs:StopTask / DescribeTasks on the cluster's tasks only (ecs:cluster condition). */
class ClusterScopedEcsRunTask extends tasks.EcsRunTask {
  constructor(scope: Construct, id: string, props: tasks.EcsRunTaskProps) {
    super(scope, id, props);
    const statements = this.taskPolicies ?? [];
    const i = statements.findIndex((st) => st.actions.includes('ecs:StopTask'));
    statements.splice(i, 1, new iam.PolicyStatement({
      actions: ['ecs:StopTask', 'ecs:DescribeTasks'],
      resources: [Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${props.cluster.clusterName}/*` })],
      conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
    }));
  }
}

export class BaselinePrimary extends Construct {
  constructor(scope: Construct, id: string, props: { plan: BaselinePlan }) {
    super(scope, id);
    const plan = props.plan;
    const stack = Stack.of(this);
    const { system } = plan;
    const { account, region } = plan.primary;
    const days = plan.retentionDays;
    for (const [k, v] of Object.entries(plan.tags ?? {})) Tags.of(this).add(k, v);

    // Operations key.
    const opsKey = protectedKey(this, 'OperationsKey', `alias/${system}/exports-operations`, `Counterparty ${system}: encrypts logs, the alarm topic and the jobs image repository`);
    opsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
    }));

    // Export bucket and its access log bucket.
    const bucketName = `${system}-exports-${account}-${region}`;
    const exportScope = new Construct(this, 'ExportBucket');
    exportScope.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const exportKey = protectedKey(exportScope, 'Key', `alias/${system}/exports`, `Encrypts the immutable export bucket ${bucketName}`);
    const accessLogs = new s3.Bucket(exportScope, 'AccessLogs', {
      bucketName: `${system}-access-logs-${account}-${region}`,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(Math.max(days, 365)), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    const bucket = new s3.Bucket(exportScope, 'Bucket', {
      bucketName,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(days)),
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: exportKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: `${bucketName}/`,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-noncurrent-after-retention', noncurrentVersionExpiration: Duration.days(days), abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { id: 'expire-current-after-retention-0', prefix: 'nights/', expiration: Duration.days(days + 7) },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyLockBypassExceptBreakGlass',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:BypassGovernanceRetention', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 's3:PutBucketObjectLockConfiguration'],
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': [stack.formatArn({ service: 'iam', region: '', resource: 'root' })] } },
    }));
    // The prune role (added below) may delete under blobs/sha256/ only.
    const blobDeleters: string[] = [];
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyDeletesExceptAllowed',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [bucket.arnForObjects('*')],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => [stack.formatArn({ service: 'iam', region: '', resource: 'root' }), ...blobDeleters] }) } },
    }));
    const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } };
    const writeUnder = (grantee: iam.IGrantable, keyPattern: string) => {
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resourceArns: [bucket.arnForObjects(keyPattern)] });
      grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [exportKey.keyArn], conditions: viaS3 }));
    };
    const readUnder = (grantee: iam.IGrantable, keyPattern = '*') => {
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [bucket.arnForObjects(keyPattern)] });
      grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [exportKey.keyArn], conditions: viaS3 }));
    };

    // Locked Backup vault.
    const vaultScope = new Construct(this, 'BackupVault');
    const vaultKey = protectedKey(vaultScope, 'Key', `alias/${system}/backup-vault`, `Encrypts the recovery points of the AWS Backup vault ${system}-vault`);
    const vault = new backup.BackupVault(vaultScope, 'Vault', {
      backupVaultName: `${system}-vault`,
      encryptionKey: vaultKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lockConfiguration: { minRetention: Duration.days(days) },
    });

    // Nightly AWS Backup plan, selection by ARN, customer-managed policy.
    const tables: string[] = [];
    const clusters: string[] = [];
    const instances: string[] = [];
    const buckets: string[] = [];
    const selected: string[] = [];
    for (const ds of plan.datasets) {
      let arn: string | undefined;
      if (ds.kind === 's3Bucket') buckets.push(arn = stack.formatArn({ service: 's3', region: '', account: '', resource: ds.bucketName }));
      if (ds.kind === 'dynamoDbTable') tables.push(arn = stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: ds.tableName }));
      if (ds.kind === 'postgres') {
        if (ds.engine === 'aurora-postgresql') clusters.push(arn = stack.formatArn({ service: 'rds', resource: 'cluster', resourceName: ds.identifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
        else instances.push(arn = stack.formatArn({ service: 'rds', resource: 'db', resourceName: ds.identifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
      }
      if (arn) selected.push(arn);
    }
    let backupPlanId: string | undefined;
    if (selected.length > 0) {
      const snaps = new Construct(this, 'Snapshots');
      const policy = new iam.ManagedPolicy(snaps, 'BackupPolicy', { description: 'AWS Backup: back up the Counterparty-protected resources only' });
      if (tables.length) {
        policy.addStatements(
          new iam.PolicyStatement({ sid: 'DynamoDbBackup', actions: ['dynamodb:DescribeTable', 'dynamodb:CreateBackup', 'dynamodb:StartAwsBackupJob', 'dynamodb:ListTagsOfResource'], resources: tables }),
          new iam.PolicyStatement({ sid: 'DynamoDbBackupResources', actions: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'], resources: tables.map((t) => `${t}/backup/*`) }),
        );
      }
      if (clusters.length || instances.length) {
        const snapshotArns = [
          ...(clusters.length ? [stack.formatArn({ service: 'rds', resource: 'cluster-snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] : []),
          ...(instances.length ? [stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] : []),
        ];
        policy.addStatements(
          new iam.PolicyStatement({ sid: 'RdsSnapshot', actions: ['rds:CreateDBClusterSnapshot', 'rds:CreateDBSnapshot', 'rds:AddTagsToResource', 'rds:ListTagsForResource'], resources: [...clusters, ...instances, ...snapshotArns] }),
          new iam.PolicyStatement({
            sid: 'RdsSnapshotManage',
            actions: ['rds:CopyDBClusterSnapshot', 'rds:CopyDBSnapshot', 'rds:DeleteDBClusterSnapshot', 'rds:DeleteDBSnapshot', 'rds:ModifyDBClusterSnapshotAttribute', 'rds:ModifyDBSnapshotAttribute'],
            resources: snapshotArns,
          }),
          new iam.PolicyStatement({ sid: 'RdsDescribe', actions: ['rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:DescribeDBClusterSnapshots', 'rds:DescribeDBSnapshots', 'rds:DescribeDBClusterAutomatedBackups'], resources: ['*'] }),
        );
      }
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
          new iam.PolicyStatement({ sid: 'S3SourceKeys', actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: ['*'], conditions: { StringLike: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } } }),
        );
      }
      policy.addStatements(new iam.PolicyStatement({ sid: 'ResourceDiscovery', actions: ['tag:GetResources', 'backup:DescribeBackupVault'], resources: ['*'] }));
      const backupRole = new iam.Role(snaps, 'Role', {
        assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
        description: 'Assumed by AWS Backup for the Counterparty nightly snapshot plan',
        managedPolicies: [policy],
      });
      vaultKey.grant(backupRole, 'kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:RetireGrant', 'kms:DescribeKey');
      const backupPlan = new backup.BackupPlan(snaps, 'Plan', { backupPlanName: `${system}-nightly`, backupVault: vault });
      backupPlanId = backupPlan.backupPlanId;
      backupPlan.addRule(new backup.BackupPlanRule({
        ruleName: 'Nightly',
        backupVault: vault,
        scheduleExpression: events.Schedule.expression('cron(0 2 * * ? *)'),
        scheduleExpressionTimezone: TimeZone.of('UTC'),
        startWindow: Duration.hours(1),
        completionWindow: Duration.hours(8),
        deleteAfter: Duration.days(days),
      }));
      backupPlan.addSelection('ProtectedResources', {
        role: backupRole,
        resources: selected.map((a) => backup.BackupResource.fromArn(a)),
        allowRestores: false,
        disableDefaultBackupPolicy: true,
      });
    }

    // Image repositories.
    const jobsImage = plan.images?.jobs ?? 'counterparty-jobs:0.1.0';
    const appImage = plan.images?.application ?? 'contact-centre-app:stable';
    const jobsRepository = new ecr.Repository(this, 'JobsImageRepository', {
      repositoryName: jobsImage.slice(0, jobsImage.lastIndexOf(':')),
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: opsKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ description: 'Expire untagged images', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7) }],
    });
    const appRepository = ecr.Repository.fromRepositoryName(this, 'ApplicationImageRepository', appImage.slice(0, appImage.lastIndexOf(':')));

    // Nightly export pipeline.
    const ne = new Construct(this, 'NightlyExport');
    ne.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const night = (template: string) => sfn.JsonPath.format(template, sfn.JsonPath.stringAt('$.night'));
    const firstPg = plan.datasets.find((d) => d.kind === 'postgres');
    const network = firstPg && firstPg.kind === 'postgres' ? firstPg.network : undefined;
    const vpc = network ? ec2.Vpc.fromVpcAttributes(ne, 'JobsVpc', { vpcId: network.vpcId, availabilityZones: network.availabilityZones ? [...network.availabilityZones] : Fn.getAzs() }) : undefined;
    const cluster = plan.datasets.some((d) => d.kind === 's3Bucket' || d.kind === 'postgres')
      ? new ecs.Cluster(ne, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED })
      : undefined;
    const logGroup = (id: string) => new logs.LogGroup(ne, id, { encryptionKey: opsKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    const taskDefinition = (id: string, cpu: number, memoryLimitMiB: number) => {
      const td = new ecs.FargateTaskDefinition(ne, id, { cpu, memoryLimitMiB, runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX } });
      const lg = logGroup(`${id}Logs`);
      td.addVolume({ name: 'tmp' });
      td.addContainer('jobs', {
        image: ecs.ContainerImage.fromEcrRepository(jobsRepository, jobsImage.slice(jobsImage.lastIndexOf(':') + 1)),
        logging: ecs.LogDrivers.awsLogs({ logGroup: lg, streamPrefix: id }),
        readonlyRootFilesystem: true,
        user: '1000:1000',
        memoryLimitMiB,
        environment: { CP_EXPORT_BUCKET: bucket.bucketName, AWS_REGION: stack.region },
      }).addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
      return td;
    };
    const runTask = (id: string, td: ecs.FargateTaskDefinition, net: Network, command: string, environment: Record<string, string>) => {
      const subnets = net.subnetIds.map((s, i) => {
        const subnet = ec2.Subnet.fromSubnetId(ne, `${id}Subnet${i}`, s);
        Validations.of(subnet).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'The subnet is only passed to ecs:RunTask; its route table is never read.' });
        return subnet;
      });
      return new ClusterScopedEcsRunTask(ne, id, {
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        cluster: cluster!,
        taskDefinition: td,
        launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
        subnets: { subnets },
        securityGroups: net.securityGroupIds.map((g, i) => ec2.SecurityGroup.fromSecurityGroupId(ne, `${id}Sg${i}`, g, { mutable: false })),
        assignPublicIp: false,
        containerOverrides: [{ containerDefinition: td.defaultContainer!, command: [command], environment: Object.entries(environment).map(([name, value]) => ({ name, value })) }],
        resultPath: sfn.JsonPath.DISCARD,
      });
    };
    const newFunction = (fid: string, handler: string, timeout: Duration, memorySize: number) => {
      const lg = logGroup(`${fid}Logs`);
      const role = new iam.Role(ne, `${fid}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Counterparty ${handler} function` });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [lg.logGroupArn, `${lg.logGroupArn}:*`] }));
      return new nodejs.NodejsFunction(ne, fid, {
        entry: path.join(HANDLERS, `${handler}.ts`),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        timeout,
        memorySize,
        role,
        logGroup: lg,
        tracing: lambda.Tracing.ACTIVE,
        environment: { NODE_OPTIONS: '--enable-source-maps' },
        bundling: { minify: true, sourceMap: true, target: 'node24', format: nodejs.OutputFormat.CJS, bundleAwsSDK: true },
      });
    };

    let syncTd: ecs.FargateTaskDefinition | undefined;
    let pgTd: ecs.FargateTaskDefinition | undefined;
    let connectFn: nodejs.NodejsFunction | undefined;
    let staging: s3.Bucket | undefined;
    const guarded = (name: string, branch: sfn.IChainable): sfn.IChainable => {
      const wrapper = new sfn.Parallel(ne, `Dataset ${name}`, { resultSelector: { dataset: name, status: 'exported', error: '' } });
      wrapper.branch(branch);
      wrapper.addCatch(new sfn.Pass(ne, `${name} failed`, { parameters: { dataset: name, status: 'failed', 'error.$': '$.error' } }), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return wrapper;
    };
    const branches: sfn.IChainable[] = plan.datasets.map((ds): sfn.IChainable => {
      switch (ds.kind) {
        case 'dynamoDbTable': {
          staging ??= new s3.Bucket(ne, 'DynamoDbExportStaging', {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: exportKey,
            bucketKeyEnabled: true,
            versioned: true,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            enforceSSL: true,
            minimumTLSVersion: 1.2,
            objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            serverAccessLogsBucket: accessLogs,
            serverAccessLogsPrefix: 'dynamodb-export-staging/',
            removalPolicy: RemovalPolicy.RETAIN,
            lifecycleRules: [{ id: 'expire-staged-exports', expiration: Duration.days(7), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
          });
          const stg = staging;
          const tableArn = stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: ds.tableName });
          const start = new tasks.CallAwsService(ne, `Export ${ds.name}`, {
            service: 'dynamodb',
            action: 'exportTableToPointInTime',
            parameters: {
              TableArn: tableArn,
              S3Bucket: stg.bucketName,
              S3BucketOwner: stack.account,
              S3Prefix: night(`nights/{}/${ds.name}`),
              ExportFormat: 'DYNAMODB_JSON',
              S3SseAlgorithm: 'KMS',
              S3SseKmsKeyId: exportKey.keyArn,
              ClientToken: night(`{}-${ds.name}`),
            },
            iamResources: [tableArn],
            iamAction: 'dynamodb:ExportTableToPointInTime',
            additionalIamStatements: [
              new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'], resources: [stg.arnForObjects(`nights/*/${ds.name}/*`)] }),
              new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [exportKey.keyArn] }),
            ],
            resultSelector: { 'exportArn.$': '$.ExportDescription.ExportArn' },
            resultPath: '$.export',
          });
          const wait = new sfn.Wait(ne, `Wait for ${ds.name}`, { time: sfn.WaitTime.duration(Duration.minutes(2)) });
          const describe = new tasks.CallAwsService(ne, `Check ${ds.name}`, {
            service: 'dynamodb',
            action: 'describeExport',
            parameters: { 'ExportArn.$': '$.export.exportArn' },
            iamResources: [`${tableArn}/export/*`],
            iamAction: 'dynamodb:DescribeExport',
            resultSelector: { 'exportArn.$': '$.ExportDescription.ExportArn', 'status.$': '$.ExportDescription.ExportStatus' },
            resultPath: '$.export',
          });
          describe.addRetry({ errors: ['DynamoDb.LimitExceededException', 'DynamoDb.InternalServerErrorException'], interval: Duration.seconds(10), maxAttempts: 5, backoffRate: 2 });
          const copyOne = new tasks.CallAwsService(ne, `Copy ${ds.name} file`, {
            service: 's3',
            action: 'copyObject',
            parameters: {
              Bucket: bucket.bucketName,
              'Key.$': '$.Key',
              CopySource: sfn.JsonPath.format(`${stg.bucketName}/{}`, sfn.JsonPath.stringAt('$.Key')),
              ChecksumAlgorithm: 'SHA256',
              ExpectedBucketOwner: stack.account,
              ExpectedSourceBucketOwner: stack.account,
            },
            iamAction: 's3:PutObject',
            iamResources: [bucket.arnForObjects(`nights/*/${ds.name}/*`)],
            additionalIamStatements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [stg.arnForObjects(`nights/*/${ds.name}/*`)] })],
          });
          copyOne.addRetry({ errors: ['S3.SlowDownException', 'S3.InternalErrorException', 'S3.S3Exception'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
          const exportId = new sfn.Pass(ne, `${ds.name} export ID`, {
            parameters: { 'exportArn.$': '$.export.exportArn', 'status.$': '$.export.status', 'id.$': "States.ArrayGetItem(States.StringSplit($.export.exportArn, '/'), 3)" },
            resultPath: '$.export',
          });
          const copy = new sfn.DistributedMap(ne, `Copy ${ds.name} export`, {
            itemReader: new sfn.S3ObjectsItemReader({
              bucket: stg,
              prefix: sfn.JsonPath.format(`nights/{}/${ds.name}/AWSDynamoDB/{}/`, sfn.JsonPath.stringAt('$.night'), sfn.JsonPath.stringAt('$.export.id')),
            }),
            maxConcurrency: 100,
            resultPath: sfn.JsonPath.DISCARD,
            mapExecutionType: sfn.StateMachineType.STANDARD,
          });
          copy.itemProcessor(copyOne);
          const failedExport = new sfn.Fail(ne, `${ds.name} export failed`, { error: 'DynamoDbExportFailed', cause: `ExportTableToPointInTime of ${ds.name} ended FAILED` });
          return guarded(ds.name, start.next(wait).next(describe).next(new sfn.Choice(ne, `${ds.name} done?`)
            .when(sfn.Condition.stringEquals('$.export.status', 'COMPLETED'), exportId.next(copy))
            .when(sfn.Condition.stringEquals('$.export.status', 'FAILED'), failedExport)
            .otherwise(wait)));
        }
        case 's3Bucket': {
          syncTd ??= taskDefinition('SyncObjectsTask', 1024, 2048);
          const source = s3.Bucket.fromBucketName(ne, `Source-${ds.name}`, ds.bucketName);
          syncTd.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [source.bucketArn] }));
          syncTd.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
            actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectTagging'],
            resources: [source.arnForObjects(ds.prefix ? `${ds.prefix}*` : '*')],
          }));
          readUnder(syncTd.taskRole, 'blobs/sha256/*');
          writeUnder(syncTd.taskRole, 'blobs/sha256/*');
          readUnder(syncTd.taskRole, 'nights/*');
          writeUnder(syncTd.taskRole, `nights/*/${ds.name}/*`);
          return guarded(ds.name, runTask(`Sync ${ds.name}`, syncTd, network!, 'sync-objects', {
            CP_DATASET: ds.name,
            CP_SOURCE_BUCKET: source.bucketName,
            ...(ds.prefix ? { CP_SOURCE_PREFIX: ds.prefix } : {}),
            CP_NIGHT: sfn.JsonPath.stringAt('$.night'),
          }));
        }
        case 'postgres': {
          pgTd ??= taskDefinition('ExportPostgresTask', 1024, 4096);
          secretsmanager.Secret.fromSecretCompleteArn(ne, `Secret-${ds.name}`, ds.credentialsSecretArn).grantRead(pgTd.taskRole);
          writeUnder(pgTd.taskRole, `nights/*/${ds.name}/dump.pgdump`);
          return guarded(ds.name, runTask(`Dump ${ds.name}`, pgTd, ds.network, 'export-postgres', {
            CP_DATASET: ds.name,
            PGHOST: ds.endpoint,
            PGPORT: String(ds.port ?? 5432),
            PGDATABASE: ds.databaseName,
            CP_PG_SECRET_ARN: ds.credentialsSecretArn,
            CP_NIGHT: sfn.JsonPath.stringAt('$.night'),
          }));
        }
        case 'connectInstance': {
          connectFn ??= newFunction('ConnectExport', 'connect-export', Duration.minutes(15), 512);
          const fn = connectFn;
          const sid = ds.name.replace(/[^A-Za-z0-9]/g, '');
          const instanceArn = stack.formatArn({ service: 'connect', resource: 'instance', resourceName: ds.instanceId });
          fn.addToRolePolicy(new iam.PolicyStatement({
            sid: `ReadConnectConfiguration${sid}`,
            actions: CONNECT_READ_ACTIONS.filter((a) => a !== 'connect:DescribePhoneNumber'),
            resources: [instanceArn, `${instanceArn}/*`],
          }));
          fn.addToRolePolicy(new iam.PolicyStatement({
            sid: `ReadConnectPhoneNumbers${sid}`,
            actions: ['connect:DescribePhoneNumber'],
            resources: [stack.formatArn({ service: 'connect', resource: 'phone-number', resourceName: '*' })],
          }));
          writeUnder(fn, `nights/*/${ds.name}/*`);
          readUnder(fn, `nights/*/${ds.name}/*`);
          const event = (extra: Record<string, unknown>) => sfn.TaskInput.fromObject({ instanceId: ds.instanceId, bucket: bucket.bucketName, prefix: night(`nights/{}/${ds.name}/`), ...extra });
          const invoke = (iid: string, payload: sfn.TaskInput, resultPath: string) => new tasks.LambdaInvoke(ne, iid, {
            lambdaFunction: fn, payload, payloadResponseOnly: true, retryOnServiceExceptions: true, resultPath,
          });
          const planStep = invoke(`Plan ${ds.name} export`, event({ action: 'plan' }), '$.connectPlan');
          const crawl = new sfn.Map(ne, `Export ${ds.name} resource types`, {
            itemsPath: '$.connectPlan.items',
            maxConcurrency: 1,
            itemSelector: {
              instanceId: ds.instanceId,
              bucket: bucket.bucketName,
              'night.$': '$.night',
              'resourceTypes.$': '$$.Map.Item.Value.resourceTypes',
              'shard.$': '$$.Map.Item.Value.shard',
            },
            resultPath: sfn.JsonPath.DISCARD,
          });
          crawl.itemProcessor(invoke(`Export ${ds.name} types`, sfn.TaskInput.fromObject({
            instanceId: ds.instanceId,
            bucket: bucket.bucketName,
            prefix: night(`nights/{}/${ds.name}/`),
            'resourceTypes.$': '$.resourceTypes',
            'shard.$': '$.shard',
          }), sfn.JsonPath.DISCARD));
          const finalize = invoke(`Finalize ${ds.name} export`, event({ action: 'finalize' }), sfn.JsonPath.DISCARD);
          return guarded(ds.name, planStep.next(crawl).next(finalize));
        }
      }
    });

    const nightFromSchedule = new sfn.Pass(ne, 'Night from scheduled time', {
      parameters: { 'night.$': "States.ArrayGetItem(States.StringSplit($.scheduledTime, 'T'), 0)", 'scheduledTime.$': '$.scheduledTime' },
    });
    const nightGiven = new sfn.Pass(ne, 'Night given', { parameters: { 'night.$': '$.night' } });
    const exportsState = new sfn.Parallel(ne, 'Export datasets', { resultPath: '$.datasets' });
    for (const b of branches) exportsState.branch(b);
    const summarize = new sfn.Pass(ne, 'Collect dataset statuses', { parameters: { 'statuses.$': '$.datasets[*].status' }, resultPath: '$.summary' });
    const anyFailed = new sfn.Pass(ne, 'Any dataset failed?', { parameters: { 'anyFailed.$': "States.ArrayContains($.summary.statuses, 'failed')" }, resultPath: '$.summary' });
    const manifestFn = newFunction('BuildManifest', 'build-manifest', Duration.minutes(15), 1024);
    readUnder(manifestFn);
    writeUnder(manifestFn, 'nights/*/manifest.json');
    for (const ds of plan.datasets) {
      if (ds.kind !== 'dynamoDbTable') continue;
      writeUnder(manifestFn, `nights/*/${ds.name}/table.json`);
      manifestFn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: ds.tableName })] }));
    }
    const manifest = new tasks.LambdaInvoke(ne, 'Write manifest', {
      lambdaFunction: manifestFn,
      payload: sfn.TaskInput.fromObject({
        bucket: bucket.bucketName,
        'night.$': '$.night',
        datasets: plan.datasets.map((d) => (d.kind === 'dynamoDbTable' ? { name: d.name, kind: d.kind, tableName: d.tableName } : { name: d.name, kind: d.kind })),
        failures: Object.fromEntries(plan.datasets.map((d, i) => [`${d.name}.$`, `$.datasets[${i}].error`])),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath: '$.manifest',
    });
    const verdict = new sfn.Choice(ne, 'All datasets exported?')
      .when(sfn.Condition.booleanEquals('$.summary.anyFailed', true), new sfn.Fail(ne, 'Night incomplete', {
        error: 'DatasetExportFailed',
        cause: 'At least one dataset failed to export; the other datasets were exported and the manifest marks the failed ones.',
      }))
      .otherwise(new sfn.Succeed(ne, 'Night exported'));
    const definition = new sfn.Choice(ne, 'Night given?')
      .when(sfn.Condition.isPresent('$.night'), nightGiven)
      .otherwise(nightFromSchedule)
      .afterwards()
      .next(exportsState)
      .next(summarize)
      .next(anyFailed)
      .next(manifest)
      .next(verdict);
    const stateMachine = new sfn.StateMachine(ne, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(3),
      tracingEnabled: true,
      logs: { destination: logGroup('StateMachineLogs'), level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Counterparty nightly portable export',
    });
    new scheduler.Schedule(ne, 'Schedule', {
      description: 'Starts the Counterparty nightly export',
      schedule: scheduler.ScheduleExpression.expression('cron(0 2 * * ? *)', TimeZone.of('UTC')),
      enabled: true,
      target: new schedulerTargets.StepFunctionsStartExecution(stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });

    // Keyless counterparty readers.
    const readerRole = (rid: string, roleName: string, principal: iam.IPrincipal, description: string) => {
      const role = new iam.Role(new Construct(this, rid), 'Role', { roleName, path: '/counterparty/', assumedBy: principal, description, maxSessionDuration: Duration.hours(1) });
      iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'], resourceArns: [bucket.bucketArn] });
      iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectTagging'], resourceArns: [bucket.arnForObjects('*')] });
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [exportKey.keyArn], conditions: viaS3 }));
      return role;
    };
    // Image-mirror roles: ECR pull only.
    const mirrorRole = (rid: string, roleName: string, principal: iam.IPrincipal, description: string) => {
      const role = new iam.Role(new Construct(this, rid), 'Role', { roleName, path: '/counterparty/', assumedBy: principal, description, maxSessionDuration: Duration.hours(1) });
      role.addToPolicy(new iam.PolicyStatement({ sid: 'EcrAuthorizationToken', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
      role.addToPolicy(new iam.PolicyStatement({ sid: 'EcrPullImages', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], resources: [jobsRepository.repositoryArn, appRepository.repositoryArn] }));
      return role;
    };
    const gcp = plan.counterparties.gcp;
    if (gcp?.storageTransferSubjectId) {
      const role = readerRole('GcpReader', `${system}-gcp-reader`, new iam.WebIdentityPrincipal('accounts.google.com', { StringEquals: { 'accounts.google.com:sub': gcp.storageTransferSubjectId } }),
        'Read-only access to the Counterparty export bucket for the GCP Storage Transfer Service (keyless)');
      new CfnOutput(this, 'GcpReaderRoleArn', { value: role.roleArn, description: 'Role the GCP Storage Transfer Service assumes (naming.gcpReaderRoleArn)' });
    }
    if (gcp?.imageMirrorSubjectId) {
      const id = gcp.imageMirrorSubjectId;
      const role = mirrorRole('GcpImageMirror', `${system}-gcp-image-mirror`, new iam.WebIdentityPrincipal('accounts.google.com', {
        StringEquals: { 'accounts.google.com:aud': id, 'accounts.google.com:sub': id, 'accounts.google.com:oaud': `sts.amazonaws.com/${account}/${system}-gcp-image-mirror` },
      }), 'ECR pull only, for the GCP counterparty image mirror (keyless)');
      new CfnOutput(this, 'GcpImageMirrorRoleArn', { value: role.roleArn, description: 'Role the GCP image mirror assumes for ECR pull (naming.imageMirrorRoleArn(plan, "gcp"))' });
    }
    const azure = plan.counterparties.azure;
    if (azure?.copyIdentityPrincipalId) {
      const audience = azure.tokenAudience && azure.tokenAudience !== 'api://AzureADTokenExchange' ? azure.tokenAudience : `api://${system}-aws-federation`;
      const host = `sts.windows.net/${azure.tenantId}/`;
      // The OIDC provider lives under the AzureReader scope, as in lib/aws; create that scope first.
      const scopeAz = new Construct(this, 'AzureReader');
      const provider = new iam.OidcProviderNative(scopeAz, 'OidcProvider', { url: `https://${host}`, clientIds: [audience] });
      const role = new iam.Role(scopeAz, 'Role', {
        roleName: `${system}-azure-reader`,
        path: '/counterparty/',
        assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, { StringEquals: { [`${host}:aud`]: audience, [`${host}:sub`]: azure.copyIdentityPrincipalId } }),
        description: 'Read-only access to the Counterparty export bucket for the Azure copy job managed identity (keyless)',
        maxSessionDuration: Duration.hours(1),
      });
      iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'], resourceArns: [bucket.bucketArn] });
      iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectTagging'], resourceArns: [bucket.arnForObjects('*')] });
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [exportKey.keyArn], conditions: viaS3 }));
      new CfnOutput(this, 'AzureReaderRoleArn', { value: role.roleArn, description: 'Role the Azure copy identity assumes (naming.azureReaderRoleArn)' });
      new CfnOutput(this, 'AzureOidcProviderArn', { value: provider.oidcProviderArn, description: 'IAM OIDC provider of the Entra tenant issuer' });
      if (azure.mirrorIdentityPrincipalId) {
        const mirror = mirrorRole('AzureImageMirror', `${system}-azure-mirror`, new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
          StringEquals: { [`${host}:aud`]: audience, [`${host}:sub`]: azure.mirrorIdentityPrincipalId },
        }), 'ECR pull only, for the Azure counterparty image mirror managed identity (keyless)');
        new CfnOutput(this, 'AzureImageMirrorRoleArn', { value: mirror.roleArn, description: 'Role the Azure image mirror identity assumes for ECR pull (naming.azureMirrorRoleArn)' });
      }
    }

    // Freshness alarms.
    const alarmsScope = new Construct(this, 'Alarms');
    opsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }));
    const topic = new sns.Topic(alarmsScope, 'Topic', { masterKey: opsKey, enforceSSL: true, displayName: 'Counterparty nightly export alarms' });
    for (const email of plan.notifications?.emails ?? []) topic.addSubscription(new subs.EmailSubscription(email));
    const hours = 24 + 6;
    const stale = new cloudwatch.Alarm(alarmsScope, 'NoSuccessfulNight', {
      alarmDescription: `No nightly export succeeded in the last ${hours} hours (RPO + grace).`,
      metric: stateMachine.metricSucceeded({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: hours,
      datapointsToAlarm: hours,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const failed = new cloudwatch.Alarm(alarmsScope, 'NightFailed', {
      alarmDescription: 'A nightly export execution failed, timed out or was aborted.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: stateMachine.metricFailed({ statistic: 'Sum' }),
          timedOut: stateMachine.metricTimedOut({ statistic: 'Sum' }),
          aborted: stateMachine.metricAborted({ statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
        label: 'Failed, timed-out and aborted executions',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [stale, failed]) {
      alarm.addAlarmAction(new cwActions.SnsAction(topic));
      alarm.addOkAction(new cwActions.SnsAction(topic));
    }

    // The daily prune runs when there are blobs (an s3Bucket dataset, hence a cluster and a network).
    const prunes = cluster !== undefined && network !== undefined && plan.datasets.some((d) => d.kind === 's3Bucket');
    // Tamper detection, written out by hand: one EventBridge rule per service to the alarm topic.
    const tamperScope = new Construct(this, 'TamperAlarm');
    const tamperTarget = new eventsTargets.SnsTopic(topic);
    const tamperRule = (id: string, description: string, source: string, eventSource: string, eventName: string[], match: Record<string, unknown>) =>
      new events.Rule(tamperScope, id, {
        description,
        eventPattern: { source: [source], detailType: ['AWS API Call via CloudTrail'], detail: { eventSource: [eventSource], eventName, ...match } },
        targets: [tamperTarget],
      });
    tamperRule('KeyTampering', 'Counterparty: deletion, disabling or policy change of a key protecting locked copies', 'aws.kms', 'kms.amazonaws.com',
      ['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy'], { resources: { ARN: [exportKey.keyArn, vaultKey.keyArn, opsKey.keyArn] } });
    tamperRule('VaultLockTampering', 'Counterparty: change of a locked backup vault\'s lock or access policy', 'aws.backup', 'backup.amazonaws.com',
      ['DeleteBackupVaultLockConfiguration', 'PutBackupVaultLockConfiguration', 'PutBackupVaultAccessPolicy', 'DeleteBackupVaultAccessPolicy'], { requestParameters: { backupVaultName: [`${system}-vault`] } });
    tamperRule('BucketLockTampering', 'Counterparty: change of the export bucket\'s Object Lock, policy, encryption or lifecycle', 'aws.s3', 's3.amazonaws.com',
      ['PutObjectLockConfiguration', 'PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketLifecycle', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
        'PutBucketEncryption', 'DeleteBucketEncryption', 'PutBucketVersioning'], { requestParameters: { bucketName: [bucketName] } });
    if (backupPlanId) {
      tamperRule('BackupPlanTampering', 'Counterparty: deletion or update of the backup plan, or deletion of its selection', 'aws.backup', 'backup.amazonaws.com',
        ['DeleteBackupPlan', 'UpdateBackupPlan', 'DeleteBackupSelection'], { requestParameters: { backupPlanId: [backupPlanId] } });
    }
    new events.Rule(tamperScope, 'ObjectDeletion', {
      description: 'Counterparty: an object version was deleted or hidden by a delete marker in the export bucket (by an API call, not by lifecycle)',
      eventPattern: { source: ['aws.s3'], detailType: ['Object Deleted'], detail: {
        bucket: { name: [bucketName] }, reason: ['DeleteObject'],
        ...(prunes ? { object: { key: events.Match.anythingButPrefix('blobs/sha256/') } } : {}),
      } },
      targets: [tamperTarget],
    });
    opsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowEventBridgeToPublishTamperAlarms',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: '*' }) } },
    }));

    // The daily prune of the export bucket's blobs: a Fargate task started by EventBridge Scheduler after the export window.
    if (prunes) {
      const pr = new Construct(this, 'ExportPrune');
      const td = new ecs.FargateTaskDefinition(pr, 'TaskDefinition', { cpu: 1024, memoryLimitMiB: 2048, runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX } });
      const lg = new logs.LogGroup(pr, 'Logs', { encryptionKey: opsKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
      td.addVolume({ name: 'tmp' });
      td.addContainer('jobs', {
        image: ecs.ContainerImage.fromEcrRepository(jobsRepository, jobsImage.slice(jobsImage.lastIndexOf(':') + 1)),
        logging: ecs.LogDrivers.awsLogs({ logGroup: lg, streamPrefix: 'prune' }),
        readonlyRootFilesystem: true,
        user: '1000:1000',
        memoryLimitMiB: 2048,
        command: ['prune'],
        environment: { CP_STORE: `s3://${bucket.bucketName}`, AWS_REGION: stack.region },
      }).addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
      iam.Grant.addToPrincipal({ grantee: td.taskRole, actions: ['s3:ListBucket', 's3:ListBucketVersions'], resourceArns: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': ['nights/*', 'blobs/sha256/*'] } } });
      iam.Grant.addToPrincipal({ grantee: td.taskRole, actions: ['s3:GetObject'], resourceArns: [bucket.arnForObjects('nights/*')] });
      iam.Grant.addToPrincipal({ grantee: td.taskRole, actions: ['s3:GetObject', 's3:GetObjectRetention', 's3:DeleteObjectVersion'], resourceArns: [bucket.arnForObjects('blobs/sha256/*')] });
      td.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [exportKey.keyArn], conditions: viaS3 }));
      blobDeleters.push(td.taskRole.roleArn);
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'DenyBlobDeletersOutsideBlobs',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        notResources: [bucket.arnForObjects('blobs/sha256/*')],
        conditions: { ArnEquals: { 'aws:PrincipalArn': [td.taskRole.roleArn] } },
      }));
      const subnets = network!.subnetIds.map((sn, i) => {
        const subnet = ec2.Subnet.fromSubnetId(pr, `Subnet${i}`, sn);
        Validations.of(subnet).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'The subnet is only passed to ecs:RunTask; its route table is never read.' });
        return subnet;
      });
      const securityGroups = network!.securityGroupIds.map((g, i) => ec2.SecurityGroup.fromSecurityGroupId(pr, `Sg${i}`, g, { mutable: false }));
      const role = new iam.Role(pr, 'SchedulerRole', {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': account } } }),
        description: 'Counterparty: starts the export bucket prune task',
      });
      new scheduler.Schedule(pr, 'Schedule', {
        description: 'Starts the Counterparty export bucket prune',
        schedule: scheduler.ScheduleExpression.expression('cron(0 5 * * ? *)', TimeZone.of('UTC')),
        enabled: true,
        target: new schedulerTargets.EcsRunFargateTask(cluster!, {
          taskDefinition: td, vpcSubnets: { subnets }, securityGroups, assignPublicIp: false, platformVersion: ecs.FargatePlatformVersion.LATEST,
          role, retryAttempts: 3, maxEventAge: Duration.hours(1),
        }),
      });
      new events.Rule(pr, 'TaskFailed', {
        description: 'Counterparty: the export bucket prune task exited non-zero or never started',
        eventPattern: { source: ['aws.ecs'], detailType: ['ECS Task State Change'], detail: {
          clusterArn: [cluster!.clusterArn], lastStatus: ['STOPPED'],
          taskDefinitionArn: [{ prefix: `arn:${Fn.ref('AWS::Partition')}:ecs:${Fn.ref('AWS::Region')}:${Fn.ref('AWS::AccountId')}:task-definition/${td.family}:` }],
          $or: [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }],
        } },
        targets: [new eventsTargets.SnsTopic(topic)],
      });
      const metricName = `Succeeded-${Names.uniqueResourceName(pr, { maxLength: 200 })}`;
      new logs.MetricFilter(pr, 'SuccessLines', {
        logGroup: lg,
        filterPattern: logs.FilterPattern.all(logs.FilterPattern.stringValue('$.event', '=', 'counterparty.prune'), logs.FilterPattern.stringValue('$.result', '=', 'success')),
        metricNamespace: 'Counterparty/Prune', metricName, metricValue: '1',
      });
      const stalePrune = new cloudwatch.Alarm(pr, 'NoSuccessfulPrune', {
        alarmDescription: 'No export bucket prune succeeded in the last 48 hours (failed, never started, or not scheduled).',
        metric: new cloudwatch.Metric({ namespace: 'Counterparty/Prune', metricName, statistic: 'Sum', period: Duration.hours(1) }),
        threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 48, datapointsToAlarm: 48, treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      stalePrune.addAlarmAction(new cwActions.SnsAction(topic));
      stalePrune.addOkAction(new cwActions.SnsAction(topic));
    }

    // AWS Backup jobs that failed, were aborted or expired.
    const backupJobs = new Construct(this, 'BackupJobAlarm');
    const backupJobTarget = new eventsTargets.SnsTopic(topic);
    new events.Rule(backupJobs, 'Rule', {
      description: 'Counterparty: an AWS Backup backup job failed, was aborted or expired',
      eventPattern: { source: ['aws.backup'], detailType: ['Backup Job State Change'], detail: { state: ['FAILED', 'ABORTED', 'EXPIRED'], backupVaultName: [`${system}-vault`] } },
      targets: [backupJobTarget],
    });
    new events.Rule(backupJobs, 'CopyJobRule', {
      description: 'Counterparty: an AWS Backup copy job failed, was aborted or expired',
      eventPattern: { source: ['aws.backup'], detailType: ['Copy Job State Change'], detail: { state: ['FAILED', 'ABORTED', 'EXPIRED'] } },
      targets: [backupJobTarget],
    });

    // Initial seed with S3 Batch Operations.
    const s3Datasets = plan.datasets.filter((d): d is Extract<BaselineDataset, { kind: 's3Bucket' }> => d.kind === 's3Bucket');
    if (s3Datasets.length > 0) {
      const seed = new Construct(this, 'InitialSeed');
      seed.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
      const reports = new s3.Bucket(seed, 'Bucket', {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: exportKey,
        bucketKeyEnabled: true,
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: 'initial-seed/',
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [{ id: 'expire-seed', expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      });
      const batchRole = new iam.Role(seed, 'BatchOperationsRole', {
        assumedBy: new iam.ServicePrincipal('batchoperations.s3.amazonaws.com'),
        description: 'S3 Batch Operations: copies the protected source buckets into the Counterparty export bucket (initial seed)',
      });
      iam.Grant.addToPrincipal({ grantee: batchRole, actions: ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:AbortMultipartUpload'], resourceArns: [reports.arnForObjects('*')] });
      iam.Grant.addToPrincipal({ grantee: batchRole, actions: ['s3:GetBucketLocation'], resourceArns: [reports.bucketArn] });
      batchRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [exportKey.keyArn], conditions: viaS3 }));
      const passRole = [new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [batchRole.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'batchoperations.s3.amazonaws.com' } } })];
      const choice = new sfn.Choice(seed, 'Which dataset?');
      for (const ds of s3Datasets) {
        const source = s3.Bucket.fromBucketName(seed, `Source-${ds.name}`, ds.bucketName);
        iam.Grant.addToPrincipal({ grantee: batchRole, actions: ['s3:ListBucket', 's3:GetBucketLocation'], resourceArns: [source.bucketArn] });
        iam.Grant.addToPrincipal({ grantee: batchRole, actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'], resourceArns: [source.arnForObjects(ds.prefix ? `${ds.prefix}*` : '*')] });
        const create = new tasks.CallAwsService(seed, `Seed ${ds.name} from a generated list`, {
          service: 's3control',
          action: 'createJob',
          parameters: {
            AccountId: stack.account,
            ConfirmationRequired: false,
            'ClientRequestToken.$': "States.Hash($$.Execution.Name, 'MD5')",
            Priority: 10,
            RoleArn: batchRole.roleArn,
            Description: `Counterparty initial seed of ${ds.name}`,
            Operation: { S3PutObjectCopy: { TargetResource: reports.bucketArn, TargetKeyPrefix: `copies/${ds.name}`, MetadataDirective: 'COPY', ChecksumAlgorithm: 'SHA256', BucketKeyEnabled: true, SSEAwsKmsKeyId: exportKey.keyArn } },
            Report: { Bucket: reports.bucketArn, Prefix: `reports/${ds.name}`, Format: 'Report_CSV_20180820', Enabled: true, ReportScope: 'AllTasks' },
            ManifestGenerator: {
              S3JobManifestGenerator: {
                ExpectedBucketOwner: stack.account,
                SourceBucket: source.bucketArn,
                EnableManifestOutput: false,
                ...(ds.prefix ? { Filter: { KeyNameConstraint: { MatchAnyPrefix: [ds.prefix] } } } : {}),
              },
            },
          },
          iamAction: 's3:CreateJob',
          iamResources: ['*'],
          additionalIamStatements: passRole,
          resultSelector: { 'jobId.$': '$.JobId' },
          resultPath: '$.job',
        });
        const wait = new sfn.Wait(seed, `Wait for ${ds.name} job`, { time: sfn.WaitTime.duration(Duration.minutes(5)) });
        const describe = new tasks.CallAwsService(seed, `Check ${ds.name} job`, {
          service: 's3control',
          action: 'describeJob',
          parameters: { AccountId: stack.account, 'JobId.$': '$.job.jobId' },
          iamAction: 's3:DescribeJob',
          iamResources: [stack.formatArn({ service: 's3', region: stack.region, resource: 'job', resourceName: '*' })],
          resultPath: '$.describe',
        });
        describe.addRetry({ errors: ['S3Control.TooManyRequestsException', 'S3Control.InternalServiceException'], interval: Duration.seconds(30), maxAttempts: 5, backoffRate: 2 });
        const seedFailed = new sfn.Fail(seed, `${ds.name} seed failed`, {
          error: 'InitialSeedFailed',
          cause: `The S3 Batch Operations job seeding ${ds.name} failed, was cancelled or had failed tasks; see its completion report in the seed report bucket.`,
        });
        const poll = wait.next(describe).next(new sfn.Choice(seed, `${ds.name} job ended?`)
          .when(sfn.Condition.and(
            sfn.Condition.stringEquals('$.describe.Job.Status', 'Complete'),
            sfn.Condition.isPresent('$.describe.Job.ProgressSummary.NumberOfTasksFailed'),
            sfn.Condition.numberEquals('$.describe.Job.ProgressSummary.NumberOfTasksFailed', 0),
          ), new sfn.Succeed(seed, `${ds.name} seeded`))
          .when(sfn.Condition.or(...['Complete', 'Failed', 'Cancelled'].map((st) => sfn.Condition.stringEquals('$.describe.Job.Status', st))), seedFailed)
          .otherwise(wait));
        choice.when(sfn.Condition.stringEquals('$.dataset', ds.name), create.next(poll));
      }
      choice.otherwise(new sfn.Fail(seed, 'Unknown dataset', {
        error: 'UnknownDataset',
        cause: `Start the seed with {"dataset": "<name>"}, one of: ${s3Datasets.map((b) => b.name).join(', ')}`,
      }));
      const seedLogs = new logs.LogGroup(seed, 'Logs', { encryptionKey: opsKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
      const seedMachine = new sfn.StateMachine(seed, 'StateMachine', {
        definitionBody: sfn.DefinitionBody.fromChainable(choice),
        timeout: Duration.days(7),
        tracingEnabled: true,
        logs: { destination: seedLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
        comment: 'Counterparty initial seed of a source bucket with S3 Batch Operations',
      });
      const seedAlarm = new cloudwatch.Alarm(alarmsScope, 'InitialSeedFailed', {
        alarmDescription: 'A InitialSeed execution failed, timed out or was aborted.',
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: {
            failed: seedMachine.metricFailed({ statistic: 'Sum' }),
            timedOut: seedMachine.metricTimedOut({ statistic: 'Sum' }),
            aborted: seedMachine.metricAborted({ statistic: 'Sum' }),
          },
          period: Duration.minutes(5),
          label: 'Failed, timed-out and aborted executions',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      seedAlarm.addAlarmAction(new cwActions.SnsAction(topic));
      seedAlarm.addOkAction(new cwActions.SnsAction(topic));
      if (syncTd) {
        iam.Grant.addToPrincipal({ grantee: syncTd.taskRole, actions: ['s3:GetObject', 's3:GetObjectAttributes'], resourceArns: [reports.arnForObjects('copies/*')] });
        iam.Grant.addToPrincipal({ grantee: syncTd.taskRole, actions: ['s3:ListBucket'], resourceArns: [reports.bucketArn] });
        syncTd.defaultContainer?.addEnvironment('CP_SEED_BUCKET', reports.bucketName);
      }
    }

    new CfnOutput(this, 'ExportBucketName', { value: bucket.bucketName, description: 'Immutable export bucket (naming.exportBucketName)' });
    new CfnOutput(this, 'ExportKeyArn', { value: exportKey.keyArn, description: 'KMS key of the export bucket' });
    new CfnOutput(this, 'JobsImageRepositoryUri', { value: jobsRepository.repositoryUri, description: 'Push the jobs image here before the first night' });
  }
}
