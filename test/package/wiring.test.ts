/**
 * Your constructs in: PrimarySite sources fill in the AWS-only plan fields and
 * are checked against the plan at synth; each construct used alone refuses
 * what would fail at run time. Each "silent wiring gap" of issue 14 has its
 * own test here that fails at synth with a message naming the fix.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GcpReaderRole, ImmutableExportBucket, LockedBackupVault, PrimarySite } from '../../lib/aws';
import { naming, resolvePlan, validatePlan, type ProtectionPlan } from '../../lib/core';
import { counterpartyContractProblems } from '../../lib/testing';
import { referencePlan } from '../../stacks/reference-plan';

function stack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Mine', { env: { account: referencePlan.primary.account, region: referencePlan.primary.region } });
}

/** The reference plan over the user's own constructs: the postgres dataset gives no endpoint, secret or network. */
function userPlan(): ProtectionPlan {
  return {
    ...referencePlan,
    datasets: referencePlan.datasets.map((d) => {
      if (d.kind !== 'postgres') return d;
      const { endpoint: _e, credentialsSecretArn: _c, network: _n, ...rest } = d;
      return rest;
    }),
  };
}

function userConstructs(s: Stack, changes: { tableName?: string; pitr?: boolean; versioned?: boolean } = {}) {
  const plan = userPlan();
  const ds = (kind: string) => plan.datasets.find((d) => d.kind === kind)! as never as Record<string, string>;
  const bucket = new s3.Bucket(s, 'Recordings', { bucketName: ds('s3Bucket').bucketName, versioned: changes.versioned ?? true });
  const table = new dynamodb.TableV2(s, 'ContactRecords', {
    tableName: changes.tableName ?? ds('dynamoDbTable').tableName,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: changes.pitr ?? true },
  });
  const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2 });
  const secret = new secretsmanager.Secret(s, 'CrmReader');
  const cluster = new rds.DatabaseCluster(s, 'Crm', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
    writer: rds.ClusterInstance.serverlessV2('writer'),
    vpc,
  });
  const sources = { recordings: bucket, 'contact-records': table, crm: { database: cluster, credentials: secret, vpc } };
  return { plan, bucket, table, vpc, secret, cluster, sources };
}

