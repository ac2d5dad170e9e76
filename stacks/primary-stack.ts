/**
 * The reference contact centre's AWS primary: one stack, `PrimarySite` from
 * the plan, deployed to the plan's account and region, with every cdk-nag
 * finding it accepts acknowledged here, each with its reason (listed in
 * docs/nag-acknowledgements.md).
 */
import { CfnElement, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { IConstruct, Construct } from 'constructs';
import { naming, type ProtectionPlan } from '../lib/core';
import { PrimarySite, type PrimarySiteProps } from '../lib/aws';

/** Properties of a {@link ContactCentrePrimaryStack}. */
export interface ContactCentrePrimaryStackProps extends StackProps, Omit<PrimarySiteProps, 'plan'> {
  /** The protection plan; the stack's env defaults to its primary account and region. */
  readonly plan: ProtectionPlan;
}

/** One accepted cdk-nag finding: where (path under the stack), which rule (exact finding ID) and why. */
export interface NagAcknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

export class ContactCentrePrimaryStack extends Stack {
  public readonly site: PrimarySite;
  /** Every cdk-nag acknowledgement made in this stack. */
  public readonly nagAcknowledgements: readonly NagAcknowledgement[];

  constructor(scope: Construct, id: string, props: ContactCentrePrimaryStackProps) {
    super(scope, id, {
      ...props,
      env: props.env ?? { account: props.plan.primary.account, region: props.plan.primary.region },
      description: props.description ?? `Counterparty primary (AWS) of ${props.plan.system}: immutable exports, locked snapshots, keyless counterparty readers`,
    });
    this.site = new PrimarySite(this, 'Primary', props);
    this.nagAcknowledgements = primaryNagAcknowledgements(this, this.site);
    for (const ack of this.nagAcknowledgements) {
      const target = this.node.tryFindChild(ack.path.split('/')[0]) && findByPath(this, ack.path);
      if (!target) throw new Error(`${this.node.path}: nag acknowledgement for ${ack.id} names ${ack.path}, which does not exist. Fix: update stacks/primary-stack.ts.`);
      Validations.of(target).acknowledge({ id: ack.id, reason: ack.reason });
    }
  }
}

function findByPath(root: IConstruct, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = root;
  for (const part of path.split('/')) node = node?.node.tryFindChild(part);
  return node;
}

/**
 * The findings the reference deployment accepts. IAM5 findings are exact
 * (rule ID plus the wildcard found), so a new wildcard is a new finding that
 * fails the build until someone reasons about it.
 */
export function primaryNagAcknowledgements(stack: ContactCentrePrimaryStack, site: PrimarySite): NagAcknowledgement[] {
  const plan = site.plan;
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
  const bp = 'Primary/Snapshots/BackupPolicy/Resource';
  for (const ds of plan.datasets) {
    if (ds.kind === 'dynamoDbTable') add(bp, `AwsSolutions-IAM5[Resource::${arn('dynamodb', `table/${ds.tableName}/backup/*`)}]`, 'AWS Backup names the on-demand backups it creates; the wildcard is limited to backups of this protected table.');
    if (ds.kind === 's3Bucket') {
      add(bp, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${ds.bucketName}/*]`, 'Backing up a bucket reads every object in it; limited to this protected bucket.');
      add('Primary/NightlyExport/SyncObjectsTask/TaskRole/DefaultPolicy/Resource', `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${ds.bucketName}/*]`, 'sync-objects copies every (changed) object of the protected bucket (or its prefix); read-only.');
    }
  }
  if (plan.datasets.some((d) => d.kind === 'postgres' && d.engine === 'aurora-postgresql')) {
    add(bp, `AwsSolutions-IAM5[Resource::${arn('rds', 'cluster-snapshot:awsbackup:*')}]`, 'AWS Backup names its cluster snapshots awsbackup:<job id>; the wildcard is limited to snapshots AWS Backup creates.');
  }
  if (plan.datasets.some((d) => d.kind === 's3Bucket')) {
    add(bp, `AwsSolutions-IAM5[Resource::${arn('events', 'rule/AwsBackupManagedRule*')}]`, 'AWS Backup for S3 manages its own EventBridge rules, all named AwsBackupManagedRule*; copied from the AWS-managed S3 backup policy.');
  }
  add(bp, 'AwsSolutions-IAM5[Resource::*]', 'rds:Describe*, tag:GetResources, cloudwatch:GetMetricData, events:ListRules and backup:DescribeBackupVault support no resource-level scoping; kms:Decrypt of source-bucket keys is limited by kms:ViaService to S3.');
  add('Primary/Snapshots/Role/DefaultPolicy/Resource', 'NIST.800.53.R5-IAMNoInlinePolicy', `Only the vault-key grant (kms on the one vault key) is inline; ${inline}`);

  // --- Nightly export pipeline.
  const ne = 'Primary/NightlyExport';
  for (const t of ['SyncObjectsTask', 'ExportPostgresTask']) {
    if (!site.node.tryFindChild('NightlyExport')?.node.tryFindChild(t)) continue;
    add(`${ne}/${t}/ExecutionRole/DefaultPolicy/Resource`, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken supports no resource-level scoping; image pull itself is limited to the jobs repository.');
    add(`${ne}/${t}/ExecutionRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${ne}/${t}/TaskRole/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
    add(`${ne}/${t}/Resource`, 'AwsSolutions-ECS2', 'The environment holds only non-secret configuration (bucket, dataset, host, port, database and the secret\'s ARN); the database password is read from Secrets Manager at run time by the task role.');
    add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${familyWildcard(site.pipeline.node.findChild(t))}]`, 'ecs:RunTask on any revision of this one task definition family (CDK\'s EcsRunTask grant), so a new revision does not break the running state machine.');
  }
  for (const ds of plan.datasets) {
    if (ds.kind === 's3Bucket') {
      add(`${ne}/SyncObjectsTask/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/${naming.datasetObjectsPrefix(ds.name)}*]`, 'sync-objects writes (and lists) only under its dataset\'s objects/ prefix.');
      add(`${ne}/SyncObjectsTask/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${arn('kms', 'key/*')}]`, 'The source bucket\'s key is not known to the plan; kms:Decrypt is limited by kms:ViaService to S3 in this region, so it only decrypts objects the role may already read.');
    }
    if (ds.kind === 'postgres') {
      add(`${ne}/ExportPostgresTask/TaskRole/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/nights/*/${ds.name}/dump.pgdump]`, 'One dump object per night (naming.postgresDumpKey); the wildcard is the night ID only.');
    }
    if (ds.kind === 'dynamoDbTable') {
      add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${bucket}/nights/*/${ds.name}/*]`, 'ExportTableToPointInTime writes DynamoDB-named files under the night\'s dataset prefix; the wildcards are the night ID and those file names.');
      add(`${ne}/StateMachine/Role/DefaultPolicy/Resource`, `AwsSolutions-IAM5[Resource::${arn('dynamodb', `table/${ds.tableName}/export/*`)}]`, 'DescribeExport on this table\'s exports, whose IDs DynamoDB assigns.');
    }
    if (ds.kind === 'connectInstance') {
      const r = `${ne}/ConnectExportRole/DefaultPolicy/Resource`;
      add(r, 'AwsSolutions-IAM5[Action::connect:List*]', 'The crawler lists every configuration resource type of the instance (flows, modules, queues, routing profiles, hours, prompts, quick connects, users, hierarchy, security profiles); all read-only, limited to this instance.');
      add(r, 'AwsSolutions-IAM5[Action::connect:Describe*]', 'The crawler describes every configuration resource type of the instance; read-only, limited to this instance.');
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
  const schedulerRole = stack.node.children.find((c) => c.node.id.startsWith('SchedulerRoleForTarget-'));
  if (schedulerRole) add(`${schedulerRole.node.id}/DefaultPolicy/Resource`, 'NIST.800.53.R5-IAMNoInlinePolicy', `states:StartExecution on the one state machine, created by aws-scheduler-targets; ${inline}`);

  // --- Readers.
  for (const who of ['GcpReader', 'AzureReader']) {
    if (!site.node.tryFindChild(who)) continue;
    const r = `Primary/${who}/Role/DefaultPolicy/Resource`;
    add(r, 'AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken supports no resource-level scoping; pulls are limited to the jobs and application repositories.');
    add(r, `AwsSolutions-IAM5[Resource::${bucket}/*]`, 'A counterparty copies every object of the export bucket: read-only (Get/GetVersion/GetAttributes/GetTagging), this bucket only.');
    add(r, 'NIST.800.53.R5-IAMNoInlinePolicy', inline);
  }

  // --- Buckets.
  add('Primary/ExportBucket/Bucket/Resource', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'The export bucket\'s replicas are the counterparties on GCP and Azure (copied by their own jobs); S3 replication would only keep a second copy inside AWS.');
  add('Primary/ExportBucket/AccessLogs/Resource', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'Server access logs of the export bucket; a replica adds cost and no recovery value.');
  add('Primary/ExportBucket/AccessLogs/Resource', 'NIST.800.53.R5-S3DefaultEncryptionKMS', 'S3 server access log delivery supports only SSE-S3 on the target bucket.');
  return acks;
}
