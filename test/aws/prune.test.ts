/**
 * The AWS export bucket's prune (issue 10 §4): ExportPruneTask alone and inside PrimarySite.
 * Permissions are checked by evaluating the synthesized policies (test/aws/policy-eval.ts), the
 * EventBridge rules by matching events shaped as AWS documents them:
 * - S3 "Object Deleted": "Amazon S3 Event Notifications with EventBridge: event message structure"
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).
 * - ECS "ECS Task State Change": "Amazon ECS task state change events"
 *   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html).
 */
import { Duration, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DEFAULT_PRUNE_GRACE_DAYS, ExportPruneTask, ImmutableExportBucket, PrimarySite, PRUNE_COMMAND, pruneScheduleExpression } from '../../lib/aws';
import { naming } from '../../lib/core';
import { PRUNE_GRACE_DAYS } from '../../lib/runtime/prune';
import { referencePlan } from '../../stacks/reference-plan';
import { plan, testStack } from './helpers';
import { evaluate, eventMatches, resolveCfn } from './policy-eval';

const ACCOUNT = '111122223333';
const BLOB = `${naming.BLOBS_PREFIX}ab/${'ab'.padEnd(64, '0')}`;
const NIGHT_FILES = ['nights/2026-01-01/manifest.json', 'nights/2026-01-01/recordings/index/part-0000.ndjson.gz'];
const NOT_BLOBS = [...NIGHT_FILES, 'objects/recordings/a.wav', 'verifications/2026-01-01.json', 'blobs/other/ab', 'blobs/sha256', 'x/blobs/sha256/ab/cd'];

