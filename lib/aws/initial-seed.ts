import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Dataset, S3BucketDataset } from '../core';
import { ImmutableExportBucket, type IImmutableExportBucket } from './immutable-export-bucket';
import type { DatasetSource } from './nightly-export-pipeline';

/**
 * Above this many objects (or bytes) still to copy, a source bucket is seeded
 * with S3 Batch Operations instead of the nightly `sync-objects` task: the
 * amount one task copies in half of a 3-hour export window at a conservative
 * 50 objects/s and 50 MiB/s (docs/aws.md "Initial seed: timing model").
 */
export const INITIAL_SEED_THRESHOLD = { objects: 250_000, bytes: 250 * 1024 ** 3 } as const;

/** Where the seed's copies of a dataset land in the seed bucket: `copies/<dataset>/<source key>`. */
export function seedCopiesPrefix(datasetName: string): string {
  return `copies/${datasetName}/`;
}

/** Where a dataset's seed job completion reports land in the seed bucket. */
export function seedReportsPrefix(datasetName: string): string {
  return `reports/${datasetName}`;
}

/** The environment variable that tells `sync-objects` the seed bucket (its copies carry an S3-computed SHA-256). */
export const SEED_BUCKET_ENV = 'CP_SEED_BUCKET';

/** The S3 Batch Operations job states after which the seed stops polling. */
export const BATCH_JOB_FINAL_STATES = ['Complete', 'Failed', 'Cancelled'] as const;

/** Properties of an {@link InitialSeed}. */
export interface InitialSeedProps {
  /** The export bucket the sources are copied into. */
  readonly exportBucket: IImmutableExportBucket;
  /** The plan's datasets; each `s3Bucket` dataset can be seeded. At least one `s3Bucket` dataset. */
  readonly datasets: readonly Dataset[];
  /**
   * Source bucket constructs by dataset name (their ARN and key replace the plan's bucket name).
   * @default - every source bucket is named by the plan
   */
  readonly sources?: Readonly<Record<string, DatasetSource>>;
  /**
   * The bucket the source buckets' S3 Inventory reports are delivered to. When
   * set, an execution given `inventoryManifest` copies exactly the objects of
   * that inventory report; without it (or without that input) S3 Batch
   * Operations generates the object list from the bucket itself.
   * @default - no inventory bucket: generated object lists only
   */
  readonly inventoryBucket?: s3.IBucket;
  /**
   * Key of the state machine's log group.
   * @default - CloudWatch Logs' default encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * The longest a seed may run (S3 Batch Operations jobs over billions of objects take days).
   * @default Duration.days(7)
   */
  readonly timeout?: Duration;
}

/**
 * The initial seed of `s3Bucket` datasets: a state machine, started on demand
 * with `{"dataset": "<name>"}` (and optionally `"inventoryManifest": {"key", "etag"}`,
 * an S3 Inventory report's manifest.json), that creates an S3 Batch Operations
 * `S3PutObjectCopy` job copying the source bucket (or its prefix) into
 * `copies/<dataset>/<source key>` of the (unlocked) seed bucket with an
 * S3-computed full-object SHA-256 per object, waits for it, and fails
 * (alarmed) unless every task succeeded. It feeds `sync-objects` (see
 * {@link InitialSeed.feed}): format v2 names a blob by its SHA-256, which Batch
 * Operations cannot compute into a key, so the seed's copies give the first
 * night each object's SHA-256 and a server-side copy source without reading
 * the bytes through the task.
 */
