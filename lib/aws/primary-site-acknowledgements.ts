/**
 * The cdk-nag findings (AWS Solutions and NIST 800-53 R5) that a PrimarySite
 * accepts, each on its own resource with its reason. PrimarySite applies them
 * itself (`acknowledgeNagFindings`, default true), so cdk-nag in a user's
 * stack reports nothing from inside it. IAM5 findings are exact (rule ID plus
 * the wildcard found), so a new wildcard is a new finding that fails until
 * someone reasons about it. Listed in docs/nag-acknowledgements.md.
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { naming } from '../core';
import type { DatasetSource } from './nightly-export-pipeline';
import type { PrimarySite } from './primary-site';

/** One accepted cdk-nag finding: where (path under the PrimarySite), which rule (exact finding ID) and why. */
export interface NagAcknowledgement {
  /** The construct path below the PrimarySite, e.g. `NightlyExport/StateMachine/Role/DefaultPolicy/Resource`. */
  readonly path: string;
  /** The exact finding ID, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** Why the finding is accepted. */
  readonly reason: string;
}

/** A resolved CloudFormation value as cdk-nag prints it in a finding ID (`<Logical.Attr>`, `<Logical>`, joins flattened). */
function nagText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v && typeof v.Ref === 'string') return `<${v.Ref}>`;
  const getAtt = v?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  const join = v?.['Fn::Join'] as [string, unknown[]] | undefined;
  if (Array.isArray(join)) return join[1].map(nagText).join(join[0]);
  return JSON.stringify(value);
}

/** Acknowledges each finding on its construct. Throws when a path names no construct below `site` (the list is stale). */
export function applyNagAcknowledgements(site: IConstruct, acks: readonly NagAcknowledgement[]): void {
  for (const ack of acks) {
    let target: IConstruct | undefined = site;
    for (const part of ack.path.split('/')) target = target?.node.tryFindChild(part);
    if (!target) throw new Error(`${site.node.path}: the cdk-nag acknowledgement ${ack.id} names ${ack.path}, which does not exist. Fix: update lib/aws/primary-site-acknowledgements.ts.`);
    Validations.of(target).acknowledge({ id: ack.id, reason: ack.reason });
  }
}

