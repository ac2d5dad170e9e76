/**
 * Checks of `datasets[]`: one function per dataset kind, plus the rules that span datasets.
 */
import { DATASET_KINDS, LIMITS, type Dataset } from '../plan';
import * as naming from '../naming';
import { checkNetwork, UUID_RE, type IssueCollector } from './collector';
import { isToken } from './tokens';

const DATASET_NAME_RE = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
const PG_EXTENSION_RE = /^[a-z_][a-z0-9_-]{0,62}$/;
/** Fields every dataset kind has. */
const COMMON_FIELDS = ['kind', 'name', 'allowEmpty'];

type Fields = Record<string, unknown>;

function checkDatasetName(c: IssueCollector, f: string, ds: Fields, i: number, seen: Map<string, number>): void {
  if (!c.string(`${f}.name`, ds.name, 'name the dataset, e.g. "recordings".')) return;
  const name = ds.name;
  if (!DATASET_NAME_RE.test(name) || name.length < 2 || name.length > 32) {
    c.error(`${f}.name`, name, 'must be 2-32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.', 'rename the dataset, e.g. "call-recordings".');
  }
  const previous = seen.get(name);
  if (previous !== undefined) {
    c.error(`${f}.name`, name, `duplicates datasets[${previous}].name; dataset names key the export layout and must be unique.`, 'give each dataset its own name.');
  } else seen.set(name, i);
}

function checkS3BucketDataset(c: IssueCollector, f: string, ds: Fields, exportBucket: string): void {
  c.unknownKeys(f, ds, [...COMMON_FIELDS, 'bucketName', 'prefix']);
  if (c.string(`${f}.bucketName`, ds.bucketName, 'give the source bucket\'s name.')) {
    c.name(`${f}.bucketName`, ds.bucketName, naming.NAME_RULES.s3Bucket, 'give the source bucket\'s exact name.');
    if (ds.bucketName === exportBucket) {
      c.error(`${f}.bucketName`, ds.bucketName, 'is the export bucket itself; protecting it would copy the exports into themselves.', 'protect the source buckets only.');
    }
  }
  if (ds.prefix !== undefined && typeof ds.prefix !== 'string') c.error(`${f}.prefix`, ds.prefix, 'must be a string.', 'give a key prefix such as "recordings/", or leave it out.');
}

function checkDynamoDbTableDataset(c: IssueCollector, f: string, ds: Fields): void {
  c.unknownKeys(f, ds, [...COMMON_FIELDS, 'tableName', 'pointInTimeRecovery']);
  if (c.string(`${f}.tableName`, ds.tableName, 'give the source table\'s name.') && !/^[a-zA-Z0-9_.-]{3,255}$/.test(ds.tableName)) {
    c.error(`${f}.tableName`, ds.tableName, 'is not a valid DynamoDB table name.', 'use 3-255 letters, digits, underscores, hyphens and dots.');
  }
  const pitr = c.boolean(`${f}.pointInTimeRecovery`, ds.pointInTimeRecovery);
  if (pitr === false) {
    c.error(`${f}.pointInTimeRecovery`, false, 'is off, and ExportTableToPointInTime needs point-in-time recovery on the source table.',
      'enable PITR on the table (aws dynamodb update-continuous-backups ... PointInTimeRecoveryEnabled=true, or pointInTimeRecoverySpecification in CDK), then set this to true.');
  }
}

/** engineVersion: the server's major version; the jobs image's client tools must be at least as new. */
function checkPostgresEngine(c: IssueCollector, f: string, ds: Fields): void {
  if (ds.engine !== 'aurora-postgresql' && ds.engine !== 'rds-postgresql') {
    c.error(`${f}.engine`, ds.engine, 'is not a supported engine.', 'use "aurora-postgresql" or "rds-postgresql".');
  }
  const v = ds.engineVersion;
  if (v !== undefined) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < LIMITS.minPostgresMajorVersion) {
      c.error(`${f}.engineVersion`, v, `must be a PostgreSQL major version, a whole number from ${LIMITS.minPostgresMajorVersion}.`, 'give the major version of the server, e.g. 16 (not "16.4").');
    } else if (v > LIMITS.pgClientMajorVersion) {
      c.error(`${f}.engineVersion`, v, `is newer than the jobs image's pg_dump/pg_restore (PostgreSQL ${LIMITS.pgClientMajorVersion} client tools); pg_dump refuses to dump a newer server.`,
        `keep the server at ${LIMITS.pgClientMajorVersion} or below, or upgrade the jobs image's client tools first.`);
    }
  }
  const ext = ds.extensions;
  if (ext !== undefined) {
    if (!Array.isArray(ext)) c.error(`${f}.extensions`, ext, 'must be a list of extension names.', 'give e.g. ["pgcrypto", "citext"], or leave it out.');
    else ext.forEach((e, j) => {
      if (typeof e !== 'string' || !PG_EXTENSION_RE.test(e)) c.error(`${f}.extensions[${j}]`, e, 'is not a PostgreSQL extension name.', 'give the name CREATE EXTENSION takes, e.g. "pgcrypto".');
    });
  }
}

