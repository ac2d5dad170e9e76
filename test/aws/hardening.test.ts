/**
 * Issue 13 (first night, Connect least privilege, tamper resistance, hygiene), and the AWS parts of
 * issues 11 (Backup job alarm, per-dataset Catch) and 12 (mirror roles, existing OIDC provider, runtime),
 * asserted on the synthesized reference template.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AzureImageMirrorRole, BackupJobAlarm, GcpImageMirrorRole, ImmutableExportBucket, NightlyExportPipeline, PrimarySite, TamperAlarm } from '../../lib/aws';
import { FAILED_BACKUP_JOB_STATES } from '../../lib/aws/backup-job-alarm';
import { InitialSeed, SEED_BUCKET_ENV } from '../../lib/aws/initial-seed';
import { failureReason } from '../../lib/runtime/handlers/build-manifest';
import { LOCK_CHANGING_ACTIONS } from '../../lib/aws/immutable-export-bucket';
import { JOBS_CONTAINER_USER } from '../../lib/aws/nightly-export-pipeline';
import { naming } from '../../lib/core';
import { CONNECT_MAP_MAX_CONCURRENCY, CONNECT_READ_ACTIONS, CONNECT_RESOURCE_TYPES } from '../../lib/runtime/exporters/connect';
import { ContactCentrePrimaryStack } from '../../stacks/primary-stack';
import { referencePlan } from '../../stacks/reference-plan';
import { plan, testApp, testStack } from './helpers';

const stack = new ContactCentrePrimaryStack(testApp(), 'Ref', { plan: referencePlan });
const t = Template.fromStack(stack);
const lid = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const topicRef = { Ref: lid(stack.site.alarmTopic as never) };
const exportBucketName = naming.exportBucketName(referencePlan);

/** Every IAM statement of the template: managed/inline policies and role inline policies. */
function allStatements(template: Template): any[] {
  const fromPolicies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const fromManaged = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const fromRoles = Object.values(template.findResources('AWS::IAM::Role')).flatMap((r: any) => (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement));
  return [...fromPolicies, ...fromManaged, ...fromRoles];
}

/** A state machine definition, with every CloudFormation token replaced by "<token>" so it parses as JSON. */
function definitionOf(template: Template, roleLogicalId: string): any {
  const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).find((r: any) => r.Properties.RoleArn['Fn::GetAtt'][0] === roleLogicalId) as any;
  const def = sm.Properties.DefinitionString;
  const text = typeof def === 'string' ? def : def['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : '<token>')).join('');
  return JSON.parse(text);
}
const nightly = () => definitionOf(t, lid(stack.site.stateMachine.role as never));

/** Every state of a definition, nested ones (Parallel branches, Map processors) included. */
function statesOf(def: any): Record<string, any> {
  const out: Record<string, any> = {};
  const visit = (d: any) => {
    for (const [name, st] of Object.entries<any>(d.States ?? {})) {
      out[name] = st;
      for (const b of st.Branches ?? []) visit(b);
      if (st.ItemProcessor) visit(st.ItemProcessor);
      if (st.Iterator) visit(st.Iterator);
    }
  };
  visit(def);
  return out;
}

