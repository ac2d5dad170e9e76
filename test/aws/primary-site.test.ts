import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { naming, awsScheduleExpression } from '../../lib/core';
import { CONNECT_READ_ACTIONS } from '../../lib/runtime/exporters/connect';
import { ContactCentrePrimaryStack } from '../../stacks/primary-stack';
import { referencePlan } from '../../stacks/reference-plan';
import { plan, testApp } from './helpers';

const stack = new ContactCentrePrimaryStack(testApp(), 'Ref', { plan: referencePlan });
const t = Template.fromStack(stack);
const exportBucketName = naming.exportBucketName(referencePlan);
const bucketLogicalId = stack.getLogicalId(stack.site.exportBucket.bucket.node.defaultChild as never);
const exportKeyLogicalId = stack.getLogicalId(stack.site.exportKey.node.defaultChild as never);

function resourceOfType(type: string, pred: (r: any) => boolean = () => true): any {
  const found = Object.values(t.findResources(type)).filter(pred);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('reference primary: immutable export bucket', () => {
  const bucket = () => resourceOfType('AWS::S3::Bucket', (r) => r.Properties.BucketName === exportBucketName);

  test('Object Lock governance with the plan retention as default retention', () => {
    expect(bucket().Properties.ObjectLockEnabled).toBe(true);
    expect(bucket().Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: referencePlan.retentionDays } },
    });
  });
  test('versioning on', () => expect(bucket().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' }));
  test('SSE-KMS with the customer key', () => {
    expect(bucket().Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [exportKeyLogicalId, 'Arn'] },
    });
  });
  test('the key rotates, has the contract alias, and denies deletion to all but the break-glass root', () => {
    const key = t.findResources('AWS::KMS::Key')[exportKeyLogicalId];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: naming.exportKeyAlias(referencePlan), TargetKeyId: { 'Fn::GetAtt': [exportKeyLogicalId, 'Arn'] } });
    const deny = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'DenyKeyDestruction');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'] });
    expect(JSON.stringify(deny.Condition.ArnNotEquals['aws:PrincipalArn'])).toContain(':iam::111122223333:root');
  });
  test('block public access, all four', () => {
    expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
  });
  test('TLS-only bucket policy', () => {
    const policy = resourceOfType('AWS::S3::BucketPolicy', (r) => JSON.stringify(r.Properties.Bucket).includes(bucketLogicalId));
    expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]));
  });
  test('lifecycle: noncurrent versions expire after the retention, nights after retention + the checkpoint margin, blobs never', () => {
    const rules = bucket().Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 35 }, Status: 'Enabled' }),
      // Format v2: a night's index may rest on a checkpoint up to 6 nights older (docs/runtime.md "Retention note").
      expect.objectContaining({ Prefix: naming.NIGHTS_PREFIX, ExpirationInDays: 35 + naming.NIGHTS_EXPIRY_EXTRA_DAYS }),
    ]));
    expect(naming.NIGHTS_EXPIRY_EXTRA_DAYS).toBeGreaterThanOrEqual(7);
    expect(rules.find((r: any) => r.Prefix === naming.OBJECTS_PREFIX)).toBeUndefined();
    expect(rules.find((r: any) => r.Prefix === naming.BLOBS_PREFIX)).toBeUndefined();
  });
  test('server access logs go to the separate log bucket', () => {
    const logBucket = resourceOfType('AWS::S3::Bucket', (r) => r.Properties.BucketName === naming.accessLogBucketName(referencePlan));
    expect(logBucket.Properties.ObjectLockEnabled).toBeUndefined();
    const logId = Object.entries(t.findResources('AWS::S3::Bucket')).find(([, r]) => r === logBucket || (r as any).Properties.BucketName === naming.accessLogBucketName(referencePlan))![0];
    expect(bucket().Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logId });
  });
});