/** Fake names for logical IDs: buckets `arn:aws:s3:::<id>`, roles `arn:aws:iam::<acct>:role/<id>`, anything else its ID. */
function names(template: Template): (id: string, attr?: string) => string {
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  return (id, attr) => {
    const type = resources[id]?.Type;
    if (type === 'AWS::S3::Bucket') return attr === 'Arn' ? `arn:aws:s3:::${id.toLowerCase()}` : id.toLowerCase();
    if (type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:aws:iam::${ACCOUNT}:role/${id}`;
    if (type === 'AWS::KMS::Key' && attr === 'Arn') return `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${id}`;
    return attr ? `${id}.${attr}` : id;
  };
}

function roleStatements(template: Template, roleLogicalId: string): unknown[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: unknown[] = [];
  for (const p of Object.values(policies)) {
    if ((p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleLogicalId)) out.push(...(resolveCfn(p.Properties.PolicyDocument.Statement, names(template)) as unknown[]));
  }
  return out;
}

function bucketPolicy(template: Template, bucketLogicalId: string): unknown[] {
  const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) => p.Properties.Bucket.Ref === bucketLogicalId)!;
  return resolveCfn(policy.Properties.PolicyDocument.Statement, names(template)) as unknown[];
}

function logicalId(template: Template, type: string, pathPart: string): string {
  const all = template.toJSON().Resources as Record<string, { Type: string; Metadata?: { 'aws:cdk:path'?: string } }>;
  const found = Object.entries(all).filter(([id, r]) => r.Type === type && id.includes(pathPart));
  if (found.length !== 1) throw new Error(`expected one ${type} matching ${pathPart}, found ${found.map(([id]) => id).join(', ')}`);
  return found[0][0];
}

function site(changes: Parameters<typeof plan>[0] = {}, extra: Partial<ConstructorParameters<typeof PrimarySite>[2]> = {}) {
  const stack = testStack();
  const s = new PrimarySite(stack, 'Primary', { plan: plan(changes), ...extra });
  return { stack, site: s, template: Template.fromStack(stack) };
}

const reference = site();
const t = reference.template;
const bucketId = reference.stack.getLogicalId(reference.site.exportBucket.bucket.node.defaultChild as CfnElement);
const bucketArn = `arn:aws:s3:::${bucketId.toLowerCase()}`;
const pruneRole = logicalId(t, 'AWS::IAM::Role', 'ExportPruneTaskDefinitionTaskRole');
const pruneRoleArn = `arn:aws:iam::${ACCOUNT}:role/${pruneRole}`;
const syncRoleArn = `arn:aws:iam::${ACCOUNT}:role/${logicalId(t, 'AWS::IAM::Role', 'SyncObjectsTaskTaskRole')}`;
const root = `arn:aws:iam::${ACCOUNT}:root`;

describe('schedule and command', () => {
  test('PrimarySite runs the jobs image\'s `prune` daily, after the export window, in the plan\'s time zone', () => {
    expect(pruneScheduleExpression(referencePlan)).toBe('cron(0 5 * * ? *)'); // export 02:00 + 3 h window
    expect(pruneScheduleExpression(plan({ schedule: { cron: '30 22 * * 1-5', timeZone: 'Europe/Berlin', exportWindowHours: 4 } }))).toBe('cron(30 2 * * ? *)');
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Description: 'Starts the Counterparty export bucket prune',
      ScheduleExpression: 'cron(0 5 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId(t, 'AWS::ECS::Cluster', 'NightlyExportCluster'), 'Arn'] },
        EcsParameters: { LaunchType: 'FARGATE', TaskDefinitionArn: { Ref: logicalId(t, 'AWS::ECS::TaskDefinition', 'ExportPrune') },
          NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } } },
      },
    });
  });

  test('the task definition carries the command and environment (so `aws ecs run-task` runs it on demand), as 1000:1000, read-only root, memory-limited', () => {
    const td = Object.values(t.findResources('AWS::ECS::TaskDefinition')).find((r) => r.Properties.ContainerDefinitions[0].Command?.[0] === PRUNE_COMMAND)!;
    const c = td.Properties.ContainerDefinitions[0];
    expect(c).toMatchObject({ Command: ['prune'], User: '1000:1000', ReadonlyRootFilesystem: true, Memory: 2048, MountPoints: [{ ContainerPath: '/tmp', ReadOnly: false }] });
    const env = Object.fromEntries((resolveCfn(c.Environment, names(t)) as { Name: string; Value: string }[]).map((e) => [e.Name, e.Value]));
    expect(env).toEqual({ CP_STORE: `s3://${bucketId.toLowerCase()}`, AWS_REGION: 'eu-central-1' });
    expect(td.Properties.ContainerDefinitions).toHaveLength(1);
    expect(c.Secrets).toBeUndefined();
  });

  test('dryRun and graceDays reach the environment; the default grace is the runtime\'s', () => {
    expect(DEFAULT_PRUNE_GRACE_DAYS).toBe(PRUNE_GRACE_DAYS);
    const { template } = standalone({ dryRun: true, graceDays: 10 });
    const td = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0];
    expect(td.Properties.ContainerDefinitions[0].Environment).toEqual(expect.arrayContaining([
      { Name: 'CP_PRUNE_DRY_RUN', Value: 'true' }, { Name: 'CP_PRUNE_GRACE_DAYS', Value: '10' },
    ]));
  });

  test('exportPrune: false (and scheduleEnabled: false) turn it off', () => {
    const off = site({}, { exportPrune: false });
    expect(off.site.exportPrune).toBeUndefined();
    off.template.resourcePropertiesCountIs('AWS::Scheduler::Schedule', { Description: 'Starts the Counterparty export bucket prune' }, 0);
    const disabled = site({}, { scheduleEnabled: false });
    disabled.template.hasResourceProperties('AWS::Scheduler::Schedule', { Description: 'Starts the Counterparty export bucket prune', State: 'DISABLED' });
    expect(disabled.site.exportPrune!.staleAlarm).toBeUndefined();
  });
});