describe('your constructs as sources', () => {
  test('a bucket, a TableV2, an Aurora cluster, its VPC and secret (all tokens) fill in the plan; the dump task uses them', () => {
    const s = stack();
    const u = userConstructs(s);
    const site = new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources });
    const pg = site.plan.datasets.find((d) => d.kind === 'postgres')!;
    expect(pg.kind === 'postgres' && s.resolve(pg.credentialsSecretArn)).toEqual({ Ref: s.getLogicalId(u.secret.node.defaultChild as never) });
    const t = Template.fromStack(s);
    const dump = Object.values(t.findResources('AWS::StepFunctions::StateMachine'))[0] as { Properties: unknown };
    const text = JSON.stringify(dump.Properties);
    expect(text).toContain(s.getLogicalId(u.cluster.node.defaultChild as never)); // PGHOST: the cluster's reader endpoint
    expect(text).toContain(s.getLogicalId(u.vpc.privateSubnets[0]!.node.defaultChild as never)); // the VPC's private subnets
    // The dump task's own security group is let into the database on its port.
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { Description: 'Counterparty pg_dump of dataset crm' });
    // AWS Backup selects the user's constructs by their own ARNs.
    const sel = JSON.stringify(Object.values(t.findResources('AWS::Backup::BackupSelection'))[0]);
    expect(sel).toContain(s.getLogicalId(u.table.node.defaultChild as never));
  });

  test('one plan for both engines: the counterparties synthesize from the same token-free plan and agree with the AWS half', () => {
    const s = stack();
    const u = userConstructs(s);
    new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources });
    expect(counterpartyContractProblems({ plan: u.plan, awsStack: s })).toEqual([]);
  });

  test('cdk-nag reports nothing from inside the site in a user stack (it acknowledges its own findings)', () => {
    const s = stack();
    const u = userConstructs(s);
    new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources });
    const inside = new AwsSolutionsChecks().validateScope(s).violations
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath}`))
      .filter((f) => f.includes('/Dr/'));
    expect(inside).toEqual([]);
  });

  test('with acknowledgeNagFindings: false the same site has findings (the check is live)', () => {
    const s = stack();
    const u = userConstructs(s);
    new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources, acknowledgeNagFindings: false });
    const inside = new AwsSolutionsChecks().validateScope(s).violations.flatMap((v) => v.violatingResources)
      .filter((r) => ((r as { constructPath?: string }).constructPath ?? '').includes('/Dr/'));
    expect(inside.length).toBeGreaterThan(0);
    expect(Validations.ACKNOWLEDGED_RULES_METADATA_KEY).toBeDefined();
  });

  test('gap 1: a TableV2 source with point-in-time recovery off is refused at synth', () => {
    const s = stack();
    const u = userConstructs(s, { pitr: false });
    expect(() => new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources }))
      .toThrow(/Mine\/Dr: sources\.contact-records is the table Mine\/ContactRecords, whose point-in-time recovery is off.*Fix: create the table with pointInTimeRecoverySpecification/);
  });

  test('gap 2: a plan tableName that differs from the source table is refused at synth', () => {
    const s = stack();
    const u = userConstructs(s, { tableName: 'contacts-v2' });
    expect(() => new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources }))
      .toThrow(/Mine\/Dr: datasets "contact-records"\.tableName is "acme-cc-contact-records", but its source Mine\/ContactRecords is named "contacts-v2".*Fix: /);
  });

  test('an S3 source without versioning is refused (AWS Backup backs up only versioned buckets)', () => {
    const s = stack();
    const u = userConstructs(s, { versioned: false });
    expect(() => new PrimarySite(s, 'Dr', { plan: u.plan, sources: u.sources })).toThrow(/sources\.recordings is the bucket Mine\/Recordings, whose versioning is off.*versioned: true/);
  });

  test('a postgres dataset with neither plan fields nor sources is refused, naming both ways to fix it', () => {
    expect(() => new PrimarySite(stack(), 'Dr', { plan: userPlan() }))
      .toThrow(/Mine\/Dr: datasets\[2\] \("crm"\) has no endpoint, credentialsSecretArn, network.*give them in the plan, or pass sources\.crm: \{ database, credentials, vpc/);
  });
});

describe('tokens in the plan', () => {
  test('the AWS-only fields accept tokens; everything else refuses them and says why', () => {
    const s = stack();
    const u = userConstructs(s);
    const withTokens: ProtectionPlan = {
      ...u.plan,
      datasets: u.plan.datasets.map((d) => (d.kind === 'postgres' ? {
        ...d,
        endpoint: u.cluster.clusterReadEndpoint.hostname,
        credentialsSecretArn: u.secret.secretArn,
        network: { vpcId: u.vpc.vpcId, subnetIds: u.vpc.privateSubnets.map((n) => n.subnetId), securityGroupIds: [new ec2.SecurityGroup(s, 'Sg', { vpc: u.vpc }).securityGroupId] },
      } : d)),
    };
    expect(validatePlan(withTokens).filter((i) => i.severity === 'error')).toEqual([]);
    const crossing: ProtectionPlan = { ...withTokens, datasets: withTokens.datasets.map((d) => (d.kind === 's3Bucket' ? { ...d, bucketName: u.bucket.bucketName } : d)) };
    expect(() => resolvePlan(crossing)).toThrow(/datasets\[0\]\.bucketName.*is an unresolved CDK token\. This field crosses engines.*cdktf/);
    const listToken: ProtectionPlan = { ...withTokens, primary: { ...withTokens.primary, jobsNetwork: { vpcId: u.vpc.vpcId, subnetIds: [s.resolve('x') as string, ...[`#{Token[TOKEN.99]}`]], securityGroupIds: ['sg-0123456789abcdef0'] } } };
    expect(validatePlan(listToken).map((i) => `${i.field}: ${i.problem}`).join('\n')).toMatch(/primary\.jobsNetwork\.subnetIds\[1\]: is a CDK list token/);
  });
});

describe('each construct safe on its own', () => {
  test('gap 3: GcpReaderRole alone without the contract name is refused; forPlan gives the name the GCP half assumes', () => {
    const s = stack();
    const exportBucket = new ImmutableExportBucket(s, 'Exports', { retention: Duration.days(7) });
    expect(() => new GcpReaderRole(s, 'Alone', { exportBucket, storageTransferSubjectId: '12345678901234567890' }))
      .toThrow(/Mine\/Alone: roleName is not set.*the nightly pull would fail at run time\. Fix: create it with GcpReaderRole\.forPlan/);
    const role = GcpReaderRole.forPlan(s, 'Gcp', referencePlan, { exportBucket });
    const props = (s.resolve((role.role.node.defaultChild as never as { roleName: string }).roleName));
    expect(props).toBe(naming.gcpReaderRoleName(referencePlan));
    expect(`arn:aws:iam::${referencePlan.primary.account}:role${naming.READER_ROLE_PATH}${props}`).toBe(naming.gcpReaderRoleArn(referencePlan));
  });

  test('gap 4: ImmutableExportBucket and LockedBackupVault refuse compliance mode without the acknowledgement, like the plan', () => {
    expect(() => new ImmutableExportBucket(stack(), 'Exports', { retention: Duration.days(7), mode: 'compliance' }))
      .toThrow(/Mine\/Exports: mode is "compliance" and acknowledgeComplianceIsIrreversible is not true\..*Fix: set acknowledgeComplianceIsIrreversible: true/);
    expect(() => new LockedBackupVault(stack(), 'Vault', { minRetention: Duration.days(7), mode: 'compliance' }))
      .toThrow(/Mine\/Vault: mode is "compliance" and acknowledgeComplianceIsIrreversible is not true\./);
    expect(() => new ImmutableExportBucket(stack(), 'Exports', { retention: Duration.days(7), mode: 'compliance', acknowledgeComplianceIsIrreversible: true })).not.toThrow();
    expect(() => new LockedBackupVault(stack(), 'Vault', { minRetention: Duration.days(7), mode: 'compliance', acknowledgeComplianceIsIrreversible: true })).not.toThrow();
  });
});