export function primarySiteNagAcknowledgements(site: PrimarySite, sources: Readonly<Record<string, DatasetSource>> = {}): NagAcknowledgement[] {
  const plan = site.plan;
  const stack = Stack.of(site);
  /** The ARN of a dataset's source as cdk-nag prints it: the user's construct when given, else the ARN the plan implies. */
  const sourceArn = (name: string, planArn: string) => {
    const src = sources[name];
    const value = src && 'bucketArn' in src ? src.bucketArn : src && 'tableArn' in src ? src.tableArn : undefined;
    return value === undefined ? planArn : nagText(stack.resolve(value));
  };
  const lid = (c: IConstruct) => stack.getLogicalId((c.node.defaultChild ?? c) as CfnElement);
  const attr = (c: IConstruct, a = 'Arn') => `<${lid(c)}.${a}>`;
  const arn = (service: string, resource: string) => `arn:<AWS::Partition>:${service}:${plan.primary.region}:${plan.primary.account}:${resource}`;
  const bucket = attr(site.exportBucket.bucket);
  const familyWildcard = (c: IConstruct) => {
    const ref = JSON.stringify({ Ref: lid(c) });
    const sel = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":[":",${ref}]}]}`;
    const res = (i: number) => `{"Fn::Select":[${i},{"Fn::Split":["/",${sel(5)}]}]}`;
    return `arn:${sel(1)}:${sel(2)}:${sel(3)}:${sel(4)}:${res(0)}/${res(1)}:*`;
  };
  const acks: NagAcknowledgement[] = [];
  const add = (path: string, id: string, reason: string) => acks.push({ path, id, reason });
  const xray = 'X-Ray PutTraceSegments/PutTelemetryRecords (tracing is on) and the other actions CDK adds here support no resource-level scoping.';
  const logStreams = 'Log streams are created at run time inside the function\'s own log group; the wildcard is only the stream name.';
  const inline = 'CDK grants write least-privilege statements into a policy owned by the one role that uses them; a customer-managed policy would add a shareable object without reducing any permission.';

  // --- AWS Backup role (customer-managed policy instead of AWSBackupServiceRolePolicyForBackup).
  const bp = 'Snapshots/BackupPolicy/Resource';
  for (const ds of plan.datasets) {
    if (ds.kind === 'dynamoDbTable') add(bp, `AwsSolutions-IAM5[Resource::${sourceArn(ds.name, arn('dynamodb', `table/${ds.tableName}`))}/backup/*]`, 'AWS Backup names the on-demand backups it creates; the wildcard is limited to backups of this protected table.');
    if (ds.kind === 's3Bucket') {
      const bucketArn = sourceArn(ds.name, `arn:<AWS::Partition>:s3:::${ds.bucketName}`);
      add(bp, `AwsSolutions-IAM5[Resource::${bucketArn}/*]`, 'Backing up a bucket reads every object in it; limited to this protected bucket.');
      add('NightlyExport/SyncObjectsTask/TaskRole/DefaultPolicy/Resource', `AwsSolutions-IAM5[Resource::${bucketArn}/${ds.prefix ?? ''}*]`, 'sync-objects copies every (changed) object of the protected bucket (or its prefix); read-only.');
    }
  }
  if (plan.datasets.some((d) => d.kind === 'postgres' && d.engine === 'aurora-postgresql')) {
    add(bp, `AwsSolutions-IAM5[Resource::${arn('rds', 'cluster-snapshot:awsbackup:*')}]`, 'AWS Backup names its cluster snapshots awsbackup:<job id>; the wildcard is limited to snapshots AWS Backup creates.');
  }
  if (plan.datasets.some((d) => d.kind === 's3Bucket')) {
    add(bp, `AwsSolutions-IAM5[Resource::${arn('events', 'rule/AwsBackupManagedRule*')}]`, 'AWS Backup for S3 manages its own EventBridge rules, all named AwsBackupManagedRule*; copied from the AWS-managed S3 backup policy.');
  }
  add(bp, 'AwsSolutions-IAM5[Resource::*]', 'rds:Describe*, tag:GetResources, cloudwatch:GetMetricData, events:ListRules and backup:DescribeBackupVault support no resource-level scoping; kms:Decrypt of source-bucket keys is limited by kms:ViaService to S3.');
  add('Snapshots/Role/DefaultPolicy/Resource', 'NIST.800.53.R5-IAMNoInlinePolicy', `Only the vault-key grant (kms on the one vault key) is inline; ${inline}`);

  // --- Nightly export pipeline.
  const ne = 'NightlyExport';
  for (const t of ['SyncObjectsTask', 'ExportPostgresTask']) {
    if (!site.node.tryFindChild('NightlyExport')?.node.tryFindChild(t)) continue;
    add(`${ne}/${t}/ExecutionRole/DefaultPolicy/Resource`, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken supports no resource-level scoping; image pull itself is limited to the jobs repository.');
    add(`${ne}/${t}/ExecutionRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${ne}/${t}/TaskRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${ne}/${t}/Resource`, 'AwsSolutions-ECS2', 'The environment holds only non-secret configuration (bucket, dataset, host, port, database and the secret\'s ARN); the database password is read from Secrets Manager at run time by the task role.');
    add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${familyWildcard(site.pipeline.node.findChild(t))}]`, 'ecs:RunTask on any revision of this one task definition family (CDK\'s EcsRunTask grant), so a new revision does not break the running state machine.');
  }
  if (site.pipeline.syncObjectsTaskDefinition) {
    const r = `${ne}/SyncObjectsTask/TaskRole/DefaultPolicy/Resource`;
    add(r, `AwsSolutions-IAM5[Resource::${bucket}/${naming.BLOBS_PREFIX}*]`, 'Format v2 content-addressed blobs (blobs/sha256/<aa>/<sha256>): sync-objects checks for and writes only blobs it has hashed; S3 Object Lock keeps every written blob.');
    add(r, `AwsSolutions-IAM5[Resource::${bucket}/${naming.NIGHTS_PREFIX}*]`, 'sync-objects reads back the previous nights\' manifests and indexes (read-only).');
  }
  for (const ds of plan.datasets) {
    if (ds.kind === 's3Bucket') {
      add(`${ne}/SyncObjectsTask/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/nights/*/${ds.name}/*]`, 'sync-objects writes its dataset\'s index under the night\'s prefix (naming.datasetIndexPrefix); the wildcards are the night ID and the index file names.');
      add('InitialSeed/BatchOperationsRole/DefaultPolicy/Resource', `AwsSolutions-IAM5[Resource::${sourceArn(ds.name, `arn:<AWS::Partition>:s3:::${ds.bucketName}`)}/${ds.prefix ?? ''}*]`, 'The initial seed copies every object of the protected bucket (or its prefix); read-only.');
    }
    if (ds.kind === 'postgres') {
      add(`${ne}/ExportPostgresTask/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/nights/*/${ds.name}/dump.pgdump]`, 'One dump object per night (naming.postgresDumpKey); the wildcard is the night ID only.');
    }
    if (ds.kind === 'dynamoDbTable') {
      add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${attr(site.pipeline.stagingBucket!)}/nights/*/${ds.name}/*]`, 'ExportTableToPointInTime writes DynamoDB-named files under the night\'s dataset prefix of the unlocked staging bucket; the wildcards are the night ID and those file names.');
      add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/nights/*/${ds.name}/*]`, 'The staged export\'s files are copied (CopyObject with an S3-computed SHA-256) into the same keys of the export bucket; the wildcards are the night ID and DynamoDB\'s file names.');
      add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${sourceArn(ds.name, arn('dynamodb', `table/${ds.tableName}`))}/export/*]`, 'DescribeExport on this table\'s exports, whose IDs DynamoDB assigns.');
    }
    if (ds.kind === 'connectInstance') {
      const r = `${ne}/ConnectExportRole/DefaultPolicy/Resource`;
      add(r, `AwsSolutions-IAM5[Resource::${arn('connect', 'phone-number/*')}]`, 'connect:DescribePhoneNumber only: the instance\'s claimed numbers are account resources (phone-number/<id>), not under the instance ARN; read-only.');
      add(r, `AwsSolutions-IAM5[Resource::${arn('connect', `instance/${ds.instanceId}/*`)}]`, 'Sub-resources (flows, queues, users, ...) of this one Connect instance.');
      add(r, `AwsSolutions-IAM5[Resource::${bucket}/nights/*/${ds.name}/*]`, 'Writes only under the night\'s prefix of this dataset; the wildcards are the night ID and the resource-type file names.');
    }
  }
  for (const fn of ['ConnectExport', 'BuildManifest'] as const) {
    const f = fn === 'ConnectExport' ? site.pipeline.connectExportFunction : site.pipeline.buildManifestFunction;
    if (!f) continue;
    const r = `${ne}/${fn}Role/DefaultPolicy/Resource`;
    add(r, 'AwsSolutions-IAM5[Resource::*]', xray);
    add(r, `AwsSolutions-IAM5[Resource::${attr(site.pipeline.node.findChild(`${fn}Logs`))}:*]`, logStreams);
    add(r, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${attr(f)}:*]`, 'lambda:InvokeFunction on this one function\'s versions and aliases (CDK\'s LambdaInvoke grant).');
    add(`${ne}/${fn}/Resource`, 'NIST.800.53.R5-LambdaConcurrency', 'Invoked once per night by the state machine; reserving concurrency would take from the account\'s unreserved pool (minimum 10) and fail on new accounts.');
    add(`${ne}/${fn}/Resource`, 'NIST.800.53.R5-LambdaDLQ', 'Invoked synchronously by Step Functions, which retries and fails the execution (alarmed); a DLQ only applies to asynchronous invocations.');
    add(`${ne}/${fn}/Resource`, 'NIST.800.53.R5-LambdaInsideVPC', 'Talks only to AWS APIs (S3, Amazon Connect) with IAM; a VPC would need NAT or a Connect endpoint the plan does not give and would add no control.');
  }
  const bm = `${ne}/BuildManifestRole/DefaultPolicy/Resource`;
  add(bm, `AwsSolutions-IAM5[Resource::${bucket}/*]`, 'The manifest lists and hashes every object of the night (nights/ and objects/); read-only.');
  add(bm, `AwsSolutions-IAM5[Resource::${bucket}/${naming.manifestKey('2000-01-01').replace('2000-01-01', '*')}]`, 'Writes only the night\'s manifest.json (naming.manifestKey); the wildcard is the night ID.');
  for (const ds of plan.datasets) {
    if (ds.kind !== 'dynamoDbTable') continue;
    add(bm, `AwsSolutions-IAM5[Resource::${bucket}/${naming.dynamoDbTableSchemaKey('2000-01-01', ds.name).replace('2000-01-01', '*')}]`,
      'Writes only this DynamoDB dataset\'s key schema for the night (naming.dynamoDbTableSchemaKey); the wildcard is the night ID.');
  }
  add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, 'AwsSolutions-IAM5[Resource::*]', `${xray} (The .sync ECS integration also needs events:PutTargets/PutRule/DescribeRule on its managed rule.)`);
  add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
  if (site.pipeline.cluster) {
    add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${arn('ecs', `task/<${lid(site.pipeline.cluster)}>/*`)}]`,
      'ecs:StopTask/DescribeTasks on the tasks of the one export cluster (also conditioned on ecs:cluster); task IDs are assigned at run time.');
  }
  if (site.pipeline.stagingBucket) {
    const dm = `${ne}/StateMachine/DistributedMapPolicy/Resource`;
    const execs = arn('states', `execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${lid(site.stateMachine)}"}]}]}`);
    add(dm, `AwsSolutions-IAM5[Resource::${execs}/*:*]`, 'The Distributed Map that copies staged DynamoDB exports runs child executions of this state machine only (CDK\'s DistributedMap grant); their IDs are assigned at run time.');
    add(dm, `AwsSolutions-IAM5[Resource::${execs}:*]`, 'DescribeExecution/StopExecution of this state machine\'s own executions (CDK\'s DistributedMap grant).');
    add(dm, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${ne}/DynamoDbExportStaging/Resource`, 'NIST.800.53.R5-S3BucketReplicationEnabled', 'A transit copy of the night\'s DynamoDB export, copied into the export bucket within the night and expired after a week; a replica adds nothing.');
  }

  // --- Readers (export bucket only) and image mirrors (ECR pull only).
  for (const who of ['GcpReader', 'AzureReader']) {
    if (!site.node.tryFindChild(who)) continue;
    const r = `${who}/Role/DefaultPolicy/Resource`;
    add(r, `AwsSolutions-IAM5[Resource::${bucket}/*]`, 'A counterparty copies every object of the export bucket: read-only (Get/GetVersion/GetAttributes/GetTagging), this bucket only.');
    add(r, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
  }
  for (const who of ['GcpImageMirror', 'AzureImageMirror']) {
    if (!site.node.tryFindChild(who)) continue;
    const r = `${who}/Role/DefaultPolicy/Resource`;
    add(r, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken supports no resource-level scoping; pulls are limited to the jobs and application repositories.');
    add(r, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
  }

  // --- Initial seed (S3 Batch Operations).
  if (site.initialSeed) {
    const seed = 'InitialSeed';
    add(`${seed}/StateMachine/Role/DefaultPolicy/Resource`, 'AwsSolutions-IAM5[Resource::*]', `s3:CreateJob supports no resource-level scoping (the one job role it may pass is named by iam:PassRole); ${xray}`);
    add(`${seed}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${arn('s3', 'job/*')}]`, 's3:DescribeJob of the Batch Operations jobs this state machine creates; job IDs are assigned at run time.');
    add(`${seed}/StateMachine/Role/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    const br = `${seed}/BatchOperationsRole/DefaultPolicy/Resource`;
    add(br, `AwsSolutions-IAM5[Resource::${attr(site.initialSeed.seedBucket)}/*]`, 'The seed job writes its copies (copies/<dataset>/<source key>) and completion reports (reports/<dataset>/) into its own unlocked seed bucket only.');
    add(br, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${seed}/Bucket/Resource`, 'NIST.800.53.R5-S3BucketReplicationEnabled', 'Transit copies and completion reports of the one-off seed jobs, expired after 90 days; a replica adds nothing.');
    if (site.pipeline.syncObjectsTaskDefinition) {
      add(`${ne}/SyncObjectsTask/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${attr(site.initialSeed.seedBucket)}/copies/*]`, 'sync-objects reads the seeded copies (their SHA-256 and a server-side copy source) of its datasets; read-only.');
    }
  }

  // --- The daily prune of the export bucket (ExportPruneTask).
  if (site.exportPrune) {
    const pr = 'ExportPrune';
    add(`${pr}/TaskDefinition/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/${naming.BLOBS_PREFIX}*]`,
      'prune heads, reads the Object Lock retention of and deletes content-addressed blobs (blobs/sha256/<aa>/<sha256>) only; the bucket policy denies its deletes anywhere else and Object Lock refuses them before retention expires.');
    add(`${pr}/TaskDefinition/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/${naming.NIGHTS_PREFIX}*]`, 'prune reads every present night\'s manifest and index files to learn which blobs are referenced (read-only).');
    add(`${pr}/TaskDefinition/TaskRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${pr}/TaskDefinition/ExecutionRole/DefaultPolicy/Resource`, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken supports no resource-level scoping; image pull itself is limited to the jobs repository.');
    add(`${pr}/TaskDefinition/ExecutionRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${pr}/TaskDefinition/Resource`, 'AwsSolutions-ECS2', 'The environment holds only non-secret configuration (the export bucket URL, the region, the dry-run flag and the grace days); prune uses no secret.');
    add(`${pr}/SchedulerRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', `ecs:RunTask of the one prune task definition and iam:PassRole of its two roles, created by aws-scheduler-targets; ${inline}`);
  }

  // --- The opt-in management-events trail.
  if (site.managementEventsTrail) {
    add('ManagementEventsTrail/Trail/Resource', 'NIST.800.53.R5-CloudTrailCloudWatchLogsEnabled', 'The tamper alarm matches the trail\'s management events in EventBridge, which receives them without CloudWatch Logs; a log group copy would add cost and another inline-policy role, and no alarm.');
    add('ManagementEventsTrail/Bucket/Resource', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'CloudTrail log files of this account, validated by digest files; an organization trail or a log archive account is the place for a second copy.');
  }

  // --- Buckets.
  add('ExportBucket/Bucket/Resource', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'The export bucket\'s replicas are the counterparties on GCP and Azure (copied by their own jobs); S3 replication would only keep a second copy inside AWS.');
  add('ExportBucket/AccessLogs/Resource', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'Server access logs of the export bucket; a replica adds cost and no recovery value.');
  add('ExportBucket/AccessLogs/Resource', 'NIST.800.53.R5-S3DefaultEncryptionKMS', 'S3 server access log delivery supports only SSE-S3 on the target bucket.');
  return acks;
}