describe('the prune role may delete under blobs/sha256/ only', () => {
  const statements = roleStatements(t, pruneRole);
  const may = (action: string, key?: string, context?: Record<string, string>) =>
    evaluate(statements, { action, resource: key === undefined ? bucketArn : `${bucketArn}/${key}`, context }) === 'allow';

  test('deletes (every version) and reads retention of blobs; never places a delete marker (no s3:DeleteObject)', () => {
    for (const a of ['s3:DeleteObjectVersion', 's3:GetObjectRetention', 's3:GetObject']) expect([a, may(a, BLOB)]).toEqual([a, true]);
    expect(may('s3:DeleteObject', BLOB)).toBe(false);
  });
  test('deletes nothing outside blobs/sha256/, and writes nothing anywhere', () => {
    for (const key of NOT_BLOBS) for (const a of ['s3:DeleteObject', 's3:DeleteObjectVersion']) expect([a, key, may(a, key)]).toEqual([a, key, false]);
    for (const key of [BLOB, ...NOT_BLOBS]) for (const a of ['s3:PutObject', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:PutObjectLegalHold']) expect([a, key, may(a, key)]).toEqual([a, key, false]);
  });
  test('reads the nights\' manifests and indexes; lists nights/ and blobs/ (with versions) only', () => {
    for (const key of NIGHT_FILES) expect(may('s3:GetObject', key)).toBe(true);
    expect(may('s3:GetObject', 'objects/recordings/a.wav')).toBe(false);
    for (const prefix of ['nights/', 'blobs/sha256/ab/', `${BLOB}`]) {
      expect(may('s3:ListBucket', undefined, { 's3:prefix': prefix })).toBe(true);
      expect(may('s3:ListBucketVersions', undefined, { 's3:prefix': prefix })).toBe(true);
    }
    expect(may('s3:ListBucket', undefined, { 's3:prefix': 'objects/' })).toBe(false);
    expect(may('s3:ListBucketVersions', undefined, {})).toBe(false);
  });
  test('kms:Decrypt on the export key only, through S3', () => {
    const key = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${logicalId(t, 'AWS::KMS::Key', 'ExportBucketKey')}`;
    expect(evaluate(statements, { action: 'kms:Decrypt', resource: key, context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } })).toBe('allow');
    expect(evaluate(statements, { action: 'kms:Decrypt', resource: key })).toBe('implicit-deny');
    const ops = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${logicalId(t, 'AWS::KMS::Key', 'OperationsKey')}`;
    expect(evaluate(statements, { action: 'kms:Decrypt', resource: ops, context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } })).toBe('implicit-deny');
    expect(evaluate(statements, { action: 'kms:GenerateDataKey', resource: key, context: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } })).toBe('implicit-deny');
  });
});