describe('issue 13.1: a first night that works', () => {
  const smRole = () => lid(stack.site.stateMachine.role as never);
  const smStatements = () => Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: smRole() }]))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const staging = () => lid(stack.site.pipeline.stagingBucket!);

  test('the DynamoDB export goes to the unlocked staging bucket, with exactly the permissions AWS\'s export guide lists', () => {
    const exportState = statesOf(nightly())['Export contact-records'];
    expect(exportState.Resource).toContain(':states:::aws-sdk:dynamodb:exportTableToPointInTime');
    expect(exportState.Parameters.S3Bucket).toBe('<token>');
    expect(JSON.stringify(t.toJSON().Resources[lid(stack.site.stateMachine)].Properties.DefinitionString)).toContain(`"S3Bucket\\":\\"","{"Ref":"${staging()}"}`.replace('","{', '",{'));
    const write = smStatements().find((s: any) => JSON.stringify(s.Action).includes('s3:PutObjectAcl'));
    expect([write.Action].flat().sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl']);
    expect(JSON.stringify(write.Resource)).toContain(staging());
    const bucket = t.toJSON().Resources[staging()];
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID).toEqual({ 'Fn::GetAtt': [lid(stack.site.exportKey as never), 'Arn'] });
  });

  test('then each staged file is copied server-side into the same key of the locked bucket with an S3-computed SHA-256', () => {
    const states = statesOf(nightly());
    const done = states['contact-records done?'];
    expect(done.Choices.find((c: any) => c.StringEquals === 'COMPLETED').Next).toBe('contact-records export ID');
    const id = states['contact-records export ID'];
    expect(id.Parameters['id.$']).toBe("States.ArrayGetItem(States.StringSplit($.export.exportArn, '/'), 3)");
    // arn:aws:dynamodb:<region>:<account>:table/<table>/export/<id>: item 3 after splitting on '/' is the export ID.
    expect('arn:aws:dynamodb:eu-central-1:111122223333:table/acme-cc-contact-records/export/01700000000000-abcdef12'.split('/')[3]).toBe('01700000000000-abcdef12');
    expect(id.Next).toBe('Copy contact-records export');
    const map = states['Copy contact-records export'];
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemReader.Resource).toContain(':states:::s3:listObjectsV2');
    expect(map.ItemReader.Parameters['Prefix.$']).toBe("States.Format('nights/{}/contact-records/AWSDynamoDB/{}/', $.night, $.export.id)");
    const copy = states['Copy contact-records file'];
    expect(copy.Resource).toContain(':states:::aws-sdk:s3:copyObject');
    expect(copy.Parameters).toMatchObject({ 'Key.$': '$.Key', ChecksumAlgorithm: 'SHA256' });
    expect(copy.Parameters['CopySource.$']).toMatch(/^States\.Format\('<token>\/\{\}', \$\.Key\)$/);
    // A Distributed Map inside a Parallel once got no DistributedMapPolicy (aws/aws-cdk#29266): the role must start its own child runs.
    const dm = allStatements(t).find((st: any) => st.Action === 'states:StartExecution');
    expect(dm.Resource).toEqual({ Ref: lid(stack.site.stateMachine) });
  });

  test('the initial seed: an S3 Batch Operations copy with SHA-256 into the unlocked seed bucket, polled, failing on any failed task, alarmed, fed to sync-objects', () => {
    const seed = stack.site.initialSeed!;
    const def = definitionOf(t, lid(seed.stateMachine.role as never));
    const states = statesOf(def);
    const create = states['Seed recordings from a generated list'];
    expect(create.Resource).toContain(':states:::aws-sdk:s3control:createJob');
    expect(create.Parameters.Operation.S3PutObjectCopy).toMatchObject({ TargetResource: '<token>', TargetKeyPrefix: 'copies/recordings', ChecksumAlgorithm: 'SHA256' });
    const seedBucket = t.toJSON().Resources[lid(seed.seedBucket)];
    expect(seedBucket.Properties.ObjectLockEnabled).toBeUndefined();
    const env = (Object.values(t.findResources('AWS::ECS::TaskDefinition')) as any[]).find((td) => JSON.stringify(td).includes('SyncObjectsTask')).Properties.ContainerDefinitions[0].Environment;
    expect(env).toEqual(expect.arrayContaining([{ Name: SEED_BUCKET_ENV, Value: { Ref: lid(seed.seedBucket) } }]));
    expect(create.Parameters.ManifestGenerator.S3JobManifestGenerator.SourceBucket).toContain(':s3:::acme-cc-call-recordings-111122223333');
    const ended = states['recordings job ended?'];
    expect(JSON.stringify(ended.Choices[0])).toContain('NumberOfTasksFailed');
    expect(states[ended.Choices[1].Next].Type).toBe('Fail');
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a: any) => JSON.stringify(a.Properties.Metrics ?? []).includes(lid(seed.stateMachine)));
    expect(alarms).toHaveLength(1);
    expect((alarms[0] as any).Properties.AlarmActions).toEqual([topicRef]);
  });

  test('the seed can be driven from an S3 Inventory report (construct used alone)', () => {
    const s = testStack();
    const exportBucket = new ImmutableExportBucket(s, 'Exports', { retention: Duration.days(7) });
    const inventory = new s3.Bucket(s, 'Inventory');
    const seed = new InitialSeed(s, 'Seed', { exportBucket, inventoryBucket: inventory, datasets: [{ kind: 's3Bucket', name: 'rec', bucketName: 'rec-bucket' }] });
    const def = definitionOf(Template.fromStack(s), s.getLogicalId(seed.stateMachine.role.node.defaultChild as never));
    const create = statesOf(def)['Seed rec from an inventory report'];
    expect(create.Parameters.Manifest.Spec.Format).toBe('S3InventoryReport_CSV_20161130');
    expect(create.Parameters.Manifest.Location['ETag.$']).toBe('$.inventoryManifest.etag');
    expect(() => new InitialSeed(testStack(), 'Seed', { exportBucket, datasets: [{ kind: 'dynamoDbTable', name: 't', tableName: 't' }] }))
      .toThrow(/^Test\/Seed: datasets has no s3Bucket dataset.*Fix: /);
  });
});