describe('reference primary: RETAIN on every stateful resource', () => {
  test.each(['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Backup::BackupVault', 'AWS::Logs::LogGroup', 'AWS::ECR::Repository'])('%s', (type) => {
    const all = t.findResources(type);
    expect(Object.keys(all).length).toBeGreaterThan(0);
    for (const [id, r] of Object.entries(all)) {
      expect({ id, DeletionPolicy: r.DeletionPolicy, UpdateReplacePolicy: r.UpdateReplacePolicy }).toEqual({ id, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });
});

describe('reference primary: native snapshots', () => {
  test('vault name, own key, governance lock (no ChangeableForDays) with min retention = plan retention', () => {
    const vault = resourceOfType('AWS::Backup::BackupVault');
    expect(vault.Properties.BackupVaultName).toBe(naming.backupVaultName(referencePlan));
    expect(vault.Properties.LockConfiguration).toEqual({ MinRetentionDays: 35 });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: naming.backupVaultKeyAlias(referencePlan) });
    expect(vault.Properties.EncryptionKeyArn).not.toEqual({ 'Fn::GetAtt': [exportKeyLogicalId, 'Arn'] });
  });
  test('nightly rule: plan cron and time zone, retention', () => {
    const p = resourceOfType('AWS::Backup::BackupPlan');
    expect(p.Properties.BackupPlan.BackupPlanRule).toEqual([expect.objectContaining({
      ScheduleExpression: awsScheduleExpression(referencePlan), ScheduleExpressionTimezone: 'UTC', Lifecycle: { DeleteAfterDays: 35 },
    })]);
  });
  test('selection lists the protected resources by ARN, no tags', () => {
    const sel = resourceOfType('AWS::Backup::BackupSelection').Properties.BackupSelection;
    expect(sel.ListOfTags).toBeUndefined();
    const resources = JSON.stringify(sel.Resources);
    expect(sel.Resources).toHaveLength(3);
    expect(resources).toContain(':s3:::acme-cc-call-recordings-111122223333');
    expect(resources).toContain(':dynamodb:eu-central-1:111122223333:table/acme-cc-contact-records');
    expect(resources).toContain(':rds:eu-central-1:111122223333:cluster:acme-cc-crm');
  });
  test('the Backup role has no AWS-managed policy', () => {
    const role = resourceOfType('AWS::IAM::Role', (r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('backup.amazonaws.com'));
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).not.toContain('iam::aws:policy');
  });
});

describe('reference primary: nightly export', () => {
  const nightly = (r: any) => r.Properties.RoleArn['Fn::GetAtt'][0] === stack.getLogicalId(stack.site.stateMachine.role.node.defaultChild as never);
  test('one nightly state machine, started by a Scheduler schedule with the plan cron and time zone, passing the scheduled time', () => {
    resourceOfType('AWS::StepFunctions::StateMachine', nightly);
    const s = resourceOfType('AWS::Scheduler::Schedule', (r) => r.Properties.Target.Arn.Ref === stack.getLogicalId(stack.site.stateMachine.node.defaultChild as never));
    expect(s.Properties.ScheduleExpression).toBe(awsScheduleExpression(referencePlan));
    expect(s.Properties.ScheduleExpressionTimezone).toBe('UTC');
    expect(JSON.parse(s.Properties.Target.Input)).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
  });
  const definition = () => JSON.stringify(resourceOfType('AWS::StepFunctions::StateMachine', nightly).Properties.DefinitionString);
  test('the night is the UTC date of the scheduled time', () => {
    expect(definition()).toContain("States.ArrayGetItem(States.StringSplit($.scheduledTime, 'T'), 0)");
  });
  test('DynamoDB export: SDK integration into the night prefix, DynamoDB JSON, SSE-KMS, polled with DescribeExport', () => {
    const d = definition();
    expect(d).toContain(':states:::aws-sdk:dynamodb:exportTableToPointInTime');
    expect(d).toContain("States.Format('nights/{}/contact-records', $.night)");
    expect(d).toContain('DYNAMODB_JSON');
    expect(d).toContain(':states:::aws-sdk:dynamodb:describeExport');
    expect(d).toMatch(/S3SseAlgorithm\\+":\\+"KMS/);
  });
  test('the manifest step is told each DynamoDB table, and may describe it and write only its key schema', () => {
    expect(definition()).toMatch(/\\"kind\\":\\"dynamoDbTable\\",\\"tableName\\":\\"acme-cc-contact-records\\"/);
    const role = stack.getLogicalId(stack.site.pipeline.buildManifestFunction.role!.node.defaultChild as never);
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const describe = statements.filter((st: any) => JSON.stringify(st.Action).includes('dynamodb:'));
    expect(describe).toEqual([expect.objectContaining({ Action: 'dynamodb:DescribeTable', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':dynamodb:eu-central-1:111122223333:table/acme-cc-contact-records']] } })]);
    const writes = statements.filter((st: any) => JSON.stringify(st.Action).includes('s3:PutObject')).flatMap((st: any) => [st.Resource].flat()).map((r: unknown) => JSON.stringify(r));
    expect(writes.some((r) => r.includes('/nights/*/contact-records/table.json'))).toBe(true);
    expect(writes.some((r) => r.includes('/nights/*/manifest.json'))).toBe(true);
    expect(writes.every((r) => /\/nights\/\*\/(manifest\.json|contact-records\/table\.json)/.test(r))).toBe(true);
  });
  test('S3 and PostgreSQL via ECS RunTask.sync of the jobs image with the contract commands', () => {
    const d = definition();
    expect(d.match(/:states:::ecs:runTask\.sync/g)).toHaveLength(2);
    expect(d).toContain('sync-objects');
    expect(d).toContain('export-postgres');
    expect(d).toContain('subnet-0a1b2c3d4e5f60001');
    expect(d).toContain('sg-0a1b2c3d4e5f60003');
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ ReadonlyRootFilesystem: true, Image: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':0.1.0'])]) }) })],
    });
  });
  test('jobs repository: contract name, immutable tags, scan on push, KMS', () => {
    const repo = resourceOfType('AWS::ECR::Repository');
    expect(repo.Properties).toMatchObject({
      RepositoryName: naming.imageRepository(referencePlan.images!.jobs!),
      ImageTagMutability: 'IMMUTABLE', ImageScanningConfiguration: { ScanOnPush: true }, EncryptionConfiguration: { EncryptionType: 'KMS' },
    });
  });
  test('Connect export function: exactly the crawler\'s read actions, one by one, on that instance (phone numbers on phone-number/*)', () => {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).map((p: any) => p.Properties.PolicyDocument.Statement).flat();
    const connect = policies.filter((s: any) => JSON.stringify(s.Action).includes('connect:'));
    expect(connect).toHaveLength(2);
    expect(connect.flatMap((s: any) => [s.Action].flat()).sort()).toEqual([...CONNECT_READ_ACTIONS].sort());
    expect(JSON.stringify(connect[0].Resource)).toContain('instance/9f2c1a3e-5b7d-4c1e-8a2b-0d3f4e5a6b7c');
    expect(connect[1]).toMatchObject({ Action: 'connect:DescribePhoneNumber' });
    expect(JSON.stringify(connect[1].Resource)).toContain(':connect:eu-central-1:111122223333:phone-number/*');
  });
});