describe('the export bucket policy lets the prune role delete under blobs/sha256/ only', () => {
  const policy = bucketPolicy(t, bucketId);
  const denied = (principal: string, action: string, key: string) =>
    evaluate(policy, { action, resource: `${bucketArn}/${key}`, context: { 'aws:PrincipalArn': principal, 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' } }) === 'deny';

  test('prune: blobs yes; nights/ and everything else no', () => {
    for (const a of ['s3:DeleteObject', 's3:DeleteObjectVersion']) {
      expect(denied(pruneRoleArn, a, BLOB)).toBe(false);
      for (const key of NOT_BLOBS) expect([a, key, denied(pruneRoleArn, a, key)]).toEqual([a, key, true]);
    }
  });
  test('other roles (sync-objects) may delete nowhere, blobs included; break-glass keeps its leave', () => {
    for (const key of [BLOB, ...NOT_BLOBS]) expect(denied(syncRoleArn, 's3:DeleteObjectVersion', key)).toBe(true);
    for (const key of [BLOB, ...NOT_BLOBS]) expect(denied(root, 's3:DeleteObjectVersion', key)).toBe(false);
  });
  test('prune cannot bypass or change Object Lock', () => {
    for (const a of ['s3:BypassGovernanceRetention', 's3:PutObjectRetention', 's3:PutObjectLegalHold']) expect(denied(pruneRoleArn, a, BLOB)).toBe(true);
  });
  test('without prune the bucket policy has no blob deleter', () => {
    const off = site({}, { exportPrune: false });
    const p = bucketPolicy(off.template, off.stack.getLogicalId(off.site.exportBucket.bucket.node.defaultChild as CfnElement));
    expect((p as { Sid?: string }[]).map((s) => s.Sid)).not.toContain('DenyBlobDeletersOutsideBlobs');
    expect(JSON.stringify(p)).not.toContain('ExportPrune');
  });
  test('a principal that is also a general deleter is still held to blobs/sha256/', () => {
    const stack = testStack();
    const b = new ImmutableExportBucket(stack, 'Exports', { retention: Duration.days(7), deletionPrincipalArns: ['arn:aws:iam::111122223333:role/both'], blobDeletionPrincipalArns: ['arn:aws:iam::111122223333:role/both'] });
    const template = Template.fromStack(stack);
    const id = stack.getLogicalId(b.bucket.node.defaultChild as CfnElement);
    const p = bucketPolicy(template, id);
    const arn = `arn:aws:s3:::${id.toLowerCase()}`;
    const req = (key: string) => evaluate(p, { action: 's3:DeleteObjectVersion', resource: `${arn}/${key}`, context: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/both', 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' } });
    expect(req(BLOB)).not.toBe('deny');
    expect(req('nights/2026-01-01/manifest.json')).toBe('deny');
  });
});

/** An S3 "Object Deleted" event as the S3 user guide shows it. */
function objectDeleted(bucket: string, key: string, reason = 'DeleteObject'): Record<string, unknown> {
  return {
    version: '0', id: '2ee9cc15-d022-99ea-1fb8-1b1bac4850f9', 'detail-type': 'Object Deleted', source: 'aws.s3', account: ACCOUNT,
    time: '2021-11-12T00:00:00Z', region: 'eu-central-1', resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0', bucket: { name: bucket }, object: { key, sequencer: '617f08299329d189' },
      'request-id': 'N4N7GDK58NMKJ12R', requester: ACCOUNT, 'source-ip-address': '1.2.3.4', reason, 'deletion-type': 'Permanently Deleted',
    },
  };
}

describe('the tamper alarm\'s object-deletion rule ignores blobs/sha256/ and still alarms elsewhere', () => {
  const bucket = naming.exportBucketName(reference.site.plan);
  const rulePattern = (template: Template) => Object.values(template.findResources('AWS::Events::Rule'))
    .find((r) => (r.Properties.EventPattern['detail-type'] ?? []).includes('Object Deleted'))!.Properties.EventPattern as Record<string, unknown>;

  test('with prune: deletions under blobs/sha256/ do not match; nights/, objects/ and the rest do; lifecycle never', () => {
    const p = rulePattern(t);
    expect(eventMatches(p, objectDeleted(bucket, BLOB))).toBe(false);
    for (const key of NOT_BLOBS) expect([key, eventMatches(p, objectDeleted(bucket, key))]).toEqual([key, true]);
    expect(eventMatches(p, objectDeleted(bucket, 'nights/2026-01-01/manifest.json', 'Lifecycle Expiration'))).toBe(false);
    expect(eventMatches(p, objectDeleted('another-bucket', 'nights/2026-01-01/manifest.json'))).toBe(false);
  });
  test('without prune every API deletion alarms, blobs included', () => {
    const p = rulePattern(site({}, { exportPrune: false }).template);
    expect(eventMatches(p, objectDeleted(bucket, BLOB))).toBe(true);
  });
});

/** An ECS "Task State Change" event for a stopped task, as the ECS developer guide shows it. */
function taskStopped(clusterArn: string, taskDefinitionArn: string, container: Record<string, unknown>, stopCode = 'EssentialContainerExited'): Record<string, unknown> {
  return {
    version: '0', id: '3317b2af-7005-947d-b652-f55e762e571a', 'detail-type': 'ECS Task State Change', source: 'aws.ecs', account: ACCOUNT,
    time: '2026-01-01T05:10:00Z', region: 'eu-central-1', resources: [`arn:aws:ecs:eu-central-1:${ACCOUNT}:task/c/1`],
    detail: {
      clusterArn, taskDefinitionArn, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', launchType: 'FARGATE', stopCode,
      stoppedReason: stopCode === 'TaskFailedToStart' ? 'CannotPullContainerError: pull image manifest has been retried 5 time(s)' : 'Essential container in task exited',
      containers: [{ name: 'jobs', lastStatus: 'STOPPED', ...container }],
    },
  };
}

describe('a failed prune reaches the alarm topic', () => {
  const failure = Object.values(t.findResources('AWS::Events::Rule')).find((r) => (r.Properties.EventPattern['detail-type'] ?? []).includes('ECS Task State Change'))!;
  const pattern = resolveCfn(failure.Properties.EventPattern, names(t)) as Record<string, unknown>;
  const cluster = resolveCfn({ 'Fn::GetAtt': [logicalId(t, 'AWS::ECS::Cluster', 'NightlyExportCluster'), 'Arn'] }, names(t)) as string;
  const family = Object.values(t.findResources('AWS::ECS::TaskDefinition')).find((r) => r.Properties.ContainerDefinitions[0].Command?.[0] === 'prune')!.Properties.Family as string;
  const td = `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/${family}:3`;

  test('the rule targets the alarm topic', () => {
    expect(failure.Properties.Targets).toEqual([expect.objectContaining({ Arn: { Ref: logicalId(t, 'AWS::SNS::Topic', 'AlarmsTopic') } })]);
  });
  test('non-zero exit (the failure line\'s exit 2, OOM 137) and a task that never started match; exit 0 does not', () => {
    expect(eventMatches(pattern, taskStopped(cluster, td, { exitCode: 2 }))).toBe(true);
    expect(eventMatches(pattern, taskStopped(cluster, td, { exitCode: 137 }))).toBe(true);
    expect(eventMatches(pattern, taskStopped(cluster, td, {}, 'TaskFailedToStart'))).toBe(true);
    expect(eventMatches(pattern, taskStopped(cluster, td, { exitCode: 0 }))).toBe(false);
  });
  test('other task families and clusters do not match', () => {
    expect(eventMatches(pattern, taskStopped(cluster, `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/${family}Other:1`, { exitCode: 2 }))).toBe(false);
    expect(eventMatches(pattern, taskStopped(`arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/other`, td, { exitCode: 2 }))).toBe(false);
  });
  test('48 hours without a success line alarm on the topic (a run that never happened, or hung, is not green)', () => {
    const filter = Object.values(t.findResources('AWS::Logs::MetricFilter')).find((f) => JSON.stringify(f).includes('counterparty.prune'))!;
    expect(filter.Properties.FilterPattern).toBe('{ ($.event = "counterparty.prune") && ($.result = "success") }');
    const metric = filter.Properties.MetricTransformations[0];
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: metric.MetricName, Namespace: metric.MetricNamespace, Threshold: 1, ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 48, DatapointsToAlarm: 48, Period: 3600, TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: logicalId(t, 'AWS::SNS::Topic', 'AlarmsTopic') }],
    });
  });
});