export class InitialSeed extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The role S3 Batch Operations assumes. */
  public readonly batchRole: iam.Role;
  /** The seed bucket (unlocked, the export key): `copies/<dataset>/...` and `reports/<dataset>/...`, expired after 90 days. */
  public readonly seedBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: InitialSeedProps) {
    super(scope, id);
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const buckets = props.datasets.filter((d): d is S3BucketDataset => d.kind === 's3Bucket');
    if (buckets.length === 0) {
      throw new Error(`${this.node.path}: datasets has no s3Bucket dataset, so there is nothing to seed. Fix: create InitialSeed only for plans with s3Bucket datasets.`);
    }
    const days = props.timeout?.toDays({ integral: false }) ?? 7;
    if (days <= 0 || days > 365) throw new Error(`${this.node.path}: timeout is ${days} days; a Standard state machine runs at most 365 days. Fix: pass Duration.days(1..365), or leave it out for 7.`);
    const stack = Stack.of(this);
    const exportBucket = props.exportBucket;
    const accessLogs = exportBucket instanceof ImmutableExportBucket ? exportBucket.accessLogBucket : undefined;

    this.seedBucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: exportBucket.encryptionKey,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: accessLogs ? 'initial-seed/' : undefined,
      removalPolicy: RemovalPolicy.RETAIN,
      // A transit copy: by then the nights have taken the content into blobs/.
      lifecycleRules: [{ id: 'expire-seed', expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });

    this.batchRole = new iam.Role(this, 'BatchOperationsRole', {
      assumedBy: new iam.ServicePrincipal('batchoperations.s3.amazonaws.com'),
      description: 'S3 Batch Operations: copies the protected source buckets into the Counterparty export bucket (initial seed)',
    });
    // As AWS's Batch Operations copy policy lists them (PutObjectAcl: ACLs are disabled, so only owner-full-control passes).
    iam.Grant.addToPrincipal({ grantee: this.batchRole, actions: ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:AbortMultipartUpload'], resourceArns: [this.seedBucket.arnForObjects('*')] });
    iam.Grant.addToPrincipal({ grantee: this.batchRole, actions: ['s3:GetBucketLocation'], resourceArns: [this.seedBucket.bucketArn] });
    this.batchRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [exportBucket.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    }));
    if (props.inventoryBucket) {
      props.inventoryBucket.grantRead(this.batchRole);
    }

    const createJobPolicy: iam.PolicyStatement[] = [
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.batchRole.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'batchoperations.s3.amazonaws.com' } } }),
    ];
    const choice = new sfn.Choice(this, 'Which dataset?');
    const wait = (name: string) => new sfn.Wait(this, `Wait for ${name} job`, { time: sfn.WaitTime.duration(Duration.minutes(5)) });
    for (const ds of buckets) {
      const source = this.sourceBucket(ds, props.sources);
      this.grantSourceRead(source, ds.prefix);
      const copy = {
        S3PutObjectCopy: {
          TargetResource: this.seedBucket.bucketArn,
          // copies/<dataset>/<source key>: Batch Operations appends the source key to this prefix.
          TargetKeyPrefix: seedCopiesPrefix(ds.name).replace(/\/$/, ''),
          MetadataDirective: 'COPY',
          ChecksumAlgorithm: 'SHA256',
          BucketKeyEnabled: true,
          SSEAwsKmsKeyId: exportBucket.encryptionKey.keyArn,
        },
      };
      const common = {
        AccountId: stack.account,
        ConfirmationRequired: false,
        // Idempotent per execution, within the token's 64 characters (an execution name may have 80).
        'ClientRequestToken.$': "States.Hash($$.Execution.Name, 'MD5')",
        Priority: 10,
        RoleArn: this.batchRole.roleArn,
        Description: `Counterparty initial seed of ${ds.name}`,
        Operation: copy,
        Report: { Bucket: this.seedBucket.bucketArn, Prefix: seedReportsPrefix(ds.name), Format: 'Report_CSV_20180820', Enabled: true, ReportScope: 'AllTasks' },
      };
      const fromBucket = this.createJob(`Seed ${ds.name} from a generated list`, {
        ...common,
        ManifestGenerator: {
          S3JobManifestGenerator: {
            ExpectedBucketOwner: stack.account,
            SourceBucket: source.bucketArn,
            EnableManifestOutput: false,
            ...(ds.prefix ? { Filter: { KeyNameConstraint: { MatchAnyPrefix: [ds.prefix] } } } : {}),
          },
        },
      }, createJobPolicy);
      const poll = this.pollJob(ds.name, wait(ds.name));
      if (props.inventoryBucket) {
        const fromInventory = this.createJob(`Seed ${ds.name} from an inventory report`, {
          ...common,
          Manifest: {
            Spec: { Format: 'S3InventoryReport_CSV_20161130' },
            Location: {
              ObjectArn: sfn.JsonPath.format(`${props.inventoryBucket.bucketArn}/{}`, sfn.JsonPath.stringAt('$.inventoryManifest.key')),
              'ETag.$': '$.inventoryManifest.etag',
            },
          },
        }, createJobPolicy);
        choice.when(sfn.Condition.and(sfn.Condition.stringEquals('$.dataset', ds.name), sfn.Condition.isPresent('$.inventoryManifest')), fromInventory.next(poll));
      }
      choice.when(sfn.Condition.stringEquals('$.dataset', ds.name), fromBucket.next(poll));
    }
    choice.otherwise(new sfn.Fail(this, 'Unknown dataset', {
      error: 'UnknownDataset',
      cause: `Start the seed with {"dataset": "<name>"}, one of: ${buckets.map((b) => b.name).join(', ')}`,
    }));

    const logGroup = new logs.LogGroup(this, 'Logs', { encryptionKey: props.logKey, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(choice),
      timeout: Duration.days(days),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Counterparty initial seed of a source bucket with S3 Batch Operations',
    });
  }

  /**
   * Lets `sync-objects` use the seed: read access to `copies/*` of the seed
   * bucket and `CP_SEED_BUCKET` in its environment. For a source object with no
   * SHA-256 of its own, the first night can take the SHA-256 of the seeded copy
   * (`HeadObject` with `ChecksumMode`, same size, copy not older than the
   * source's last change) and copy that object server-side into its blob.
   */
  public feed(syncTask: ecs.TaskDefinition): void {
    iam.Grant.addToPrincipal({ grantee: syncTask.taskRole, actions: ['s3:GetObject', 's3:GetObjectAttributes'], resourceArns: [this.seedBucket.arnForObjects('copies/*')] });
    iam.Grant.addToPrincipal({ grantee: syncTask.taskRole, actions: ['s3:ListBucket'], resourceArns: [this.seedBucket.bucketArn] });
    syncTask.defaultContainer?.addEnvironment(SEED_BUCKET_ENV, this.seedBucket.bucketName);
  }

  private sourceBucket(ds: S3BucketDataset, sources?: Readonly<Record<string, DatasetSource>>): s3.IBucket {
    const src = sources?.[ds.name];
    if (src && 'bucketArn' in src) return src;
    return s3.Bucket.fromBucketName(this, `Source-${ds.name}`, ds.bucketName);
  }

  /** Read access for the Batch Operations role: list (for a generated list), get with versions and tags, and the source's own key through S3. */
  private grantSourceRead(source: s3.IBucket, prefix?: string): void {
    iam.Grant.addToPrincipal({ grantee: this.batchRole, actions: ['s3:ListBucket', 's3:GetBucketLocation'], resourceArns: [source.bucketArn] });
    iam.Grant.addToPrincipal({
      grantee: this.batchRole,
      actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAcl', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'],
      resourceArns: [source.arnForObjects(prefix ? `${prefix}*` : '*')],
    });
    if (source.encryptionKey) {
      this.batchRole.addToPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [source.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }));
    }
  }

  private createJob(id: string, parameters: Record<string, unknown>, policy: iam.PolicyStatement[]): tasks.CallAwsService {
    return new tasks.CallAwsService(this, id, {
      service: 's3control',
      action: 'createJob',
      parameters,
      iamAction: 's3:CreateJob',
      iamResources: ['*'],
      additionalIamStatements: policy,
      resultSelector: { 'jobId.$': '$.JobId' },
      resultPath: '$.job',
    });
  }

  /** DescribeJob every 5 minutes until the job ends; success only when it completed with no failed task. */
  private pollJob(name: string, wait: sfn.Wait): sfn.IChainable {
    const stack = Stack.of(this);
    const describe = new tasks.CallAwsService(this, `Check ${name} job`, {
      service: 's3control',
      action: 'describeJob',
      parameters: { AccountId: stack.account, 'JobId.$': '$.job.jobId' },
      iamAction: 's3:DescribeJob',
      iamResources: [stack.formatArn({ service: 's3', region: stack.region, resource: 'job', resourceName: '*' })],
      // The whole description: ProgressSummary is absent while the job is still being prepared.
      resultPath: '$.describe',
    });
    describe.addRetry({ errors: ['S3Control.TooManyRequestsException', 'S3Control.InternalServiceException'], interval: Duration.seconds(30), maxAttempts: 5, backoffRate: 2 });
    const failed = new sfn.Fail(this, `${name} seed failed`, {
      error: 'InitialSeedFailed',
      cause: `The S3 Batch Operations job seeding ${name} failed, was cancelled or had failed tasks; see its completion report in the seed report bucket.`,
    });
    const done = new sfn.Succeed(this, `${name} seeded`);
    return wait.next(describe).next(new sfn.Choice(this, `${name} job ended?`)
      .when(sfn.Condition.and(
        sfn.Condition.stringEquals('$.describe.Job.Status', 'Complete'),
        sfn.Condition.isPresent('$.describe.Job.ProgressSummary.NumberOfTasksFailed'),
        sfn.Condition.numberEquals('$.describe.Job.ProgressSummary.NumberOfTasksFailed', 0),
      ), done)
      .when(sfn.Condition.or(...BATCH_JOB_FINAL_STATES.map((s) => sfn.Condition.stringEquals('$.describe.Job.Status', s))), failed)
      .otherwise(wait));
  }
}