describe('issue 13.2: the Connect crawler, within its limits, least privilege', () => {
  test('no IAM policy grants connect:List*, connect:Describe* or connect:* (no connect wildcard at all)', () => {
    const actions = allStatements(t).flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('connect:'));
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a: string) => a.includes('*'))).toEqual([]);
  });
  test('the granted actions cover every resource type the crawler exports', () => {
    const granted = new Set(allStatements(t).flatMap((s: any) => [s.Action].flat()));
    for (const type of CONNECT_RESOURCE_TYPES) {
      for (const a of type.actions) expect({ type: type.type, action: a, granted: granted.has(a) }).toEqual({ type: type.type, action: a, granted: true });
    }
    expect([...granted].filter((a: string) => a.startsWith('connect:')).sort()).toEqual([...CONNECT_READ_ACTIONS].sort());
  });
  test('plan → Map over the planned items (one at a time) → finalize', () => {
    const states = statesOf(nightly());
    expect(states['Plan connect export'].Parameters).toMatchObject({ action: 'plan' });
    expect(states['Plan connect export'].Next).toBe('Export connect resource types');
    const map = states['Export connect resource types'];
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.connectPlan.items', MaxConcurrency: CONNECT_MAP_MAX_CONCURRENCY, Next: 'Finalize connect export' });
    expect(states['Export connect types'].Parameters).toMatchObject({ 'resourceTypes.$': '$.resourceTypes', 'shard.$': '$.shard' });
    expect(states['Finalize connect export'].Parameters).toMatchObject({ action: 'finalize' });
  });
});

