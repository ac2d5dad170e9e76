import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  FreshnessAlarms, GcpReaderRole, AzureReaderRole, ImmutableExportBucket, LockedBackupVault, NativeSnapshotPlan, NightlyExportPipeline, PrimarySite, ProtectedKey,
} from '../../lib/aws';
import { referencePlan } from '../../stacks/reference-plan';
import { testStack } from './helpers';

describe('construct validation errors name the path, the prop, the value and the fix', () => {
  test('ImmutableExportBucket: retention out of range', () => {
    expect(() => new ImmutableExportBucket(testStack(), 'Exports', { retention: Duration.days(0) }))
      .toThrow(/^Test\/Exports: retention is 0 days; .*1 to 36500.*Fix: /);
  });
  test('ImmutableExportBucket: invalid bucket name', () => {
    expect(() => new ImmutableExportBucket(testStack(), 'Exports', { retention: Duration.days(7), bucketName: 'Bad_Name' }))
      .toThrow(/Test\/Exports: bucketName: S3 bucket name "Bad_Name" is not valid.*Fix: /);
  });
  test('LockedBackupVault: changeableFor in governance mode would silently make it compliance', () => {
    expect(() => new LockedBackupVault(testStack(), 'Vault', { minRetention: Duration.days(7), changeableFor: Duration.hours(72) }))
      .toThrow(/Test\/Vault: changeableFor is 72 hours in governance mode.*irreversible.*Fix: remove changeableFor/);
  });
  test('LockedBackupVault: compliance grace under 72 h', () => {
    expect(() => new LockedBackupVault(testStack(), 'Vault', { minRetention: Duration.days(7), mode: 'compliance', changeableFor: Duration.hours(24) }))
      .toThrow(/Test\/Vault: changeableFor is 24 hours; .*at least 72 hours.*Fix: /);
  });
  test('ProtectedKey: pending window', () => {
    expect(() => new ProtectedKey(testStack(), 'Key', { pendingWindow: Duration.days(3) })).toThrow(/Test\/Key: pendingWindow is 3 days; KMS accepts 7 to 30.*Fix: /);
  });
  test('FreshnessAlarms: window beyond CloudWatch\'s 7-day evaluation range', () => {
    const stack = testStack();
    const sm = sfn.StateMachine.fromStateMachineName(stack, 'Sm', 'x');
    expect(() => new FreshnessAlarms(stack, 'Alarms', { stateMachine: sm, window: Duration.hours(174) }))
      .toThrow(/Test\/Alarms: window is 174 hours; it must be 1 to 168.*604800.*Fix: lower rpoHours \+ alarmGraceHours/);
  });
  test('GcpReaderRole: subject ID not numeric', () => {
    const stack = testStack();
    const exportBucket = ImmutableExportBucket.fromExportBucketAttributes(stack, 'Imported', { bucketName: 'b-exports', encryptionKeyArn: 'arn:aws:kms:eu-central-1:111122223333:key/abc' });
    expect(() => new GcpReaderRole(stack, 'Gcp', { exportBucket, storageTransferSubjectId: 'service-123@gcp' }))
      .toThrow(/Test\/Gcp: storageTransferSubjectId is "service-123@gcp"; .*Fix: copy the GCP stack output storage_transfer_subject_id/);
  });
  test('AzureReaderRole: principal not a UUID', () => {
    const stack = testStack();
    const exportBucket = ImmutableExportBucket.fromExportBucketAttributes(stack, 'Imported', { bucketName: 'b-exports', encryptionKeyArn: 'arn:aws:kms:eu-central-1:111122223333:key/abc' });
    expect(() => new AzureReaderRole(stack, 'Az', { exportBucket, tenantId: referencePlan.counterparties.azure!.tenantId, principalId: 'nope' }))
      .toThrow(/Test\/Az: principalId is "nope"; it must be a UUID\. Fix: /);
  });
  test('NativeSnapshotPlan: rate() is not a cron', () => {
    const stack = testStack();
    const vault = new LockedBackupVault(stack, 'Vault', { minRetention: Duration.days(7) });
    expect(() => new NativeSnapshotPlan(stack, 'Plan', { vault: vault.vault, scheduleExpression: 'rate(1 day)', retention: Duration.days(7), resources: [{ type: 's3-bucket', arn: 'arn:aws:s3:::b' }] }))
      .toThrow(/Test\/Plan: scheduleExpression is "rate\(1 day\)"; AWS Backup rules take a cron expression only\. Fix: /);
  });
  test('NightlyExportPipeline: s3 datasets without any network', () => {
    const stack = testStack();
    const exportBucket = new ImmutableExportBucket(stack, 'Exports', { retention: Duration.days(7) });
    expect(() => new NightlyExportPipeline(stack, 'Nightly', {
      exportBucket, datasets: [{ kind: 's3Bucket', name: 'recordings', bucketName: 'rec-bucket' }], scheduleExpression: 'cron(0 2 * * ? *)',
      jobsImage: { repository: { repositoryArn: 'x' } as never, tag: '1' },
    })).toThrow(/Test\/Nightly: jobsNetwork is not set .*Fix: pass jobsNetwork/);
  });
  test('PrimarySite: a dynamodb.Table source with PITR off is refused', () => {
    const stack = testStack();
    const table = new dynamodb.Table(stack, 'ContactRecords', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, tableName: 'acme-cc-contact-records', removalPolicy: RemovalPolicy.RETAIN });
    expect(() => new PrimarySite(stack, 'Primary', { plan: referencePlan, sources: { 'contact-records': table } }))
      .toThrow(/Test\/Primary: sources\.contact-records is the table Test\/ContactRecords, whose point-in-time recovery is off.*Fix: .*pointInTimeRecoveryEnabled: true/);
  });
  test('PrimarySite: more datasets than one deployable stack holds is refused at synth time', () => {
    const many = Array.from({ length: 151 }, (_, i) => ({ kind: 'dynamoDbTable' as const, name: `table-${i}`, tableName: `acme-cc-table-${i}` }));
    const big = { ...referencePlan, datasets: [...referencePlan.datasets, ...many] };
    expect(() => new PrimarySite(testStack(), 'Primary', { plan: big }))
      .toThrow(/Test\/Primary: plan\.datasets has 155 datasets; one primary stack holds at most 150 .*1 MB.*Fix: split the plan/);
    expect(() => new PrimarySite(testStack(), 'Primary', { plan: { ...referencePlan, datasets: [...referencePlan.datasets, ...many.slice(0, 146)] } })).not.toThrow();
  });
  test('PrimarySite: a source naming no dataset is refused', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Other');
    expect(() => new PrimarySite(stack, 'Primary', { plan: referencePlan, sources: { transcripts: bucket } }))
      .toThrow(/Test\/Primary: sources\.transcripts names no dataset of the plan\. Fix: use one of: recordings, contact-records, crm, connect/);
  });
});

describe('constructs used alone, and sources by construct', () => {
  test('a PITR-on Table source is selected by its own ARN (GetAtt), not a plan-built ARN', () => {
    const stack = testStack();
    const table = new dynamodb.Table(stack, 'ContactRecords', {
      tableName: 'acme-cc-contact-records', // the plan's name: a source must match it
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    new PrimarySite(stack, 'Primary', { plan: referencePlan, sources: { 'contact-records': table } });
    const sel = Object.values(Template.fromStack(stack).findResources('AWS::Backup::BackupSelection'))[0] as any;
    expect(sel.Properties.BackupSelection.Resources).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [stack.getLogicalId(table.node.defaultChild as never), 'Arn'] }]));
  });
  test('ImmutableExportBucket alone: governance default, grantCounterpartyRead is read-only', () => {
    const stack = testStack();
    const b = new ImmutableExportBucket(stack, 'Exports', { retention: Duration.days(10) });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    b.grantCounterpartyRead(role);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::S3::Bucket', { ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 10 } } } });
    const actions = (Object.values(t.findResources('AWS::IAM::Policy'))[0] as any).Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
    expect(actions.filter((a: string) => /Put|Delete|Write|Restore|\*/.test(a))).toEqual([]);
  });
});