describe('reference primary: counterparty readers', () => {
  const role = (name: string) => resourceOfType('AWS::IAM::Role', (r) => r.Properties.RoleName === name);
  const policyOf = (name: string) => {
    const id = Object.entries(t.findResources('AWS::IAM::Role')).find(([, r]) => (r as any).Properties.RoleName === name)![0];
    return resourceOfType('AWS::IAM::Policy', (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: id }])).Properties.PolicyDocument.Statement;
  };
  test('GCP: trusted by accounts.google.com for the transfer subject only', () => {
    const r = role(naming.gcpReaderRoleName(referencePlan));
    expect(r.Properties.Path).toBe(naming.READER_ROLE_PATH);
    expect(r.Properties.MaxSessionDuration).toBe(3600);
    expect(r.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRoleWithWebIdentity', Effect: 'Allow', Principal: { Federated: 'accounts.google.com' },
      Condition: { StringEquals: { 'accounts.google.com:sub': referencePlan.counterparties.gcp!.storageTransferSubjectId } },
    }]);
  });
  test('Azure: OIDC provider for the tenant issuer, role conditioned on aud and sub', () => {
    const az = referencePlan.counterparties.azure!;
    const host = naming.azureOidcIssuerHost(az.tenantId);
    const provider = resourceOfType('AWS::IAM::OIDCProvider');
    expect(provider.Properties).toMatchObject({ Url: naming.azureOidcIssuer(az.tenantId), ClientIdList: [naming.azureFederationAudience(referencePlan)] });
    expect(Object.keys(t.findResources('Custom::AWSCDKOpenIdConnectProvider'))).toHaveLength(0);
    const stmt = role(naming.azureReaderRoleName(referencePlan)).Properties.AssumeRolePolicyDocument.Statement[0];
    expect(stmt.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(stmt.Condition).toEqual({ StringEquals: { [`${host}:aud`]: naming.azureFederationAudience(referencePlan), [`${host}:sub`]: az.copyIdentityPrincipalId } });
  });
  test.each([['gcp'], ['azure']])('%s reader: read-only, export bucket only, kms:Decrypt via S3 only, no image pull (the mirror roles pull)', (which) => {
    const statements = policyOf(which === 'gcp' ? naming.gcpReaderRoleName(referencePlan) : naming.azureReaderRoleName(referencePlan));
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions.sort()).toEqual([
      'kms:Decrypt', 's3:GetBucketLocation', 's3:GetObject', 's3:GetObjectAttributes', 's3:GetObjectTagging', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListBucketVersions',
    ]);
    expect(statements.every((s: any) => s.Effect === 'Allow')).toBe(true);
    for (const s of statements.filter((x: any) => JSON.stringify(x.Action).includes('s3:'))) {
      expect(JSON.stringify(s.Resource)).toContain(bucketLogicalId);
    }
    const kms = statements.find((s: any) => s.Action === 'kms:Decrypt');
    expect(kms.Resource).toEqual({ 'Fn::GetAtt': [exportKeyLogicalId, 'Arn'] });
    expect(kms.Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } });
  });
  test('CfnOutputs carry the cross-engine values', () => {
    const outputs = Object.keys(t.findOutputs('*')).join(' ');
    for (const o of ['ExportBucketName', 'GcpReaderRoleArn', 'AzureReaderRoleArn', 'AzureOidcProviderArn']) expect(outputs).toContain(o);
  });
});