describe('issue 13.3: tamper-resistant by default', () => {
  const denyOf = (template: Template, bucketLogicalId: string) => {
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p: any) => p.Properties.Bucket.Ref === bucketLogicalId) as any;
    return policy.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === 'DenyLockBypassExceptBreakGlass');
  };
  test('the export bucket policy denies bypassing or changing Object Lock to everyone but the break-glass principal (default: root)', () => {
    const deny = denyOf(t, lid(stack.site.exportBucket.bucket));
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: [...LOCK_CHANGING_ACTIONS] });
    expect(deny.Action).toContain('s3:BypassGovernanceRetention');
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] }] } });
  });
  test('the export bucket is append-only: API deletions are denied to all but the deletion principals (default: break-glass)', () => {
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find((p: any) => p.Properties.Bucket.Ref === lid(stack.site.exportBucket.bucket)) as any;
    const deny = policy.Properties.PolicyDocument.Statement.find((s: any) => s.Sid === 'DenyDeletesExceptAllowed');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'] });
    // The break-glass root, and the prune task's role (held to blobs/sha256/ by DenyBlobDeletersOutsideBlobs: test/aws/prune.test.ts).
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] },
      { 'Fn::GetAtt': [lid(stack.site.exportPrune!.taskDefinition.taskRole), 'Arn'] },
    ] } });
    const s = testStack();
    new ImmutableExportBucket(s, 'Exports', { retention: Duration.days(7), deletionPrincipalArns: ['arn:aws:iam::111122223333:role/prune'] });
    const all = Object.values(Template.fromStack(s).findResources('AWS::S3::BucketPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(all.find((x: any) => x.Sid === 'DenyDeletesExceptAllowed').Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/prune'] } });
  });
  test('with breakGlassPrincipalArns, exactly those principals are excepted', () => {
    const s = testStack();
    const breakGlass = ['arn:aws:iam::111122223333:role/BreakGlass'];
    const site = new PrimarySite(s, 'Primary', { plan: referencePlan, breakGlassPrincipalArns: breakGlass });
    const deny = denyOf(Template.fromStack(s), s.getLogicalId(site.exportBucket.bucket.node.defaultChild as never));
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': breakGlass } });
  });
  test('the export bucket sends events to EventBridge, and a rule on its object deletions (API, not lifecycle) notifies the alarm topic', () => {
    expect(t.toJSON().Resources[lid(stack.site.exportBucket.bucket)].Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    expect(Object.keys(t.findResources('Custom::S3BucketNotifications'))).toHaveLength(0);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Deleted'], detail: { bucket: { name: [exportBucketName] }, reason: ['DeleteObject'] } },
      Targets: [{ Arn: topicRef, Id: 'Target0' }],
    });
  });
  test('the tamper alarm also watches bucket encryption and policy deletion, backup plan/selection changes and the vault access policy', () => {
    const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r: any) => r.Properties);
    const names = (source: string) => rules.filter((r) => r.EventPattern.source?.[0] === source && r.EventPattern['detail-type']?.[0] === 'AWS API Call via CloudTrail')
      .flatMap((r) => r.EventPattern.detail.eventName);
    expect(names('aws.s3')).toEqual(expect.arrayContaining(['PutBucketEncryption', 'DeleteBucketPolicy']));
    expect(names('aws.backup')).toEqual(expect.arrayContaining(['DeleteBackupPlan', 'UpdateBackupPlan', 'DeleteBackupSelection', 'PutBackupVaultAccessPolicy', 'DeleteBackupVaultAccessPolicy']));
    const plan = rules.find((r) => r.EventPattern.detail?.eventName?.includes('DeleteBackupPlan'));
    expect(plan.EventPattern.detail.requestParameters).toEqual({ backupPlanId: [{ 'Fn::GetAtt': [lid(stack.site.snapshots!.plan), 'BackupPlanId'] }] });
    expect(plan.Targets).toEqual([{ Arn: topicRef, Id: 'Target0' }]);
  });
  test('every KMS key policy denies grants that are not for an AWS resource', () => {
    const keys = Object.values(t.findResources('AWS::KMS::Key')) as any[];
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const k of keys) {
      expect(k.Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
        Effect: 'Deny', Action: 'kms:CreateGrant', Principal: { AWS: '*' }, Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false' } },
      })]));
    }
  });
  test('managementEventsTrail: an opt-in multi-region management-events trail with log validation; none by default', () => {
    expect(Object.keys(t.findResources('AWS::CloudTrail::Trail'))).toHaveLength(0);
    const s = testStack();
    new PrimarySite(s, 'Primary', { plan: referencePlan, managementEventsTrail: true });
    Template.fromStack(s).hasResourceProperties('AWS::CloudTrail::Trail', { IsMultiRegionTrail: true, EnableLogFileValidation: true, IsLogging: true, KMSKeyId: {} });
  });
});