function checkPostgresDataset(c: IssueCollector, f: string, ds: Fields): void {
  c.unknownKeys(f, ds, [...COMMON_FIELDS, 'engine', 'engineVersion', 'extensions', 'identifier', 'endpoint', 'port', 'databaseName', 'credentialsSecretArn', 'network']);
  checkPostgresEngine(c, f, ds);
  if (c.string(`${f}.identifier`, ds.identifier, 'give the cluster or instance identifier.') && !/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(ds.identifier)) {
    c.error(`${f}.identifier`, ds.identifier, 'is not a valid RDS identifier.', 'use 1-63 letters, digits and hyphens, starting with a letter.');
  }
  // endpoint, credentialsSecretArn and network: only the AWS half reads them, so they may be tokens or come from PrimarySite sources.
  if (ds.endpoint !== undefined) c.string(`${f}.endpoint`, ds.endpoint, 'give the endpoint host name the dump job connects to, or leave it out and pass the database through PrimarySite sources.');
  c.integer(`${f}.port`, ds.port, 1, 65535, 'give the TCP port, usually 5432.');
  if (c.string(`${f}.databaseName`, ds.databaseName, 'give the database name to dump.') && !/^[a-zA-Z_][a-zA-Z0-9_$-]{0,62}$/.test(ds.databaseName)) {
    c.error(`${f}.databaseName`, ds.databaseName, 'is not a valid PostgreSQL database name.', 'use up to 63 letters, digits and underscores.');
  }
  if (ds.credentialsSecretArn !== undefined && c.string(`${f}.credentialsSecretArn`, ds.credentialsSecretArn, 'give the ARN of a Secrets Manager secret with username and password.')
    && !isToken(ds.credentialsSecretArn) && !SECRET_ARN_RE.test(ds.credentialsSecretArn)) {
    c.error(`${f}.credentialsSecretArn`, ds.credentialsSecretArn, 'is not a Secrets Manager secret ARN.', 'give arn:aws:secretsmanager:<region>:<account>:secret:<name>.');
  }
  if (ds.network !== undefined) checkNetwork(c, `${f}.network`, ds.network, 'the dump task');
}

function checkConnectInstanceDataset(c: IssueCollector, f: string, ds: Fields): void {
  c.unknownKeys(f, ds, [...COMMON_FIELDS, 'instanceId']);
  if (typeof ds.instanceId !== 'string' || !UUID_RE.test(ds.instanceId)) {
    c.error(`${f}.instanceId`, ds.instanceId, 'is not an Amazon Connect instance ID.', 'give the instance\'s UUID (the last part of its ARN).');
  }
}

function checkDataset(c: IssueCollector, ds: unknown, i: number, seen: Map<string, number>, exportBucket: string): void {
  const f = `datasets[${i}]`;
  if (!c.object(f, ds, 'give each dataset as an object with kind and name.')) return;
  const kind = ds.kind;
  if (typeof kind !== 'string' || !(DATASET_KINDS as readonly string[]).includes(kind)) {
    c.error(`${f}.kind`, kind, 'is not a dataset kind.', `use one of: ${DATASET_KINDS.join(', ')}.`);
    return;
  }
  checkDatasetName(c, f, ds, i, seen);
  c.boolean(`${f}.allowEmpty`, ds.allowEmpty);
  switch (kind as Dataset['kind']) {
    case 's3Bucket': return checkS3BucketDataset(c, f, ds, exportBucket);
    case 'dynamoDbTable': return checkDynamoDbTableDataset(c, f, ds);
    case 'postgres': return checkPostgresDataset(c, f, ds);
    case 'connectInstance': return checkConnectInstanceDataset(c, f, ds);
  }
}

/** `datasets`: at least one, each valid, names unique; s3Bucket datasets need a jobs network. */
export function checkDatasets(c: IssueCollector, plan: Fields, exportBucket: string): void {
  if (!Array.isArray(plan.datasets) || plan.datasets.length === 0) {
    c.error('datasets', plan.datasets, 'must list at least one dataset.', 'add the buckets, tables, databases and Connect instances to protect.');
    return;
  }
  const seen = new Map<string, number>();
  plan.datasets.forEach((ds, i) => checkDataset(c, ds, i, seen, exportBucket));
  const kinds = plan.datasets.map((d) => (d && typeof d === 'object' ? (d as { kind?: unknown }).kind : undefined));
  const primary = plan.primary as Fields | undefined;
  if (kinds.includes('s3Bucket') && !kinds.includes('postgres') && primary && typeof primary === 'object' && primary.jobsNetwork === undefined) {
    c.error('primary.jobsNetwork', undefined, 's3Bucket datasets are copied by a Fargate task, which needs a network, and no postgres dataset gives one.',
      'set primary.jobsNetwork: { vpcId, subnetIds, securityGroupIds } (private subnets with a route to S3 and ECR).');
  }
}