function standalone(extra: Partial<ConstructorParameters<typeof ExportPruneTask>[2]> = {}) {
  const stack = testStack();
  const exportBucket = new ImmutableExportBucket(stack, 'Exports', { retention: Duration.days(30) });
  const topic = new sns.Topic(stack, 'Topic');
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'jobs');
  const task = new ExportPruneTask(stack, 'Prune', {
    exportBucket, alarmTopic: topic, jobsImage: { repository, tag: '1.0.0' },
    network: { vpcId: 'vpc-1', subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'], availabilityZones: ['eu-central-1a'] },
    ...extra,
  });
  return { stack, task, template: Template.fromStack(stack) };
}

describe('ExportPruneTask alone, with the user\'s own bucket', () => {
  test('creates its own cluster, and the user\'s bucket policy names its role for blobs/ only', () => {
    const { template } = standalone();
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 8 * * ? *)', ScheduleExpressionTimezone: 'UTC' });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const only = policy.find((s: { Sid?: string }) => s.Sid === 'DenyBlobDeletersOutsideBlobs');
    expect(only.Condition.ArnEquals['aws:PrincipalArn']).toEqual([{ 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'PruneTaskDefinitionTaskRole'), 'Arn'] }]);
  });
  test('an imported bucket gets the IAM grant (its policy is the owner\'s to change)', () => {
    const stack = testStack();
    const exportBucket = ImmutableExportBucket.fromExportBucketAttributes(stack, 'Imported', { bucketName: 'b-exports', encryptionKeyArn: 'arn:aws:kms:eu-central-1:111122223333:key/abc' });
    new ExportPruneTask(stack, 'Prune', {
      exportBucket, alarmTopic: new sns.Topic(stack, 'Topic'), jobsImage: { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'jobs'), tag: '1' },
      network: { vpcId: 'vpc-1', subnetIds: ['subnet-1'], securityGroupIds: ['sg-1'] },
    });
    const template = Template.fromStack(stack);
    const statements = roleStatements(template, logicalId(template, 'AWS::IAM::Role', 'PruneTaskDefinitionTaskRole'));
    expect(evaluate(statements, { action: 's3:DeleteObjectVersion', resource: `arn:aws:s3:::b-exports/${BLOB}` })).toBe('allow');
    expect(evaluate(statements, { action: 's3:DeleteObjectVersion', resource: 'arn:aws:s3:::b-exports/nights/2026-01-01/manifest.json' })).toBe('implicit-deny');
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
  });
  test('validation errors name the path, the prop, the value and the fix', () => {
    expect(() => standalone({ scheduleExpression: 'rate(1 day)' })).toThrow(/^Test\/Prune: scheduleExpression is "rate\(1 day\)"; .*Fix: pass pruneScheduleExpression/);
    expect(() => standalone({ graceDays: 0 })).toThrow(/^Test\/Prune: graceDays is 0; .*Fix: /);
    expect(() => standalone({ memoryLimitMiB: 1024 })).toThrow(/^Test\/Prune: memoryLimitMiB is 1024; .*Fix: /);
    expect(() => standalone({ network: { vpcId: 'vpc-1', subnetIds: [], securityGroupIds: [] } })).toThrow(/^Test\/Prune: network.subnetIds is empty\. Fix: /);
  });
});