describe('issue 13.4: hygiene', () => {
  test('every ECS task definition (sync-objects, export-postgres, prune) runs as an explicit non-root user with a memory limit', () => {
    const tds = Object.values(t.findResources('AWS::ECS::TaskDefinition')) as any[];
    expect(tds).toHaveLength(3);
    for (const td of tds) {
      const c = td.Properties.ContainerDefinitions[0];
      expect(c.User).toBe(JOBS_CONTAINER_USER);
      expect(c.User).not.toMatch(/^(0|root)(:|$)/);
      expect(c.Memory).toBe(Number(td.Properties.Memory));
    }
  });
  test('the ECR repository expires untagged images', () => {
    const repo = Object.values(t.findResources('AWS::ECR::Repository'))[0] as any;
    const rules = JSON.parse(repo.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules).toEqual([expect.objectContaining({ selection: expect.objectContaining({ tagStatus: 'untagged', countType: 'sinceImagePushed' }), action: { type: 'expire' } })]);
  });
  test('no KMS permission on key/*: the sync task decrypts only a named source bucket key', () => {
    const kmsResources = allStatements(t).filter((s: any) => JSON.stringify(s.Action).includes('kms:')).map((s: any) => JSON.stringify(s.Resource));
    expect(kmsResources.filter((r) => r.includes(':key/*'))).toEqual([]);
    const s = testStack();
    const key = new (require('aws-cdk-lib/aws-kms').Key)(s, 'SourceKey');
    const rec = s3.Bucket.fromBucketAttributes(s, 'Rec', { bucketName: referencePlan.datasets.find((d) => d.kind === 's3Bucket')!.bucketName, encryptionKey: key } as never);
    const site = new PrimarySite(s, 'Primary', { plan: referencePlan, sources: { recordings: rec } });
    const role = s.getLogicalId(site.pipeline.node.findChild('SyncObjectsTask').node.findChild('TaskRole').node.defaultChild as never);
    const statements = Object.values(Template.fromStack(s).findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles[0].Ref === role).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    // The source bucket's own key, and the export bucket's key (to read back its own mirror), both only through S3.
    const decrypt = statements.filter((x: any) => x.Action === 'kms:Decrypt');
    expect(decrypt.map((x: any) => x.Resource)).toEqual([
      { 'Fn::GetAtt': [s.getLogicalId(key.node.defaultChild), 'Arn'] },
      { 'Fn::GetAtt': [s.getLogicalId(site.exportKey.node.defaultChild as never), 'Arn'] },
    ]);
    for (const d of decrypt) expect(d.Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } });
  });
  test('ecs:StopTask / DescribeTasks only on the export cluster\'s tasks, with the ecs:cluster condition', () => {
    const st = allStatements(t).filter((s: any) => JSON.stringify(s.Action).includes('ecs:StopTask'));
    expect(st).toHaveLength(1);
    expect(st[0].Resource).not.toBe('*');
    expect(st[0].Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [lid(stack.site.pipeline.cluster!), 'Arn'] } } });
  });
});