describe('reference primary: freshness alarms', () => {
  test('no success within RPO + grace: hourly Sum of ExecutionsSucceeded, 30 of 30 periods, missing = breaching', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsSucceeded', Namespace: 'AWS/States', Statistic: 'Sum', Period: 3600,
      EvaluationPeriods: 30, DatapointsToAlarm: 30, Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
    });
  });
  test('failed/timed-out/aborted executions alarm', () => {
    const a = resourceOfType('AWS::CloudWatch::Alarm', (r) => r.Properties.Metrics !== undefined && /nightly export/.test(r.Properties.AlarmDescription));
    const names = JSON.stringify(a.Properties.Metrics);
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) expect(names).toContain(m);
    expect(a.Properties.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
  });
  test('both alarms notify a KMS-encrypted, TLS-only topic with the plan e-mails', () => {
    const topic = resourceOfType('AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) expect((a as any).Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@acme.example' });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });
});

test('snapshot of the reference template (paired with the assertions above)', () => {
  // Lambda asset hashes depend on the checkout's files when bundling is skipped (as in tests), so they
  // are masked: the snapshot pins the template, not the working tree.
  const template = JSON.parse(JSON.stringify(t.toJSON()).replace(/"[0-9a-f]{64}\.zip"/g, '"<asset>.zip"'));
  expect(template).toMatchSnapshot();
});

