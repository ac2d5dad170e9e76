import { Duration, Fn, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { naming, type Dataset, type PostgresDataset } from '../core';
import { newHandlerFunction, type HandlerName } from './bundled-handler';
import { ImmutableExportBucket, type IImmutableExportBucket } from './immutable-export-bucket';
import { nightFormat, nightFormatTemplate, nightWildcard } from './night-template';
import { CONNECT_IAM_ACTIONS, CONNECT_MAP_ITEMS_AT_ONCE } from '../runtime/exporters/connect-contract';

/** The network a Fargate export task runs in (imported by ID: synth never looks anything up). */
export interface JobsNetwork {
  /** The VPC ID. */
  readonly vpcId: string;
  /** Private subnets with a route to S3, ECR, CloudWatch Logs and Secrets Manager (NAT or VPC endpoints). */
  readonly subnetIds: readonly string[];
  /** Security groups of the task (for `export-postgres`: one the database accepts). */
  readonly securityGroupIds: readonly string[];
  /**
   * The subnets' availability zones.
   * @default - `Fn::GetAZs` of the region
   */
  readonly availabilityZones?: readonly string[];
}

/** A source construct that replaces a dataset's plan-derived ARN. */
export type DatasetSource = s3.IBucket | dynamodb.ITable | { readonly clusterIdentifier: string } | { readonly instanceIdentifier: string };

/** The jobs container image. */
export interface JobsImage {
  /** The ECR repository in the primary account. */
  readonly repository: ecr.IRepository;
  /** The tag (immutable). */
  readonly tag: string;
}

/** Properties of a {@link NightlyExportPipeline}. */
export interface NightlyExportPipelineProps {
  /** Where everything is written. */
  readonly exportBucket: IImmutableExportBucket;
  /** What is exported (a plan's datasets). At least one. */
  readonly datasets: readonly Dataset[];
  /**
   * Constructs of the same app standing in for datasets, by dataset name
   * (the table's / bucket's ARN then comes from the construct).
   * @default - every source is named by the ARN the plan implies
   */
  readonly sources?: Readonly<Record<string, DatasetSource>>;
  /** When the night starts: an AWS cron expression such as `cron(0 2 * * ? *)`. */
  readonly scheduleExpression: string;
  /**
   * IANA time zone the cron is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /** The jobs image (`sync-objects`, `export-postgres`). */
  readonly jobsImage: JobsImage;
  /**
   * Where `sync-objects` tasks run (and the ECS cluster's VPC).
   * @default - the network of the first postgres dataset; an error if there is none
   */
  readonly jobsNetwork?: JobsNetwork;
  /**
   * The longest a night may take; the execution then times out (and alarms).
   * @default Duration.hours(3)
   */
  readonly timeout?: Duration;
  /**
   * Key that encrypts the pipeline's log groups. It must allow the CloudWatch Logs service.
   * @default - log groups use CloudWatch Logs' default encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * How long the pipeline's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether the schedule is enabled.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Days a DynamoDB export stays in the unlocked staging bucket after it was
   * copied into the export bucket (it is only a transit copy).
   * @default Duration.days(7)
   */
  readonly stagingRetention?: Duration;
}

/** The Connect crawler's IAM actions and Map concurrency (a plain list: synth needs no Connect SDK). */
function connectContract(): { actions: readonly string[]; maxConcurrency: number } {
  return { actions: CONNECT_IAM_ACTIONS, maxConcurrency: CONNECT_MAP_ITEMS_AT_ONCE };
}

/** The numeric UID:GID the jobs image runs as (the `node` user of the official Node.js images; never root). */
export const JOBS_CONTAINER_USER = '1000:1000';

/** What each dataset branch of the nightly state machine returns: `exported`, or `failed` with the caught error. */
export const DATASET_STATUS = { exported: 'exported', failed: 'failed' } as const;

/**
 * The nightly portable export: one Step Functions state machine, started by an
 * EventBridge Scheduler schedule with the night ID (the UTC date of the
 * scheduled time), exporting every dataset under the night's prefix:
 * DynamoDB `ExportTableToPointInTime` (SDK integration, polled until done),
 * S3 buckets with the jobs image's `sync-objects` (ECS Fargate), PostgreSQL
 * with `export-postgres` (`pg_dump -Fc`, ECS Fargate, in the database's
 * network), Amazon Connect configuration with a Lambda, then the night's
 * manifest with a second Lambda.
 */
export class NightlyExportPipeline extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The schedule that starts it. */
  public readonly schedule: scheduler.Schedule;
  /** The ECS cluster the export tasks run on (when an s3Bucket or postgres dataset exists). */
  public readonly cluster?: ecs.Cluster;
  /** The manifest function. */
  public readonly buildManifestFunction: lambda.Function;
  /**
   * The unlocked bucket DynamoDB exports are written to before they are
   * copied, with SHA-256 checksums, into the locked export bucket (when a
   * dynamoDbTable dataset exists). See docs/aws.md "DynamoDB exports and Object Lock".
   */
  public stagingBucket?: s3.Bucket;

  private readonly props: NightlyExportPipelineProps;
  private readonly logRetention: logs.RetentionDays;
  private syncTask?: ecs.FargateTaskDefinition;
  private connectFn?: lambda.Function;
  private pgTask?: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: NightlyExportPipelineProps) {
    super(scope, id);
    // The staging bucket logs to the export bucket's access log bucket through its bucket policy (no ACLs).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    this.props = props;
    this.logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    if (props.datasets.length === 0) {
      throw new Error(`${this.node.path}: datasets is empty. Fix: pass the plan's datasets (at least one).`);
    }
    if (!/^cron\(.+\)$/.test(props.scheduleExpression)) {
      throw new Error(`${this.node.path}: scheduleExpression is ${JSON.stringify(props.scheduleExpression)}; it must be an AWS cron expression. Fix: pass awsScheduleExpression(plan), e.g. "cron(0 2 * * ? *)".`);
    }
    const timeoutHours = props.timeout?.toHours({ integral: false }) ?? 3;
    if (timeoutHours <= 0 || timeoutHours > 24) {
      throw new Error(`${this.node.path}: timeout is ${timeoutHours} hours; a night must end within 24 hours. Fix: pass the plan's schedule.exportWindowHours (1-12).`);
    }
    const firstPg = props.datasets.find((d): d is PostgresDataset => d.kind === 'postgres');
    const network = props.jobsNetwork ?? firstPg?.network;
    const needsEcs = props.datasets.some((d) => d.kind === 's3Bucket' || d.kind === 'postgres');

    const vpc = network
      ? ec2.Vpc.fromVpcAttributes(this, 'JobsVpc', { vpcId: network.vpcId, availabilityZones: network.availabilityZones ? [...network.availabilityZones] : Fn.getAzs() })
      : undefined;
    if (needsEcs && !vpc) {
      throw new Error(`${this.node.path}: jobsNetwork is not set and no postgres dataset gives a network, but s3Bucket datasets need a Fargate task. Fix: pass jobsNetwork: { vpcId, subnetIds, securityGroupIds } (private subnets with a route to S3 and ECR).`);
    }
    if (needsEcs) this.cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const branches: sfn.IChainable[] = props.datasets.map((ds) => {
      switch (ds.kind) {
        case 'dynamoDbTable': return this.guarded(ds.name, this.dynamoDbBranch(ds.name, this.tableArn(ds.name, ds.tableName)));
        case 's3Bucket': return this.guarded(ds.name, this.syncObjectsTask(ds.name, this.sourceBucket(ds.name, ds.bucketName), ds.prefix, network!));
        case 'postgres': return this.guarded(ds.name, this.exportPostgresTask(ds));
        case 'connectInstance': return this.guarded(ds.name, this.connectTask(ds.name, ds.instanceId));
      }
    });

    // The night: given by hand ({"night": "YYYY-MM-DD"}), or the UTC date of the scheduled time.
    const nightFromSchedule = new sfn.Pass(this, 'Night from scheduled time', {
      parameters: {
        'night.$': "States.ArrayGetItem(States.StringSplit($.scheduledTime, 'T'), 0)",
        'scheduledTime.$': '$.scheduledTime',
      },
    });
    const nightGiven = new sfn.Pass(this, 'Night given', { parameters: { 'night.$': '$.night' } });
    // Each branch catches its own failure (guarded), so one failed dataset never stops the others:
    // the result is one { dataset, status } per dataset, in plan order.
    // Not named `exports`: tsc's CommonJS output reads module exports (DATASET_STATUS) as `exports.X`, which a local `exports` would shadow.
    const exportDatasets = new sfn.Parallel(this, 'Export datasets', { resultPath: '$.datasets' });
    for (const b of branches) exportDatasets.branch(b);
    const summarize = new sfn.Pass(this, 'Collect dataset statuses', {
      parameters: { 'statuses.$': '$.datasets[*].status' },
      resultPath: '$.summary',
    });
    const anyFailed = new sfn.Pass(this, 'Any dataset failed?', {
      parameters: { [`anyFailed.$`]: `States.ArrayContains($.summary.statuses, '${DATASET_STATUS.failed}')` },
      resultPath: '$.summary',
    });

    this.buildManifestFunction = this.newFunction('BuildManifest', 'build-manifest', Duration.minutes(15), 1024);
    props.exportBucket.grantReadUnder(this.buildManifestFunction);
    props.exportBucket.grantWriteUnder(this.buildManifestFunction, nightWildcard(naming.manifestKey));
    // The manifest function also writes each DynamoDB dataset's key schema (the service integration writes none).
    for (const ds of props.datasets) {
      if (ds.kind !== 'dynamoDbTable') continue;
      props.exportBucket.grantWriteUnder(this.buildManifestFunction, nightWildcard((night) => naming.dynamoDbTableSchemaKey(night, ds.name)));
      this.buildManifestFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [this.tableArn(ds.name, ds.tableName)] }));
    }
    const manifest = new tasks.LambdaInvoke(this, 'Write manifest', {
      lambdaFunction: this.buildManifestFunction,
      payload: sfn.TaskInput.fromObject({
        bucket: props.exportBucket.bucketName,
        'night.$': '$.night',
        datasets: props.datasets.map((d) => (d.kind === 'dynamoDbTable' ? { name: d.name, kind: d.kind, tableName: d.tableName } : { name: d.name, kind: d.kind })),
        // Dataset name -> the caught { Error, Cause } ('' when it exported): the manifest marks the failed ones
        // (lib/runtime/handlers/build-manifest.ts `failures`), writes the night, and then fails the step.
        failures: Object.fromEntries(props.datasets.map((d, i) => [`${d.name}.$`, `$.datasets[${i}].error`])),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
      resultPath: '$.manifest',
    });
    // A night with a failed dataset still gets its manifest, then fails the execution (the failed-night alarm).
    const incomplete = new sfn.Fail(this, 'Night incomplete', {
      error: 'DatasetExportFailed',
      cause: 'At least one dataset failed to export; the other datasets were exported and the manifest marks the failed ones.',
    });
    const verdict = new sfn.Choice(this, 'All datasets exported?')
      .when(sfn.Condition.booleanEquals('$.summary.anyFailed', true), incomplete)
      .otherwise(new sfn.Succeed(this, 'Night exported'));

    const definition = new sfn.Choice(this, 'Night given?')
      .when(sfn.Condition.isPresent('$.night'), nightGiven)
      .otherwise(nightFromSchedule)
      .afterwards()
      .next(exportDatasets)
      .next(summarize)
      .next(anyFailed)
      .next(manifest)
      .next(verdict);

    const smLogs = new logs.LogGroup(this, 'StateMachineLogs', { encryptionKey: props.logKey, retention: this.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(timeoutHours),
      tracingEnabled: true,
      logs: { destination: smLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Counterparty nightly portable export',
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Starts the Counterparty nightly export',
      schedule: scheduler.ScheduleExpression.expression(props.scheduleExpression, TimeZone.of(props.timeZone ?? 'UTC')),
      enabled: props.enabled ?? true,
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
  }

  /** The task definition of `sync-objects`, if an s3Bucket dataset exists. */
  public get syncObjectsTaskDefinition(): ecs.FargateTaskDefinition | undefined {
    return this.syncTask;
  }

  /** The Connect export function, if a connectInstance dataset exists. */
  public get connectExportFunction(): lambda.Function | undefined {
    return this.connectFn;
  }

  // ------------------------------------------------------------- sources

  private source(name: string): DatasetSource | undefined {
    return this.props.sources?.[name];
  }

  private tableArn(name: string, tableName: string): string {
    const src = this.source(name);
    if (src && 'tableArn' in src) return src.tableArn;
    return Stack.of(this).formatArn({ service: 'dynamodb', resource: 'table', resourceName: tableName });
  }

  private sourceBucket(name: string, bucketName: string): s3.IBucket {
    const src = this.source(name);
    if (src && 'bucketArn' in src) return src;
    return s3.Bucket.fromBucketName(this, `Source-${name}`, bucketName);
  }

  // ------------------------------------------------------------- branches

  /**
   * A dataset branch that cannot fail the night on its own: any error inside it
   * (a failed export, a task that exits non-zero, a timeout) is caught, and the
   * branch returns `{ dataset, status: 'failed', error }` instead of
   * `{ dataset, status: 'exported' }`, so the sibling branches run to the end.
   */
  private guarded(name: string, branch: sfn.IChainable): sfn.IChainable {
    const wrapper = new sfn.Parallel(this, `Dataset ${name}`, {
      // error: '' (falsy; Step Functions definitions drop null), so the manifest step can name every branch's
      // error without a missing path: build-manifest treats a falsy failure as none.
      resultSelector: { dataset: name, status: DATASET_STATUS.exported, error: '' },
    });
    wrapper.branch(branch);
    wrapper.addCatch(new sfn.Pass(this, `${name} failed`, {
      parameters: { dataset: name, status: DATASET_STATUS.failed, 'error.$': '$.error' },
    }), { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    return wrapper;
  }

  /** The unlocked staging bucket DynamoDB exports are written to (created on first use). */
  private staging(): s3.Bucket {
    if (this.stagingBucket) return this.stagingBucket;
    const days = this.props.stagingRetention?.toDays() ?? 7;
    const logs = this.props.exportBucket instanceof ImmutableExportBucket ? this.props.exportBucket.accessLogBucket : undefined;
    this.stagingBucket = new s3.Bucket(this, 'DynamoDbExportStaging', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.props.exportBucket.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: logs ? 'dynamodb-export-staging/' : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'expire-staged-exports',
        expiration: Duration.days(days),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    return this.stagingBucket;
  }

  /**
   * DynamoDB: `ExportTableToPointInTime` into the unlocked staging bucket
   * (AWS documents no integrity header from the export writer, which a bucket
   * with Object Lock default retention requires), polled with `DescribeExport`,
   * then every file of the export copied server-side into the same key of the
   * locked export bucket with `CopyObject` and an S3-computed SHA-256 checksum
   * (a Distributed Map over the export's prefix).
   */
  private dynamoDbBranch(name: string, tableArn: string): sfn.IChainable {
    const bucket = this.props.exportBucket;
    const staging = this.staging();
    const stack = Stack.of(this);
    const stagedObjects = staging.arnForObjects(nightWildcard((n) => `${naming.datasetNightPrefix(n, name)}*`));
    const start = new tasks.CallAwsService(this, `Export ${name}`, {
      service: 'dynamodb',
      action: 'exportTableToPointInTime',
      parameters: {
        TableArn: tableArn,
        S3Bucket: staging.bucketName,
        S3BucketOwner: stack.account,
        // DynamoDB appends "/AWSDynamoDB/<export id>/..." itself: give the night's dataset prefix without its trailing slash.
        S3Prefix: nightFormat((night) => naming.datasetNightPrefix(night, name).replace(/\/$/, '')),
        ExportFormat: 'DYNAMODB_JSON',
        S3SseAlgorithm: 'KMS',
        S3SseKmsKeyId: bucket.encryptionKey.keyArn,
        ClientToken: nightFormat((night) => `${night}-${name}`),
      },
      iamResources: [tableArn],
      iamAction: 'dynamodb:ExportTableToPointInTime',
      additionalIamStatements: [
        // The export role's S3 permissions, exactly as DynamoDB's export guide lists them.
        new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'], resources: [stagedObjects] }),
        new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [bucket.encryptionKey.keyArn] }),
      ],
      resultSelector: { 'exportArn.$': '$.ExportDescription.ExportArn' },
      resultPath: '$.export',
    });
    const wait = new sfn.Wait(this, `Wait for ${name}`, { time: sfn.WaitTime.duration(Duration.minutes(2)) });
    const describe = new tasks.CallAwsService(this, `Check ${name}`, {
      service: 'dynamodb',
      action: 'describeExport',
      parameters: { 'ExportArn.$': '$.export.exportArn' },
      iamResources: [`${tableArn}/export/*`],
      iamAction: 'dynamodb:DescribeExport',
      resultSelector: { 'exportArn.$': '$.ExportDescription.ExportArn', 'status.$': '$.ExportDescription.ExportStatus' },
      resultPath: '$.export',
    });
    describe.addRetry({ errors: ['DynamoDb.LimitExceededException', 'DynamoDb.InternalServerErrorException'], interval: Duration.seconds(10), maxAttempts: 5, backoffRate: 2 });
    // Copy exactly this export (arn:...:table/<name>/export/<id>), never a stale earlier attempt's files.
    const exportId = new sfn.Pass(this, `${name} export ID`, {
      parameters: { 'exportArn.$': '$.export.exportArn', 'status.$': '$.export.status', 'id.$': "States.ArrayGetItem(States.StringSplit($.export.exportArn, '/'), 3)" },
      resultPath: '$.export',
    });
    const copy = this.copyStagedExport(name, staging);
    const failed = new sfn.Fail(this, `${name} export failed`, { error: 'DynamoDbExportFailed', cause: `ExportTableToPointInTime of ${name} ended FAILED` });
    return start.next(wait).next(describe).next(new sfn.Choice(this, `${name} done?`)
      .when(sfn.Condition.stringEquals('$.export.status', 'COMPLETED'), exportId.next(copy))
      .when(sfn.Condition.stringEquals('$.export.status', 'FAILED'), failed)
      .otherwise(wait));
  }

  /** Copies every staged file of the night's export into the same key of the locked bucket, with an S3-computed SHA-256. */
  private copyStagedExport(name: string, staging: s3.Bucket): sfn.IChainable {
    const bucket = this.props.exportBucket;
    const account = Stack.of(this).account;
    const copyOne = new tasks.CallAwsService(this, `Copy ${name} file`, {
      service: 's3',
      action: 'copyObject',
      parameters: {
        Bucket: bucket.bucketName,
        'Key.$': '$.Key',
        CopySource: sfn.JsonPath.format(`${staging.bucketName}/{}`, sfn.JsonPath.stringAt('$.Key')),
        // S3 computes the SHA-256 of the copy: the integrity check Object Lock default retention requires.
        ChecksumAlgorithm: 'SHA256',
        ExpectedBucketOwner: account,
        ExpectedSourceBucketOwner: account,
      },
      iamAction: 's3:PutObject',
      iamResources: [bucket.bucket.arnForObjects(nightWildcard((n) => `${naming.datasetNightPrefix(n, name)}*`))],
      additionalIamStatements: [
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [staging.arnForObjects(nightWildcard((n) => `${naming.datasetNightPrefix(n, name)}*`))] }),
      ],
    });
    copyOne.addRetry({ errors: ['S3.SlowDownException', 'S3.InternalErrorException', 'S3.S3Exception'], interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
    const copy = new sfn.DistributedMap(this, `Copy ${name} export`, {
      itemReader: new sfn.S3ObjectsItemReader({
        bucket: staging,
        // DynamoDB writes under <S3Prefix>/AWSDynamoDB/<export id>/.
        prefix: sfn.JsonPath.format(`${nightFormatTemplate((n) => naming.datasetNightPrefix(n, name))}AWSDynamoDB/{}/`, sfn.JsonPath.stringAt('$.night'), sfn.JsonPath.stringAt('$.export.id')),
      }),
      maxConcurrency: 100,
      resultPath: sfn.JsonPath.DISCARD,
      mapExecutionType: sfn.StateMachineType.STANDARD,
    });
    copy.itemProcessor(copyOne);
    return copy;
  }

  private jobsTaskDefinition(id: string, cpu: number, memoryLimitMiB: number): ecs.FargateTaskDefinition {
    const td = new ecs.FargateTaskDefinition(this, id, { cpu, memoryLimitMiB, runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX } });
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { encryptionKey: this.props.logKey, retention: this.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    td.addVolume({ name: 'tmp' });
    const container = td.addContainer('jobs', {
      image: ecs.ContainerImage.fromEcrRepository(this.props.jobsImage.repository, this.props.jobsImage.tag),
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: id }),
      readonlyRootFilesystem: true,
      // Explicit, never root (the image's USER is node, 1000:1000), and a hard memory limit (the task's memory).
      user: JOBS_CONTAINER_USER,
      memoryLimitMiB,
      environment: { CP_EXPORT_BUCKET: this.props.exportBucket.bucketName, AWS_REGION: Stack.of(this).region },
    });
    container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
    return td;
  }

  private runTask(id: string, td: ecs.FargateTaskDefinition, network: JobsNetwork, command: string, environment: Record<string, string>): tasks.EcsRunTask {
    const subnets = network.subnetIds.map((s, i) => {
      const subnet = ec2.Subnet.fromSubnetId(this, `${id}Subnet${i}`, s);
      Validations.of(subnet).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'The subnet is only passed to ecs:RunTask; its route table is never read.' });
      return subnet;
    });
    const securityGroups = network.securityGroupIds.map((g, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `${id}Sg${i}`, g, { mutable: false }));
    return new ClusterScopedEcsRunTask(this, id, {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: this.cluster!,
      taskDefinition: td,
      launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      subnets: { subnets },
      securityGroups,
      assignPublicIp: false,
      containerOverrides: [{
        containerDefinition: td.defaultContainer!,
        command: [command],
        environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    });
  }

  private syncObjectsTask(name: string, source: s3.IBucket, prefix: string | undefined, network: JobsNetwork): sfn.IChainable {
    this.syncTask ??= this.jobsTaskDefinition('SyncObjectsTask', 1024, 2048);
    this.syncTask.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket', 's3:GetBucketLocation'],
      resources: [source.bucketArn],
    }));
    this.syncTask.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectTagging'],
      resources: [source.arnForObjects(prefix ? `${prefix}*` : '*')],
    }));
    // A source bucket encrypted with a customer key: decrypt with that key only, through S3 only.
    // Without a known key (a bucket named by the plan, SSE-S3) no KMS permission is granted: see docs/aws.md.
    if (source.encryptionKey) {
      this.syncTask.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [source.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }));
    }
    // Format v2: new content goes to blobs/sha256/ (server-side copies, never overwritten); the night's
    // index to nights/<night>/<dataset>/; the previous nights' manifests and indexes are read back.
    this.props.exportBucket.grantReadUnder(this.syncTask.taskRole, `${naming.BLOBS_PREFIX}*`);
    this.props.exportBucket.grantWriteUnder(this.syncTask.taskRole, `${naming.BLOBS_PREFIX}*`);
    this.props.exportBucket.grantReadUnder(this.syncTask.taskRole, `${naming.NIGHTS_PREFIX}*`);
    this.props.exportBucket.grantWriteUnder(this.syncTask.taskRole, nightWildcard((n) => `${naming.datasetNightPrefix(n, name)}*`));
    return this.runTask(`Sync ${name}`, this.syncTask, network, 'sync-objects', {
      CP_DATASET: name,
      CP_SOURCE_BUCKET: source.bucketName,
      ...(prefix ? { CP_SOURCE_PREFIX: prefix } : {}),
      CP_NIGHT: sfn.JsonPath.stringAt('$.night'),
    });
  }

  private exportPostgresTask(ds: PostgresDataset): sfn.IChainable {
    const { endpoint, credentialsSecretArn, network } = ds;
    if (endpoint === undefined || credentialsSecretArn === undefined || network === undefined) {
      throw new Error(`${this.node.path}: datasets "${ds.name}" has no endpoint, credentialsSecretArn or network. Fix: give them in the plan, or pass the database, its secret and VPC through PrimarySite sources.`);
    }
    this.pgTask ??= this.jobsTaskDefinition('ExportPostgresTask', 1024, 4096);
    const secret = secretsmanager.Secret.fromSecretCompleteArn(this, `Secret-${ds.name}`, credentialsSecretArn);
    secret.grantRead(this.pgTask.taskRole);
    this.props.exportBucket.grantWriteUnder(this.pgTask.taskRole, nightWildcard((n) => naming.postgresDumpKey(n, ds.name)));
    const task = this.runTask(`Dump ${ds.name}`, this.pgTask, network, 'export-postgres', {
      CP_DATASET: ds.name,
      PGHOST: endpoint,
      PGPORT: String(ds.port ?? 5432),
      PGDATABASE: ds.databaseName,
      CP_PG_SECRET_ARN: credentialsSecretArn,
      CP_NIGHT: sfn.JsonPath.stringAt('$.night'),
    });
    return task;
  }

  /**
   * Amazon Connect: plan → Map → finalize (the handler's contract,
   * lib/runtime/handlers/connect-export.ts). The plan counts each resource
   * type and packs the types into items that each fit the function's 900 s at
   * Connect's 2 requests per second per API; the Map runs them one at a time
   * (Connect's quotas are per API and account); finalize merges the parts into
   * the night's documents and index. The role may call exactly the read
   * actions the crawler uses (CONNECT_READ_ACTIONS), on this instance only.
   */
  private connectTask(name: string, instanceId: string): sfn.IChainable {
    const stack = Stack.of(this);
    const contract = connectContract();
    this.connectFn ??= this.newFunction('ConnectExport', 'connect-export', Duration.minutes(15), 512);
    const fn = this.connectFn;
    const sid = name.replace(/[^A-Za-z0-9]/g, '');
    const instanceArn = stack.formatArn({ service: 'connect', resource: 'instance', resourceName: instanceId });
    const onPhoneNumbers: string[] = contract.actions.filter((a) => a === 'connect:DescribePhoneNumber');
    fn.addToRolePolicy(new iam.PolicyStatement({
      sid: `ReadConnectConfiguration${sid}`,
      actions: contract.actions.filter((a) => !onPhoneNumbers.includes(a)),
      resources: [instanceArn, `${instanceArn}/*`],
    }));
    if (onPhoneNumbers.length > 0) {
      // Claimed phone numbers are account resources (phone-number/<id>), not under the instance ARN.
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: `ReadConnectPhoneNumbers${sid}`,
        actions: onPhoneNumbers,
        resources: [stack.formatArn({ service: 'connect', resource: 'phone-number', resourceName: '*' })],
      }));
    }
    this.props.exportBucket.grantWriteUnder(fn, nightWildcard((n) => `${naming.datasetNightPrefix(n, name)}*`));
    this.props.exportBucket.grantReadUnder(fn, nightWildcard((n) => `${naming.datasetNightPrefix(n, name)}*`));
    const event = (extra: Record<string, unknown>) => sfn.TaskInput.fromObject({
      instanceId,
      bucket: this.props.exportBucket.bucketName,
      prefix: nightFormat((n) => naming.datasetNightPrefix(n, name)),
      ...extra,
    });
    const invoke = (id: string, payload: sfn.TaskInput, resultPath: string) => new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn, payload, payloadResponseOnly: true, retryOnServiceExceptions: true, resultPath,
    });
    const plan = invoke(`Plan ${name} export`, event({ action: 'plan' }), '$.connectPlan');
    const crawl = new sfn.Map(this, `Export ${name} resource types`, {
      itemsPath: '$.connectPlan.items',
      maxConcurrency: contract.maxConcurrency,
      itemSelector: {
        instanceId,
        bucket: this.props.exportBucket.bucketName,
        'night.$': '$.night',
        'resourceTypes.$': '$$.Map.Item.Value.resourceTypes',
        'shard.$': '$$.Map.Item.Value.shard',
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    crawl.itemProcessor(invoke(`Export ${name} types`, sfn.TaskInput.fromObject({
      instanceId,
      bucket: this.props.exportBucket.bucketName,
      prefix: nightFormat((n) => naming.datasetNightPrefix(n, name)),
      'resourceTypes.$': '$.resourceTypes',
      'shard.$': '$.shard',
    }), sfn.JsonPath.DISCARD));
    const finalize = invoke(`Finalize ${name} export`, event({ action: 'finalize' }), sfn.JsonPath.DISCARD);
    return plan.next(crawl).next(finalize);
  }

  private newFunction(id: string, handler: HandlerName, timeout: Duration, memorySize: number): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { encryptionKey: this.props.logKey, retention: this.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Counterparty ${handler} function`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`] }));
    // Pre-bundled at pack time in the published package; bundled from source in a checkout (bundled-handler.ts).
    return newHandlerFunction(this, id, handler, {
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
    });
  }
}

/**
 * `EcsRunTask` whose `ecs:StopTask` / `ecs:DescribeTasks` grant (CDK's is on
 * `*`) is limited to tasks of the one cluster, by task ARN and by the
 * `ecs:cluster` condition key.
 */
class ClusterScopedEcsRunTask extends tasks.EcsRunTask {
  constructor(scope: Construct, id: string, props: tasks.EcsRunTaskProps) {
    super(scope, id, props);
    const statements = this.taskPolicies ?? [];
    const i = statements.findIndex((st) => st.actions.includes('ecs:StopTask'));
    if (i < 0) throw new Error(`${this.node.path}: aws-cdk-lib's EcsRunTask no longer grants ecs:StopTask; review ClusterScopedEcsRunTask.`);
    const cluster = props.cluster;
    statements.splice(i, 1, new iam.PolicyStatement({
      actions: ['ecs:StopTask', 'ecs:DescribeTasks'],
      resources: [Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }));
  }
}