describe('issue 11 (AWS): every failure alerts', () => {
  test('EventBridge rules on AWS Backup backup and copy job state changes FAILED, ABORTED, EXPIRED notify the alarm topic', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.backup'], 'detail-type': ['Backup Job State Change'],
        detail: { state: [...FAILED_BACKUP_JOB_STATES], backupVaultName: [naming.backupVaultName(referencePlan)] },
      },
      Targets: [{ Arn: topicRef, Id: 'Target0' }],
    });
    // Copy job events name source and destination vault ARNs, not a vault name: no vault filter, so none is missed.
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.backup'], 'detail-type': ['Copy Job State Change'], detail: { state: [...FAILED_BACKUP_JOB_STATES] } },
      Targets: [{ Arn: topicRef, Id: 'Target0' }],
    });
    expect([...FAILED_BACKUP_JOB_STATES]).toEqual(['FAILED', 'ABORTED', 'EXPIRED']);
  });
  test('each dataset branch catches its own failure, so the others still export; the manifest gets the statuses; the night then fails', () => {
    const def = nightly();
    const states = statesOf(def);
    const exportsState = states['Export datasets'];
    expect(exportsState.Branches).toHaveLength(referencePlan.datasets.length);
    for (const [i, branch] of exportsState.Branches.entries()) {
      const name = referencePlan.datasets[i].name;
      const wrapper = branch.States[branch.StartAt];
      expect(wrapper.Type).toBe('Parallel');
      expect(wrapper.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${name} failed` }]);
      expect(branch.States[`${name} failed`]).toMatchObject({ Type: 'Pass', Parameters: { dataset: name, status: 'failed', 'error.$': '$.error' } });
      expect(wrapper.ResultSelector).toEqual({ dataset: name, status: 'exported', error: '' });
    }
    // The manifest step gets dataset -> error, which build-manifest reads as `failures` (a falsy one is none).
    const failures = states['Write manifest'].Parameters.failures;
    expect(failures).toEqual(Object.fromEntries(referencePlan.datasets.map((d, i) => [`${d.name}.$`, `$.datasets[${i}].error`])));
    const verdict = states['All datasets exported?'];
    expect(verdict.Choices[0]).toMatchObject({ Variable: '$.summary.anyFailed', BooleanEquals: true });
    expect(states[verdict.Choices[0].Next]).toMatchObject({ Type: 'Fail', Error: 'DatasetExportFailed' });
    expect(states['Write manifest'].Next).toBe('All datasets exported?');
  });
});

test('contract with build-manifest: what the branches return, through the failures paths, marks exactly the failed dataset', () => {
  const states = statesOf(nightly());
  const branchOutput = (name: string, failed: boolean) => (failed
    ? { dataset: name, status: 'failed', error: { Error: 'States.TaskFailed', Cause: 'exit code 2' } } // what "<name> failed" Pass builds
    : states[`Dataset ${name}`].ResultSelector);
  const names = referencePlan.datasets.map((d) => d.name);
  const datasets = names.map((n, i) => branchOutput(n, i === 1));
  // Resolve each "<name>.$": "$.datasets[i].error" path as Step Functions would.
  const resolved = Object.fromEntries(Object.entries<string>(states['Write manifest'].Parameters.failures).map(([k, path]) => {
    const i = Number(/\[(\d+)\]/.exec(path)![1]);
    const value = (datasets[i] as any).error;
    // Step Functions fails the state on a path that does not exist: so must this simulation.
    if (value === undefined) throw new Error(`States.Runtime: $.datasets[${i}].error does not exist`);
    return [k.replace(/\.\$$/, ''), value];
  }));
  const marked = Object.entries(resolved).filter(([, f]) => Boolean(f)).map(([n, f]) => [n, failureReason(f as never)]);
  expect(marked).toEqual([[names[1], 'States.TaskFailed: exit code 2']]);
});

describe('issue 12 (AWS): mirror identities pull images only; an existing OIDC provider; the newest Node runtime', () => {
  const azurePlan = plan({ counterparties: { ...referencePlan.counterparties, azure: { ...referencePlan.counterparties.azure!, mirrorIdentityPrincipalId: '12345678-1234-1234-1234-123456789abc' } } });
  const s = new ContactCentrePrimaryStack(testApp(), 'Mirrors', { plan: azurePlan });
  const m = Template.fromStack(s);
  const roleNamed = (name: string) => Object.entries(m.findResources('AWS::IAM::Role')).find(([, r]: any) => r.Properties.RoleName === name)!;
  const statementsOf = (id: string) => Object.values(m.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles[0].Ref === id).flatMap((p: any) => p.Properties.PolicyDocument.Statement);

  test.each([
    ['gcp', naming.imageMirrorRoleName(referencePlan, 'gcp')],
    ['azure', naming.azureMirrorRoleName(referencePlan)],
  ])('%s mirror role: ECR pull on the jobs and application repositories, nothing else; at the ARN the counterparty assumes', (_which, name) => {
    const [id, role] = roleNamed(name) as [string, any];
    // naming.roleArn(plan, name) is what the counterparty's mirror job assumes: same path and name.
    expect(`arn:aws:iam::${referencePlan.primary.account}:role${role.Properties.Path}${role.Properties.RoleName}`).toBe(naming.roleArn(referencePlan, name));
    const statements = statementsOf(id);
    expect(statements.flatMap((x: any) => [x.Action].flat()).sort()).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer']);
    expect(statements.find((x: any) => JSON.stringify(x.Action).includes('BatchGetImage')).Resource).toHaveLength(2);
  });
  test('the GCP mirror role trusts exactly the mirror service account (naming.gcpImageMirrorTrustConditions)', () => {
    const [, r] = roleNamed(naming.imageMirrorRoleName(referencePlan, 'gcp')) as any;
    const subject = (referencePlan.counterparties.gcp as { imageMirrorSubjectId?: string }).imageMirrorSubjectId!;
    expect(r.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRoleWithWebIdentity', Effect: 'Allow', Principal: { Federated: 'accounts.google.com' },
      Condition: { StringEquals: naming.gcpImageMirrorTrustConditions(referencePlan, subject) },
    }]);
  });
  test('the Azure mirror role trusts the tenant provider for the mirror identity only', () => {
    const [, r] = roleNamed(naming.azureMirrorRoleName(referencePlan)) as any;
    const host = naming.azureOidcIssuerHost(referencePlan.counterparties.azure!.tenantId);
    expect(r.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { [`${host}:aud`]: naming.azureFederationAudience(referencePlan), [`${host}:sub`]: '12345678-1234-1234-1234-123456789abc' },
    });
  });
  test('PrimarySite accepts an existing OIDC provider (one per issuer per account): none is created, the roles trust it', () => {
    const st = testStack();
    const arn = `arn:aws:iam::111122223333:oidc-provider/${naming.azureOidcIssuerHost(referencePlan.counterparties.azure!.tenantId)}`;
    new PrimarySite(st, 'Primary', { plan: azurePlan, azureOidcProvider: iam.OidcProviderNative.fromOidcProviderArn(st, 'Existing', arn) });
    const tpl = Template.fromStack(st);
    expect(Object.keys(tpl.findResources('AWS::IAM::OIDCProvider'))).toHaveLength(0);
    const federated = Object.values(tpl.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal?.Federated).filter((f) => f === arn);
    expect(federated).toHaveLength(2); // the Azure reader and the Azure mirror
  });
  test('every Lambda function runs on the newest Node.js runtime aws-cdk-lib offers', () => {
    const newest = Math.max(...Object.keys(lambda.Runtime).map((k) => /^NODEJS_(\d+)_X$/.exec(k)?.[1]).filter(Boolean).map(Number));
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as any[];
    expect(fns.length).toBeGreaterThan(0);
    for (const f of fns) expect(f.Properties.Runtime).toBe(`nodejs${newest}.x`);
  });
});

test('the stack is still one deployable unit (sanity: no custom-resource Lambda was added by the hardening)', () => {
  expect(Object.keys(t.findResources('AWS::Lambda::Function'))).toHaveLength(2); // build-manifest, connect-export
  expect(Stack.of(stack.site)).toBe(stack);
});

describe('the new constructs work alone, with the user\'s constructs as inputs, and explain bad props', () => {
  test('NightlyExportPipeline with an imported export bucket: the staging bucket is still private, TLS-only and under the export key', () => {
    const s = testStack();
    const exportBucket = ImmutableExportBucket.fromExportBucketAttributes(s, 'Exports', { bucketName: 'b-exports', encryptionKeyArn: 'arn:aws:kms:eu-central-1:111122223333:key/abc' });
    const pipeline = new NightlyExportPipeline(s, 'Nightly', {
      exportBucket, datasets: [{ kind: 'dynamoDbTable', name: 'calls', tableName: 'calls' }], scheduleExpression: 'cron(0 2 * * ? *)',
      jobsImage: { repository: { repositoryArn: 'x' } as never, tag: '1' },
    });
    const bucket = Template.fromStack(s).toJSON().Resources[s.getLogicalId(pipeline.stagingBucket!.node.defaultChild as never)];
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID).toBe('arn:aws:kms:eu-central-1:111122223333:key/abc');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });
  test('TamperAlarm and BackupJobAlarm with the user\'s own topic and bucket', () => {
    const s = testStack();
    const topic = new (require('aws-cdk-lib/aws-sns').Topic)(s, 'MyTopic');
    const key = new (require('aws-cdk-lib/aws-kms').Key)(s, 'MyKey');
    new TamperAlarm(s, 'Tamper', { topic, keys: [key], objectDeletionBucketNames: ['my-bucket'], backupPlanIds: ['plan-1'] });
    new BackupJobAlarm(s, 'Jobs', { topic });
    const tpl = Template.fromStack(s);
    tpl.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'detail-type': ['Object Deleted'], detail: { bucket: { name: ['my-bucket'] }, reason: ['DeleteObject'] } } });
    tpl.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { eventName: ['DeleteBackupPlan', 'UpdateBackupPlan', 'DeleteBackupSelection'], requestParameters: { backupPlanId: ['plan-1'] } } } });
    // Without vault names, jobs into any vault of the account alarm.
    tpl.hasResourceProperties('AWS::Events::Rule', { EventPattern: { source: ['aws.backup'], detail: { state: ['FAILED', 'ABORTED', 'EXPIRED'] } } });
  });
  test('image-mirror roles: bad props name the path, the prop, the value and the fix', () => {
    const s = testStack();
    const repo = { repositoryArn: 'arn:aws:ecr:eu-central-1:111122223333:repository/x' } as never;
    expect(() => new GcpImageMirrorRole(s, 'G', { repositories: [repo], mirrorSubjectId: 'mirror@x', tokenAudience: 'aud' }))
      .toThrow(/^Test\/G: mirrorSubjectId is "mirror@x"; .*Fix: copy the GCP stack output image_mirror_subject_id/);
    expect(() => new GcpImageMirrorRole(s, 'G2', { repositories: [], mirrorSubjectId: '104857600000000000001', tokenAudience: 'aud' }))
      .toThrow(/^Test\/G2: repositories is empty\. Fix: /);
    const provider = iam.OidcProviderNative.fromOidcProviderArn(s, 'P', 'arn:aws:iam::111122223333:oidc-provider/x');
    expect(() => new AzureImageMirrorRole(s, 'A', { repositories: [repo], oidcProvider: provider, tenantId: referencePlan.counterparties.azure!.tenantId, principalId: 'nope', audience: 'api://x' }))
      .toThrow(/^Test\/A: principalId is "nope"; it must be a UUID\. Fix: /);
  });
  test('InitialSeed: a timeout beyond a Standard state machine\'s year is refused', () => {
    const s = testStack();
    const exportBucket = new ImmutableExportBucket(s, 'Exports', { retention: Duration.days(7) });
    expect(() => new InitialSeed(s, 'Seed', { exportBucket, datasets: [{ kind: 's3Bucket', name: 'rec', bucketName: 'rec' }], timeout: Duration.days(400) }))
      .toThrow(/^Test\/Seed: timeout is 400 days; .*Fix: /);
  });
});

test('managementEventsTrail: the trail\'s own cdk-nag findings are fixed or acknowledged inside PrimarySite', () => {
  const { AwsSolutionsChecks, NIST80053R5Checks } = require('cdk-nag');
  const s = testStack();
  new PrimarySite(s, 'Primary', { plan: referencePlan, managementEventsTrail: true });
  const found: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    for (const v of pack.validateScope(s).violations) for (const r of v.violatingResources) found.push(`${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`);
  }
  expect(found.filter((f) => f.includes('/Primary/'))).toEqual([]);
  const bucket = Object.values(Template.fromStack(s).findResources('AWS::S3::Bucket')).find((b: any) => JSON.stringify(b).includes('management-events-trail/')) as any;
  expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
});