describe('reference primary: tamper detection', () => {
  const rules = () => Object.values(t.findResources('AWS::Events::Rule')) as any[];
  const topicRef = () => ({ Ref: stack.getLogicalId(stack.site.alarmTopic.node.defaultChild as never) });
  const byService = (source: string) => {
    const found = rules().filter((r) => JSON.stringify(r.Properties.EventPattern.source) === JSON.stringify([source]) && /Lock|lock/.test(r.Properties.Description ?? '') || (source === 'aws.kms' && JSON.stringify(r.Properties.EventPattern.source) === '["aws.kms"]'));
    expect(found).toHaveLength(1);
    return found[0].Properties;
  };
  const keyArn = (key: any) => ({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as never), 'Arn'] });

  test('deleting, disabling or re-policying the export, vault or operations key alarms on the alarm topic', () => {
    const r = byService('aws.kms');
    expect(r.EventPattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
    expect(r.EventPattern.detail.eventName).toEqual(['ScheduleKeyDeletion', 'DisableKey', 'PutKeyPolicy']);
    expect(r.EventPattern.detail.resources.ARN).toEqual([keyArn(stack.site.exportKey), keyArn(stack.site.backupVault.encryptionKey), keyArn(stack.site.operationsKey)]);
    expect(r.Targets).toEqual([expect.objectContaining({ Arn: topicRef() })]);
  });

  test('vault lock and export bucket lock/policy changes alarm too, on exactly those resources', () => {
    expect(byService('aws.backup').EventPattern.detail).toMatchObject({ eventName: expect.arrayContaining(['DeleteBackupVaultLockConfiguration']), requestParameters: { backupVaultName: [naming.backupVaultName(referencePlan)] } });
    expect(byService('aws.s3').EventPattern.detail).toMatchObject({ eventName: expect.arrayContaining(['PutObjectLockConfiguration', 'PutBucketPolicy']), requestParameters: { bucketName: [exportBucketName] } });
  });

  test('EventBridge rules of this account may use the topic key (to publish the alarms)', () => {
    const ops = t.findResources('AWS::KMS::Key')[stack.getLogicalId(stack.site.operationsKey.node.defaultChild as never)];
    const st = ops.Properties.KeyPolicy.Statement.find((x: any) => x.Sid === 'AllowEventBridgeToPublishTamperAlarms');
    expect(st).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['kms:GenerateDataKey*', 'kms:Decrypt'] });
    expect(JSON.stringify(st.Condition.ArnLike['aws:SourceArn'])).toContain(':events:eu-central-1:111122223333:rule/*');
  });
});

describe('plan variants', () => {
  test('compliance mode: COMPLIANCE Object Lock, compliance Vault Lock (ChangeableForDays), strict key protection', () => {
    const s = new ContactCentrePrimaryStack(testApp(), 'C', { plan: plan({ immutability: { mode: 'compliance', acknowledgeComplianceIsIrreversible: true, vaultLockChangeableForHours: 96 } }) });
    const c = Template.fromStack(s);
    c.hasResourceProperties('AWS::S3::Bucket', { ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 35 } } } });
    c.hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: { MinRetentionDays: 35, ChangeableForDays: 4 } });
    const keys = Object.values(c.findResources('AWS::KMS::Key')).map((k: any) => k.Properties.KeyPolicy.Statement.find((x: any) => x.Sid === 'DenyKeyDestruction'));
    expect(keys.filter((d) => d && d.Condition === undefined)).toHaveLength(2); // export + vault keys: no exception
  });
  test('compliance without the acknowledgement is refused by plan validation', () => {
    expect(() => new ContactCentrePrimaryStack(testApp(), 'X', { plan: plan({ immutability: { mode: 'compliance' } }) })).toThrow(/acknowledgeComplianceIsIrreversible/);
  });
  test('missing STS subject / Azure principal: no role, a warning with the plan text', () => {
    const s = new ContactCentrePrimaryStack(testApp(), 'M', { plan: plan({ counterparties: {
      gcp: { ...referencePlan.counterparties.gcp!, storageTransferSubjectId: undefined },
      azure: { ...referencePlan.counterparties.azure!, copyIdentityPrincipalId: undefined },
    } }) });
    const m = Template.fromStack(s);
    expect(Object.values(m.findResources('AWS::IAM::Role')).filter((r: any) => [naming.gcpReaderRoleName(referencePlan), naming.azureReaderRoleName(referencePlan)].includes(r.Properties.RoleName))).toHaveLength(0);
    expect(Object.keys(m.findResources('AWS::IAM::OIDCProvider'))).toHaveLength(0);
    const warnings = Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('storageTransferSubjectId'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain('storage_transfer_subject_id');
    expect(Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('copyIdentityPrincipalId'))).toHaveLength(1);
  });
});
