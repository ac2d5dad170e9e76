/**
 * The user's own constructs as a plan's sources (`PrimarySite` `sources`):
 * they fill in the plan fields only the AWS half reads (a postgres dataset's
 * endpoint, secret and network) and are cross-checked against the plan's
 * fields that cross engines (names), so a mismatch fails at synth, not on
 * night 1.
 */
import { Stack, Token, type CfnResource } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';
import type { Dataset, DynamoDbTableDataset, JobsNetworkPlan, PostgresDataset, ProtectionPlan, S3BucketDataset } from '../core';
import type { DatasetSource } from './nightly-export-pipeline';

/** A database of your app as the source of a `postgres` dataset, with what the dump task needs to reach it. */
export interface PostgresSource {
  /** The Aurora cluster or RDS instance (its ARN is used for AWS Backup, its endpoint by the dump task). */
  readonly database: rds.IDatabaseCluster | rds.IDatabaseInstance;
  /**
   * The secret with `username` and `password` of a read-only user (complete ARN known: a `Secret` of the app, or `Secret.fromSecretCompleteArn`).
   * @default - the plan's `credentialsSecretArn`
   */
  readonly credentials?: secretsmanager.ISecret;
  /**
   * The database's VPC; the dump task runs in it.
   * @default - the plan's `network`
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Which of the VPC's subnets the dump task runs in (they need a route to S3, ECR, CloudWatch Logs and Secrets Manager).
   * @default - the VPC's PRIVATE_WITH_EGRESS subnets
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * The dump task's security groups.
   * @default - a new security group in `vpc`, allowed into the database on its port
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** A source of a dataset: an `s3.IBucket`, a `dynamodb.ITable`, an `rds.IDatabaseCluster` / `rds.IDatabaseInstance`, or a {@link PostgresSource}. */
export type PrimarySiteSource = s3.IBucket | dynamodb.ITable | { readonly clusterIdentifier: string } | { readonly instanceIdentifier: string } | PostgresSource;

/** The plan with the sources' values filled in, and the sources as the pipeline takes them. */
export interface AppliedSources<P> {
  readonly plan: P;
  readonly sources: Readonly<Record<string, DatasetSource>>;
}

const WANT = {
  s3Bucket: 'an s3.IBucket',
  dynamoDbTable: 'a dynamodb.ITable (Table or TableV2)',
  postgres: 'an rds.IDatabaseCluster, an rds.IDatabaseInstance, or { database, credentials, vpc, subnets, securityGroups }',
  connectInstance: 'nothing (Connect instances have no CDK construct source)',
} as const;

/** Checks each source against its dataset and fills the plan's AWS-only fields from it. Throws, naming the construct path, field, value and fix. */
export function applySources<P extends Pick<ProtectionPlan, 'datasets'>>(scope: Construct, plan: P, sources: Readonly<Record<string, PrimarySiteSource>>): AppliedSources<P> {
  const datasets = plan.datasets;
  const out: Record<string, DatasetSource> = {};
  for (const [name, source] of Object.entries(sources)) {
    const ds = datasets.find((d) => d.name === name);
    if (!ds) throw new Error(`${scope.node.path}: sources.${name} names no dataset of the plan. Fix: use one of: ${datasets.map((d) => d.name).join(', ')}.`);
    if (!sourceFits(ds, source)) {
      throw new Error(`${scope.node.path}: sources.${name} is ${describe(source)}, but dataset "${name}" is a ${ds.kind}, which takes ${WANT[ds.kind]}. Fix: pass the right construct or remove the entry.`);
    }
    if (ds.kind === 's3Bucket') checkBucket(scope, ds, source as s3.IBucket);
    if (ds.kind === 'dynamoDbTable') checkTable(scope, ds, source as dynamodb.ITable);
    out[name] = 'database' in source ? source.database : source as DatasetSource;
  }
  const filled = datasets.map((ds, i) => (ds.kind === 'postgres' ? fillPostgres(scope, ds, i, sources[ds.name]) : ds));
  return { plan: { ...plan, datasets: filled }, sources: out };
}

function sourceFits(ds: Dataset, source: PrimarySiteSource): boolean {
  switch (ds.kind) {
    case 's3Bucket': return 'bucketArn' in source;
    case 'dynamoDbTable': return 'tableArn' in source;
    case 'postgres': return 'database' in source || 'clusterIdentifier' in source || 'instanceIdentifier' in source;
    default: return false;
  }
}

function describe(source: unknown): string {
  return (source as IConstruct).node?.path ?? typeof source;
}

// ------------------------------------------------------------------ names and settings of the user's constructs

/** The literal name of a bucket or table: from the attribute when it is literal (imported), else from its CloudFormation resource; undefined when CloudFormation generates it. */
function physicalName(construct: IConstruct, attribute: string, cfnProperty: 'bucketName' | 'tableName'): string | undefined {
  const stack = Stack.of(construct);
  const direct = stack.resolve(attribute);
  if (typeof direct === 'string' && !Token.isUnresolved(direct)) return direct;
  const cfn = construct.node.defaultChild as (CfnResource & Record<string, unknown>) | undefined;
  const name = cfn ? stack.resolve(cfn[cfnProperty]) : undefined;
  return typeof name === 'string' ? name : undefined;
}

function checkName(scope: Construct, field: string, planName: string, source: IConstruct, actual: string | undefined, setting: string): void {
  if (actual === planName) return;
  const found = actual === undefined ? 'has no fixed name (CloudFormation generates one)' : `is named ${JSON.stringify(actual)}`;
  throw new Error(`${scope.node.path}: ${field} is ${JSON.stringify(planName)}, but its source ${source.node.path} ${found}. `
    + 'The name crosses engines (the manifest and the counterparties\' restore use the plan\'s name, the export uses the construct), so they must be the same. '
    + `Fix: create the construct with ${setting}: ${JSON.stringify(planName)}, or set ${field} to its name.`);
}

function checkBucket(scope: Construct, ds: S3BucketDataset, bucket: s3.IBucket): void {
  checkName(scope, `datasets "${ds.name}".bucketName`, ds.bucketName, bucket, physicalName(bucket, bucket.bucketName, 'bucketName'), 'bucketName');
  const cfn = bucket.node.defaultChild as (CfnResource & { versioningConfiguration?: unknown }) | undefined;
  if (!cfn || cfn.cfnResourceType !== 'AWS::S3::Bucket') return; // imported: its settings are not visible at synth
  const versioning = Stack.of(bucket).resolve(cfn.versioningConfiguration) as { status?: string } | undefined;
  if (versioning?.status !== 'Enabled') {
    throw new Error(`${scope.node.path}: sources.${ds.name} is the bucket ${bucket.node.path}, whose versioning is off; AWS Backup backs up only versioned S3 buckets. `
      + 'Fix: create the bucket with versioned: true.');
  }
}

/** Point-in-time recovery as the table's CloudFormation resource declares it (Table: the table; TableV2: every replica); undefined when not visible (imported). */
function pointInTimeRecovery(table: dynamodb.ITable): boolean | undefined {
  type Pitr = { pointInTimeRecoveryEnabled?: unknown } | undefined;
  const cfn = table.node.defaultChild as (CfnResource & { pointInTimeRecoverySpecification?: unknown; replicas?: unknown }) | undefined;
  const stack = Stack.of(table);
  if (cfn?.cfnResourceType === 'AWS::DynamoDB::Table') {
    return (stack.resolve(cfn.pointInTimeRecoverySpecification) as Pitr)?.pointInTimeRecoveryEnabled === true;
  }
  if (cfn?.cfnResourceType === 'AWS::DynamoDB::GlobalTable') {
    const replicas = stack.resolve(cfn.replicas) as { pointInTimeRecoverySpecification?: Pitr }[] | undefined;
    return Array.isArray(replicas) && replicas.length > 0 && replicas.every((r) => r.pointInTimeRecoverySpecification?.pointInTimeRecoveryEnabled === true);
  }
  return undefined;
}

function checkTable(scope: Construct, ds: DynamoDbTableDataset, table: dynamodb.ITable): void {
  checkName(scope, `datasets "${ds.name}".tableName`, ds.tableName, table, physicalName(table, table.tableName, 'tableName'), 'tableName');
  if (pointInTimeRecovery(table) === false) {
    throw new Error(`${scope.node.path}: sources.${ds.name} is the table ${table.node.path}, whose point-in-time recovery is off; ExportTableToPointInTime needs it. `
      + 'Fix: create the table with pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } (Table and TableV2 alike).');
  }
}

// ------------------------------------------------------------------ postgres

function asPostgresSource(source: PrimarySiteSource | undefined): PostgresSource | undefined {
  if (!source) return undefined;
  if ('database' in source) return source;
  if ('clusterIdentifier' in source || 'instanceIdentifier' in source) return { database: source as rds.IDatabaseCluster | rds.IDatabaseInstance };
  return undefined;
}

function endpointOf(database: rds.IDatabaseCluster | rds.IDatabaseInstance): string | undefined {
  if ('clusterReadEndpoint' in database) return database.clusterReadEndpoint.hostname;
  if ('dbInstanceEndpointAddress' in database) return database.dbInstanceEndpointAddress;
  return undefined;
}

function secretArnOf(scope: Construct, name: string, secret: secretsmanager.ISecret): string {
  const arn = secret.secretFullArn;
  if (arn === undefined) {
    throw new Error(`${scope.node.path}: sources.${name}.credentials is ${secret.node.path}, imported without its complete ARN, so the dump task cannot be granted exactly that secret. `
      + 'Fix: import it with secretsmanager.Secret.fromSecretCompleteArn, or pass the secret construct itself.');
  }
  return arn;
}

function networkOf(scope: Construct, name: string, src: PostgresSource): JobsNetworkPlan | undefined {
  if (!src.vpc) return undefined;
  const selection = src.vpc.selectSubnets(src.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  if (selection.subnetIds.length === 0) {
    throw new Error(`${scope.node.path}: sources.${name}.subnets selects no subnet of ${src.vpc.node.path}. Fix: pass subnets: { subnetType: ... } (private subnets with a route to S3 and ECR).`);
  }
  return {
    vpcId: src.vpc.vpcId,
    subnetIds: selection.subnetIds,
    securityGroupIds: (src.securityGroups ?? [dumpSecurityGroup(scope, name, src)]).map((g) => g.securityGroupId),
    availabilityZones: selection.availabilityZones,
  };
}

/** A security group for the dump task, allowed into the database on its default port. */
function dumpSecurityGroup(scope: Construct, name: string, src: PostgresSource): ec2.ISecurityGroup {
  const sg = new ec2.SecurityGroup(scope, `DumpTaskSecurityGroup-${name}`, {
    vpc: src.vpc!,
    description: `Counterparty pg_dump task of dataset ${name}`,
    allowAllOutbound: true,
  });
  try {
    src.database.connections.allowDefaultPortFrom(sg, `Counterparty pg_dump of dataset ${name}`);
  } catch (e) {
    throw new Error(`${scope.node.path}: sources.${name}.database ${describe(src.database)} has no known port, so the dump task's security group cannot be let in (${(e as Error).message}). `
      + 'Fix: pass securityGroups: [a group the database accepts].');
  }
  return sg;
}

function checkIdentifier(scope: Construct, ds: PostgresDataset, database: rds.IDatabaseCluster | rds.IDatabaseInstance): void {
  const id = 'clusterIdentifier' in database ? database.clusterIdentifier : database.instanceIdentifier;
  const literal = Stack.of(scope).resolve(id);
  if (typeof literal === 'string' && !Token.isUnresolved(literal) && literal.toLowerCase() !== ds.identifier.toLowerCase()) {
    throw new Error(`${scope.node.path}: datasets "${ds.name}".identifier is ${JSON.stringify(ds.identifier)}, but its source ${describe(database)} is ${JSON.stringify(literal)}. Fix: make them the same.`);
  }
}

function fillPostgres(scope: Construct, ds: PostgresDataset, i: number, source: PrimarySiteSource | undefined): PostgresDataset {
  const src = asPostgresSource(source);
  if (src) checkIdentifier(scope, ds, src.database);
  const filled: PostgresDataset = {
    ...ds,
    endpoint: ds.endpoint ?? (src ? endpointOf(src.database) : undefined),
    credentialsSecretArn: ds.credentialsSecretArn ?? (src?.credentials ? secretArnOf(scope, ds.name, src.credentials) : undefined),
    network: ds.network ?? (src ? networkOf(scope, ds.name, src) : undefined),
  };
  const missing = ([['endpoint', 'database'], ['credentialsSecretArn', 'credentials'], ['network', 'vpc']] as const).filter(([field]) => filled[field] === undefined);
  if (missing.length > 0) {
    throw new Error(`${scope.node.path}: datasets[${i}] ("${ds.name}") has no ${missing.map(([f]) => f).join(', ')}: the dump task needs them. `
      + `Fix: give them in the plan, or pass sources.${ds.name}: { ${missing.map(([, s]) => s).join(', ')}${src ? '' : ', database'} } to PrimarySite.`);
  }
  return filled;
}
