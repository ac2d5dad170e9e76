/**
 * Validation of a protection plan, at synth time. Every problem names the
 * field, the value and the fix; all problems are reported at once.
 */
import { CronSyntaxError, parseCron, type ParsedCron } from './cron';
import { PlanValidationError, type PlanIssue } from './errors';
import * as naming from './naming';
import { DATASET_KINDS, DEFAULTS, LIMITS, type Dataset, type ProtectionPlan, type ResolvedPlan } from './plan';
import { allowedRegions, JURISDICTIONS, regionAllowed, type Provider } from './residency';
import { isValidTimeZone, longestGapHours } from './schedule';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SYSTEM_RE = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const DATASET_NAME_RE = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const AWS_REGION_RE = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const GCP_REGION_RE = /^[a-z]+(-[a-z]+\d+)?$/;
const GCP_PROJECT_RE = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const AZURE_LOCATION_RE = /^[a-z][a-z0-9]+$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const IMAGE_RE = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[\w][\w.-]{0,127}$/;
const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d|[12]\d|3[0-2]))?$/;
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/;
const TAG_KEY_RE = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

const PLAN_FIELDS = ['system', 'primary', 'datasets', 'schedule', 'rpoHours', 'alarmGraceHours', 'retentionDays', 'immutability', 'counterparties', 'residency', 'notifications', 'images', 'tags'];

class IssueCollector {
  public readonly issues: PlanIssue[] = [];
  error(field: string, value: unknown, problem: string, fix: string): void {
    this.issues.push({ field, value, problem, fix, severity: 'error' });
  }
  warn(field: string, value: unknown, problem: string, fix: string): void {
    this.issues.push({ field, value, problem, fix, severity: 'warning' });
  }
  /** Checks `value` is a non-empty string; reports and returns false otherwise. */
  string(field: string, value: unknown, fix: string): value is string {
    if (typeof value === 'string' && value.trim() !== '') return true;
    this.error(field, value, value === undefined ? 'is required.' : 'must be a non-empty string.', fix);
    return false;
  }
  object(field: string, value: unknown, fix: string, optional = false): value is Record<string, unknown> {
    if (value === undefined && optional) return false;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    this.error(field, value, value === undefined ? 'is required.' : 'must be an object.', fix);
    return false;
  }
  /** Optional whole number in [min, max]; returns the value or undefined. */
  integer(field: string, value: unknown, min: number, max: number, fix: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.error(field, value, `must be a whole number from ${min} to ${max}.`, fix);
      return undefined;
    }
    return value;
  }
  boolean(field: string, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.error(field, value, 'must be true or false.', `set ${field} to true or false (a boolean, not a string).`);
      return undefined;
    }
    return value;
  }
  unknownKeys(field: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const name = /^[A-Za-z_$][\w$]*$/.test(key) ? (field ? `${field}.${key}` : key) : `${field}[${JSON.stringify(key)}]`;
        this.error(name, value[key], 'is not a field Counterparty knows.', `remove it, or check its spelling against: ${known.join(', ')}.`);
      }
    }
  }
  name(field: string, derived: string, rule: naming.NameRule, fix: string): void {
    const violation = naming.nameRuleViolation(derived, rule);
    if (violation) this.error(field, derived, `derives ${violation}.`, fix);
  }
}

function checkRegion(c: IssueCollector, provider: Provider, field: string, region: string, allowed: readonly string[] | undefined): void {
  if (!allowed) return;
  if (!regionAllowed(provider, region, allowed)) {
    c.error(field, region, `is outside the plan's residency (${allowed.join(', ')}).`,
      `use one of: ${allowedRegions(provider, allowed).join(', ')}; or change residency.allowed if the data may live there.`);
  }
}

function checkNetwork(c: IssueCollector, f: string, n: unknown, what: string): void {
  if (!c.object(f, n, `give vpcId, subnetIds and securityGroupIds for ${what}.`)) return;
  c.unknownKeys(f, n, ['vpcId', 'subnetIds', 'securityGroupIds', 'availabilityZones']);
  if (typeof n.vpcId !== 'string' || !/^vpc-[0-9a-f]{8,17}$/.test(n.vpcId)) c.error(`${f}.vpcId`, n.vpcId, 'is not a VPC ID.', 'give vpc-xxxxxxxx.');
  for (const [key, prefix] of [['subnetIds', 'subnet'], ['securityGroupIds', 'sg']] as const) {
    const list = n[key];
    if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || !new RegExp(`^${prefix}-[0-9a-f]{8,17}$`).test(s))) {
      c.error(`${f}.${key}`, list, `must be a non-empty list of ${prefix}-xxxxxxxx IDs.`, `list the ${key === 'subnetIds' ? 'private subnets' : 'security groups'} ${what} uses.`);
    }
  }
  const azs = n.availabilityZones;
  if (azs !== undefined && (!Array.isArray(azs) || azs.length === 0 || azs.some((z) => typeof z !== 'string' || !/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/.test(z)))) {
    c.error(`${f}.availabilityZones`, azs, 'must be a non-empty list of availability zone names.', 'give e.g. ["eu-central-1a", "eu-central-1b"], or leave it out.');
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
  if (c.string(`${f}.name`, ds.name, 'name the dataset, e.g. "recordings".')) {
    const name = ds.name;
    if (!DATASET_NAME_RE.test(name) || name.length < 2 || name.length > 32) {
      c.error(`${f}.name`, name, 'must be 2-32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.', 'rename the dataset, e.g. "call-recordings".');
    }
    const previous = seen.get(name);
    if (previous !== undefined) {
      c.error(`${f}.name`, name, `duplicates datasets[${previous}].name; dataset names key the export layout and must be unique.`, 'give each dataset its own name.');
    } else seen.set(name, i);
  }
  const common = ['kind', 'name'];
  switch (kind as Dataset['kind']) {
    case 's3Bucket': {
      c.unknownKeys(f, ds, [...common, 'bucketName', 'prefix']);
      if (c.string(`${f}.bucketName`, ds.bucketName, 'give the source bucket\'s name.')) {
        c.name(`${f}.bucketName`, ds.bucketName, naming.NAME_RULES.s3Bucket, 'give the source bucket\'s exact name.');
        if (ds.bucketName === exportBucket) {
          c.error(`${f}.bucketName`, ds.bucketName, 'is the export bucket itself; protecting it would copy the exports into themselves.', 'protect the source buckets only.');
        }
      }
      if (ds.prefix !== undefined && typeof ds.prefix !== 'string') c.error(`${f}.prefix`, ds.prefix, 'must be a string.', 'give a key prefix such as "recordings/", or leave it out.');
      break;
    }
    case 'dynamoDbTable': {
      c.unknownKeys(f, ds, [...common, 'tableName', 'pointInTimeRecovery']);
      if (c.string(`${f}.tableName`, ds.tableName, 'give the source table\'s name.') && !/^[a-zA-Z0-9_.-]{3,255}$/.test(ds.tableName)) {
        c.error(`${f}.tableName`, ds.tableName, 'is not a valid DynamoDB table name.', 'use 3-255 letters, digits, underscores, hyphens and dots.');
      }
      const pitr = c.boolean(`${f}.pointInTimeRecovery`, ds.pointInTimeRecovery);
      if (pitr === false) {
        c.error(`${f}.pointInTimeRecovery`, false, 'is off, and ExportTableToPointInTime needs point-in-time recovery on the source table.',
          'enable PITR on the table (aws dynamodb update-continuous-backups ... PointInTimeRecoveryEnabled=true, or pointInTimeRecoverySpecification in CDK), then set this to true.');
      }
      break;
    }
    case 'postgres': {
      c.unknownKeys(f, ds, [...common, 'engine', 'identifier', 'endpoint', 'port', 'databaseName', 'credentialsSecretArn', 'network']);
      if (ds.engine !== 'aurora-postgresql' && ds.engine !== 'rds-postgresql') {
        c.error(`${f}.engine`, ds.engine, 'is not a supported engine.', 'use "aurora-postgresql" or "rds-postgresql".');
      }
      if (c.string(`${f}.identifier`, ds.identifier, 'give the cluster or instance identifier.') && !/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/.test(ds.identifier)) {
        c.error(`${f}.identifier`, ds.identifier, 'is not a valid RDS identifier.', 'use 1-63 letters, digits and hyphens, starting with a letter.');
      }
      c.string(`${f}.endpoint`, ds.endpoint, 'give the endpoint host name the dump job connects to.');
      c.integer(`${f}.port`, ds.port, 1, 65535, 'give the TCP port, usually 5432.');
      if (c.string(`${f}.databaseName`, ds.databaseName, 'give the database name to dump.') && !/^[a-zA-Z_][a-zA-Z0-9_$-]{0,62}$/.test(ds.databaseName)) {
        c.error(`${f}.databaseName`, ds.databaseName, 'is not a valid PostgreSQL database name.', 'use up to 63 letters, digits and underscores.');
      }
      if (c.string(`${f}.credentialsSecretArn`, ds.credentialsSecretArn, 'give the ARN of a Secrets Manager secret with username and password.') && !SECRET_ARN_RE.test(ds.credentialsSecretArn)) {
        c.error(`${f}.credentialsSecretArn`, ds.credentialsSecretArn, 'is not a Secrets Manager secret ARN.', 'give arn:aws:secretsmanager:<region>:<account>:secret:<name>.');
      }
      checkNetwork(c, `${f}.network`, ds.network, 'the dump task');
      break;
    }
    case 'connectInstance': {
      c.unknownKeys(f, ds, [...common, 'instanceId']);
      if (typeof ds.instanceId !== 'string' || !UUID_RE.test(ds.instanceId)) {
        c.error(`${f}.instanceId`, ds.instanceId, 'is not an Amazon Connect instance ID.', 'give the instance\'s UUID (the last part of its ARN).');
      }
      break;
    }
  }
}

/** All problems with a plan, errors and warnings. Never throws. */
export function validatePlan(input: ProtectionPlan): PlanIssue[] {
  const c = new IssueCollector();
  const plan = input as unknown as Record<string, unknown>;
  if (!c.object('plan', plan, 'pass a ProtectionPlan object.')) return c.issues;
  c.unknownKeys('', plan, PLAN_FIELDS);

  // system
  let systemOk = false;
  if (c.string('system', plan.system, 'name the system, e.g. "acme-cc".')) {
    const s = plan.system;
    if (!SYSTEM_RE.test(s) || s.length < 3 || s.length > 24) {
      c.error('system', s, 'must be 3-24 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit.', 'choose a short name such as "acme-cc".');
    } else systemOk = true;
  }

  // primary
  let primaryOk = false;
  if (c.object('primary', plan.primary, 'give primary: { account, region }.')) {
    const p = plan.primary;
    c.unknownKeys('primary', p, ['account', 'region', 'jobsNetwork']);
    if (p.jobsNetwork !== undefined) checkNetwork(c, 'primary.jobsNetwork', p.jobsNetwork, 'the primary\'s Fargate jobs');
    let ok = true;
    if (typeof p.account !== 'string' || !/^\d{12}$/.test(p.account)) {
      c.error('primary.account', p.account, 'is not a 12-digit AWS account ID.', 'give the account ID as a string of 12 digits, e.g. "123456789012".');
      ok = false;
    }
    if (typeof p.region !== 'string' || !AWS_REGION_RE.test(p.region)) {
      c.error('primary.region', p.region, 'is not an AWS region.', 'give a region such as "eu-central-1".');
      ok = false;
    }
    primaryOk = ok;
  }

  const residency = plan.residency as Record<string, unknown> | undefined;
  let allowed: readonly string[] | undefined;
  if (c.object('residency', residency, 'give residency: { allowed: ["eu"] }, or leave it out.', true)) {
    c.unknownKeys('residency', residency, ['allowed']);
    const list = residency.allowed;
    if (!Array.isArray(list) || list.length === 0 || list.some((e) => typeof e !== 'string' || e === '')) {
      c.error('residency.allowed', list, 'must be a non-empty list of jurisdictions or region names.', `use jurisdictions (${Object.keys(JURISDICTIONS).join(', ')}) and/or exact region names.`);
    } else allowed = list as string[];
  }
  if (primaryOk) checkRegion(c, 'aws', 'primary.region', (plan.primary as { region: string }).region, allowed);

  const pseudo = systemOk && primaryOk ? (plan as unknown as ProtectionPlan) : undefined;
  const exportBucket = pseudo ? naming.exportBucketName(pseudo) : '';

  // datasets
  if (!Array.isArray(plan.datasets) || plan.datasets.length === 0) {
    c.error('datasets', plan.datasets, 'must list at least one dataset.', 'add the buckets, tables, databases and Connect instances to protect.');
  } else {
    const seen = new Map<string, number>();
    plan.datasets.forEach((ds, i) => checkDataset(c, ds, i, seen, exportBucket));
    const kinds = plan.datasets.map((d) => (d && typeof d === 'object' ? (d as { kind?: unknown }).kind : undefined));
    const primary = plan.primary as Record<string, unknown> | undefined;
    if (kinds.includes('s3Bucket') && !kinds.includes('postgres') && primary && typeof primary === 'object' && primary.jobsNetwork === undefined) {
      c.error('primary.jobsNetwork', undefined, 's3Bucket datasets are copied by a Fargate task, which needs a network, and no postgres dataset gives one.',
        'set primary.jobsNetwork: { vpcId, subnetIds, securityGroupIds } (private subnets with a route to S3 and ECR).');
    }
  }

  // schedule
  let cron: ParsedCron | undefined;
  if (c.object('schedule', plan.schedule, 'give schedule: { cron, timeZone }, or leave it out for 02:00 UTC.', true)) {
    const s = plan.schedule;
    c.unknownKeys('schedule', s, ['cron', 'timeZone', 'exportWindowHours']);
    if (s.cron !== undefined) {
      try {
        cron = parseCron(s.cron as string);
      } catch (e) {
        const detail = e instanceof CronSyntaxError ? e.message : String(e);
        c.error('schedule.cron', s.cron, `is not a valid cron: ${detail}.`, 'use 5 fields "minute hour day-of-month month day-of-week", e.g. "0 2 * * *" for 02:00 daily.');
      }
    }
    if (s.timeZone !== undefined && (typeof s.timeZone !== 'string' || !isValidTimeZone(s.timeZone))) {
      c.error('schedule.timeZone', s.timeZone, 'is not an IANA time zone.', 'use a name such as "UTC" or "Europe/Berlin".');
    }
    c.integer('schedule.exportWindowHours', s.exportWindowHours, 1, 12, 'give the hours the export may take before counterparties copy (1-12).');
  }
  // A cron that failed to parse is reported above; otherwise check the given (or default) one is nightly.
  const cronGiven = typeof plan.schedule === 'object' && plan.schedule !== null && (plan.schedule as Record<string, unknown>).cron !== undefined;
  if (cron !== undefined || !cronGiven) {
    cron ??= parseCron(DEFAULTS.cron);
    if (cron.minute.values.length !== 1 || cron.hour.values.length !== 1) {
      c.error('schedule.cron', cron.expression, 'must fire at one fixed minute and hour of the day; the snapshot is nightly.', 'give a single minute and hour, e.g. "30 1 * * *".');
    }
    if (!cron.dayOfMonth.any && !cron.dayOfWeek.any) {
      c.error('schedule.cron', cron.expression, 'restricts both day-of-month and day-of-week, which AWS schedules cannot express.', 'set one of the two day fields to "*".');
    }
  }

  // RPO and retention
  const rpo = c.integer('rpoHours', plan.rpoHours, 1, 24 * 366, 'give the recovery point objective in whole hours, e.g. 24.') ?? (plan.rpoHours === undefined ? DEFAULTS.rpoHours : undefined);
  c.integer('alarmGraceHours', plan.alarmGraceHours, 0, 168, 'give the alarm grace period in whole hours (0-168).');
  if (rpo !== undefined && cron && cron.minute.values.length === 1 && cron.hour.values.length === 1) {
    const gap = longestGapHours(cron);
    if (gap > rpo) {
      c.error('rpoHours', rpo, `cannot be met: schedule "${cron.expression}" leaves up to ${gap} hours between nights.`, `run the schedule more often, or set rpoHours to at least ${gap}.`);
    }
  }
  const retention = plan.retentionDays;
  if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 1) {
    c.error('retentionDays', retention, 'must be a whole number of days, at least 1.', 'give how many days every copy is kept, e.g. 35.');
  } else {
    if (rpo !== undefined && retention * 24 < rpo) {
      c.error('retentionDays', retention, `is shorter than the RPO (${rpo} h): a night would expire before the next one exists.`, `set retentionDays to at least ${Math.ceil(rpo / 24)}.`);
    }
    if (retention > LIMITS.maxRetentionDays) {
      c.error('retentionDays', retention, `is over the provider maximum of ${LIMITS.maxRetentionDays} days (S3 Object Lock and Backup Vault Lock).`, `set retentionDays to ${LIMITS.maxRetentionDays} or less.`);
    }
  }

  // immutability
  if (c.object('immutability', plan.immutability, 'give immutability: { mode, lock, ... }, or leave it out for governance mode.', true)) {
    const im = plan.immutability;
    c.unknownKeys('immutability', im, ['mode', 'acknowledgeComplianceIsIrreversible', 'lock', 'acknowledgeLockIsIrreversible', 'vaultLockChangeableForHours']);
    if (im.mode !== undefined && im.mode !== 'governance' && im.mode !== 'compliance') {
      c.error('immutability.mode', im.mode, 'is not an immutability mode.', 'use "governance" (default, reversible) or "compliance" (irreversible, needs acknowledgeComplianceIsIrreversible: true).');
    }
    const ackCompliance = c.boolean('immutability.acknowledgeComplianceIsIrreversible', im.acknowledgeComplianceIsIrreversible);
    if (im.mode === 'compliance' && ackCompliance !== true) {
      c.error('immutability.mode', 'compliance', 'is irreversible (no one, not even the account root, can shorten retention or delete locked copies) and was not explicitly opted into.',
        'set immutability.acknowledgeComplianceIsIrreversible: true after reading README "Irreversible opt-ins", or use mode "governance".');
    }
    const lock = c.boolean('immutability.lock', im.lock);
    const ackLock = c.boolean('immutability.acknowledgeLockIsIrreversible', im.acknowledgeLockIsIrreversible);
    if (lock === true && ackLock !== true) {
      c.error('immutability.lock', true, 'locks GCS retention and the Azure immutability policy irreversibly, and was not explicitly opted into.',
        'set immutability.acknowledgeLockIsIrreversible: true after reading README "Irreversible opt-ins", or leave lock false.');
    }
    const grace = c.integer('immutability.vaultLockChangeableForHours', im.vaultLockChangeableForHours, LIMITS.minVaultLockChangeableForHours, 24 * 365,
      `give the compliance Vault Lock grace period in whole hours, at least ${LIMITS.minVaultLockChangeableForHours}.`);
    if (grace !== undefined && grace % 24 !== 0) {
      c.error('immutability.vaultLockChangeableForHours', grace, 'is not a whole number of days; AWS Backup Vault Lock takes ChangeableForDays.',
        `use a multiple of 24, e.g. ${Math.max(LIMITS.minVaultLockChangeableForHours, Math.round(grace / 24) * 24)}.`);
    }
  }

  // counterparties
  if (c.object('counterparties', plan.counterparties, 'give counterparties: { gcp: {...} } and/or { azure: {...} }.')) {
    const cp = plan.counterparties;
    for (const key of Object.keys(cp)) {
      if (key === 'aws') {
        c.error('counterparties.aws', cp.aws, 'is on the same provider as the primary (AWS); it would not survive losing AWS.', 'use a gcp or azure counterparty.');
      } else if (key !== 'gcp' && key !== 'azure') {
        c.error(`counterparties.${key}`, cp[key], 'is not a counterparty provider Counterparty supports.', 'use gcp and/or azure.');
      }
    }
    if (cp.gcp === undefined && cp.azure === undefined) {
      c.error('counterparties', cp, 'names no counterparty; without one nothing survives losing AWS.', 'add counterparties.gcp and/or counterparties.azure.');
    }
    if (c.object('counterparties.gcp', cp.gcp, 'give { projectId, region }.', true)) {
      const g = cp.gcp;
      c.unknownKeys('counterparties.gcp', g, ['projectId', 'region', 'storageTransferSubjectId', 'network', 'mode', 'notificationChannels']);
      if (typeof g.projectId !== 'string' || !GCP_PROJECT_RE.test(g.projectId)) {
        c.error('counterparties.gcp.projectId', g.projectId, 'is not a GCP project ID.', 'give the project ID (6-30 lowercase letters, digits and hyphens, starting with a letter).');
      } else if (systemOk) {
        c.name('counterparties.gcp.projectId', naming.gcsVaultBucketName(pseudo ?? { system: plan.system as string }, g.projectId), naming.NAME_RULES.gcsBucket,
          'shorten system or use a shorter project ID; the vault bucket is named "<system>-vault-<projectId>".');
      }
      if (typeof g.region !== 'string' || !GCP_REGION_RE.test(g.region) || AWS_REGION_RE.test(g.region)) {
        c.error('counterparties.gcp.region', g.region, 'is not a GCP region.', 'give a region such as "europe-west3".');
      } else checkRegion(c, 'gcp', 'counterparties.gcp.region', g.region, allowed);
      if (g.storageTransferSubjectId === undefined) {
        c.warn('counterparties.gcp.storageTransferSubjectId', undefined, 'is not set, so the AWS reader role for GCP is not created and the nightly pull will fail until it is.',
          'deploy the GCP stack, copy its output storage_transfer_subject_id here, and deploy the AWS stack again.');
      } else if (typeof g.storageTransferSubjectId !== 'string' || !/^\d{10,30}$/.test(g.storageTransferSubjectId)) {
        c.error('counterparties.gcp.storageTransferSubjectId', g.storageTransferSubjectId, 'is not a numeric subject ID.', 'copy the GCP stack output storage_transfer_subject_id (a string of digits).');
      }
      if (g.network !== undefined && (typeof g.network !== 'string' || g.network === '')) c.error('counterparties.gcp.network', g.network, 'must be a VPC network self link or ID.', 'give projects/<p>/global/networks/<name>, or leave it out.');
      if (g.mode !== undefined && g.mode !== 'standby' && g.mode !== 'active') c.error('counterparties.gcp.mode', g.mode, 'is not a mode.', 'use "standby" (default) or "active" (failover).');
      if (g.notificationChannels !== undefined && (!Array.isArray(g.notificationChannels) || g.notificationChannels.some((x) => typeof x !== 'string' || x === ''))) {
        c.error('counterparties.gcp.notificationChannels', g.notificationChannels, 'must be a list of notification channel IDs.', 'give projects/<p>/notificationChannels/<id> strings, or leave it out.');
      }
    }
    if (c.object('counterparties.azure', cp.azure, 'give { subscriptionId, tenantId, location }.', true)) {
      const a = cp.azure;
      c.unknownKeys('counterparties.azure', a, ['subscriptionId', 'tenantId', 'location', 'copyIdentityPrincipalId', 'tokenAudience', 'allowedIpRanges', 'mode']);
      for (const key of ['subscriptionId', 'tenantId'] as const) {
        if (typeof a[key] !== 'string' || !UUID_RE.test(a[key] as string)) c.error(`counterparties.azure.${key}`, a[key], 'is not a UUID.', `give the ${key === 'tenantId' ? 'Entra tenant' : 'subscription'} ID.`);
      }
      if (typeof a.location !== 'string' || !AZURE_LOCATION_RE.test(a.location)) {
        c.error('counterparties.azure.location', a.location, 'is not an Azure location name.', 'give a location such as "westeurope" (lowercase, no spaces).');
      } else checkRegion(c, 'azure', 'counterparties.azure.location', a.location, allowed);
      if (a.copyIdentityPrincipalId === undefined) {
        c.warn('counterparties.azure.copyIdentityPrincipalId', undefined, 'is not set, so the AWS reader role for Azure is not created and the nightly copy will fail until it is.',
          'deploy the Azure stack, copy its output copy_identity_principal_id here, and deploy the AWS stack again.');
      } else if (typeof a.copyIdentityPrincipalId !== 'string' || !UUID_RE.test(a.copyIdentityPrincipalId)) {
        c.error('counterparties.azure.copyIdentityPrincipalId', a.copyIdentityPrincipalId, 'is not a UUID.', 'copy the Azure stack output copy_identity_principal_id.');
      }
      if (a.tokenAudience !== undefined && (typeof a.tokenAudience !== 'string' || a.tokenAudience === '')) c.error('counterparties.azure.tokenAudience', a.tokenAudience, 'must be a non-empty string.', `leave it out for ${DEFAULTS.azureTokenAudience}.`);
      if (a.allowedIpRanges !== undefined) {
        const list = a.allowedIpRanges;
        if (!Array.isArray(list)) c.error('counterparties.azure.allowedIpRanges', list, 'must be a list of CIDR ranges.', 'give e.g. ["203.0.113.0/24"], or leave it out.');
        else list.forEach((r, i) => {
          const m = typeof r === 'string' ? CIDR_RE.exec(r) : null;
          if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) c.error(`counterparties.azure.allowedIpRanges[${i}]`, r, 'is not an IPv4 address or CIDR range.', 'give e.g. "203.0.113.0/24".');
        });
      }
      if (a.mode !== undefined && a.mode !== 'standby' && a.mode !== 'active') c.error('counterparties.azure.mode', a.mode, 'is not a mode.', 'use "standby" (default) or "active" (failover).');
    }
  }

  // notifications, images, tags
  if (c.object('notifications', plan.notifications, 'give notifications: { emails: [...] }, or leave it out.', true)) {
    const n = plan.notifications;
    c.unknownKeys('notifications', n, ['emails']);
    if (n.emails !== undefined) {
      if (!Array.isArray(n.emails)) c.error('notifications.emails', n.emails, 'must be a list of e-mail addresses.', 'give e.g. ["oncall@example.com"].');
      else n.emails.forEach((e, i) => { if (typeof e !== 'string' || !EMAIL_RE.test(e)) c.error(`notifications.emails[${i}]`, e, 'is not an e-mail address.', 'give an address such as "oncall@example.com".'); });
    }
  }
  if (c.object('images', plan.images, 'give images: { application, jobs }, or leave it out.', true)) {
    const im = plan.images;
    c.unknownKeys('images', im, ['application', 'jobs']);
    for (const key of ['application', 'jobs'] as const) {
      if (im[key] !== undefined && (typeof im[key] !== 'string' || !IMAGE_RE.test(im[key] as string))) {
        c.error(`images.${key}`, im[key], 'is not a repository:tag image reference without a registry host.', 'give e.g. "contact-centre-app:1.4.2"; each side pulls it from its own registry.');
      }
    }
  }
  if (c.object('tags', plan.tags, 'give tags as { key: "value" }, or leave it out.', true)) {
    for (const [k, v] of Object.entries(plan.tags)) {
      if (!TAG_KEY_RE.test(k)) c.error(`tags.${k}`, k, 'is not a tag key every provider accepts.', 'use 1-63 letters, digits, underscores and hyphens, starting with a letter.');
      if (typeof v !== 'string' || v.length > 63 || !/^[\w.-]*$/.test(v)) c.error(`tags.${k}`, v, 'is not a tag value every provider accepts.', 'use up to 63 letters, digits, underscores, dots and hyphens.');
    }
  }

  // names derived by the contract
  if (pseudo) {
    const shorten = 'shorten system (or the account/region cannot change, so the system name must give way).';
    c.name('system', naming.exportBucketName(pseudo), naming.NAME_RULES.s3Bucket, shorten);
    c.name('system', naming.accessLogBucketName(pseudo), naming.NAME_RULES.s3Bucket, shorten);
    c.name('system', naming.gcpReaderRoleName(pseudo), naming.NAME_RULES.iamRole, 'shorten system.');
    c.name('system', naming.azureReaderRoleName(pseudo), naming.NAME_RULES.iamRole, 'shorten system.');
    const cp = plan.counterparties as Record<string, unknown> | undefined;
    if (cp?.gcp) {
      c.name('system', naming.gcpKeyRingName(pseudo), naming.NAME_RULES.gcpKeyRing, 'shorten system.');
      for (const role of GCP_SERVICE_ACCOUNT_ROLES) {
        c.name('system', naming.gcpServiceAccountId(pseudo, role), naming.NAME_RULES.gcpServiceAccountId, `shorten system to at most ${30 - role.length - 1} characters; GCP service account IDs are 6-30 characters.`);
      }
    }
    if (cp?.azure) {
      c.name('system', naming.azureStorageAccountName(pseudo), naming.NAME_RULES.azureStorageAccount,
        'shorten system to at most 19 letters and digits; the storage account is "<system without hyphens>vault", 3-24 lowercase alphanumerics.');
      c.name('system', naming.azureKeyVaultName(pseudo), naming.NAME_RULES.azureKeyVault, 'shorten system to at most 21 characters with no double hyphen; the Key Vault is "kv-<system>".');
      c.name('system', naming.azureContainerRegistryName(pseudo), naming.NAME_RULES.azureContainerRegistry, 'shorten system.');
    }
  }
  return c.issues;
}

/** The service-account roles the GCP counterparty creates (their IDs must fit GCP's 30-character limit). */
export const GCP_SERVICE_ACCOUNT_ROLES = ['verify', 'app', 'images'] as const;

/**
 * Validates a plan and fills in every default. Throws {@link PlanValidationError}
 * listing every error; warnings are returned on the resolved plan.
 */
export function resolvePlan(plan: ProtectionPlan): ResolvedPlan & { readonly warnings: readonly PlanIssue[] } {
  const issues = validatePlan(plan);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    const system = plan && typeof plan === 'object' && typeof plan.system === 'string' ? plan.system : '(unnamed)';
    throw new PlanValidationError(system, errors);
  }
  const cp = plan.counterparties;
  return {
    system: plan.system,
    primary: { account: plan.primary.account, region: plan.primary.region, ...(plan.primary.jobsNetwork ? { jobsNetwork: plan.primary.jobsNetwork } : {}) },
    datasets: plan.datasets.map((d) => (d.kind === 'dynamoDbTable' ? { ...d, pointInTimeRecovery: d.pointInTimeRecovery ?? true } : d.kind === 'postgres' ? { ...d, port: d.port ?? 5432 } : { ...d })),
    schedule: {
      cron: parseCron(plan.schedule?.cron ?? DEFAULTS.cron).expression,
      timeZone: plan.schedule?.timeZone ?? DEFAULTS.timeZone,
      exportWindowHours: plan.schedule?.exportWindowHours ?? DEFAULTS.exportWindowHours,
    },
    rpoHours: plan.rpoHours ?? DEFAULTS.rpoHours,
    alarmGraceHours: plan.alarmGraceHours ?? DEFAULTS.alarmGraceHours,
    retentionDays: plan.retentionDays,
    immutability: {
      mode: plan.immutability?.mode ?? 'governance',
      acknowledgeComplianceIsIrreversible: plan.immutability?.acknowledgeComplianceIsIrreversible ?? false,
      lock: plan.immutability?.lock ?? false,
      acknowledgeLockIsIrreversible: plan.immutability?.acknowledgeLockIsIrreversible ?? false,
      vaultLockChangeableForHours: plan.immutability?.vaultLockChangeableForHours ?? DEFAULTS.vaultLockChangeableForHours,
    },
    counterparties: {
      ...(cp.gcp ? { gcp: { ...cp.gcp, mode: cp.gcp.mode ?? 'standby' } } : {}),
      ...(cp.azure ? {
        azure: {
          ...cp.azure,
          mode: cp.azure.mode ?? 'standby',
          tokenAudience: cp.azure.tokenAudience ?? DEFAULTS.azureTokenAudience,
          allowedIpRanges: cp.azure.allowedIpRanges ?? [],
        },
      } : {}),
    },
    residency: plan.residency,
    notifications: { emails: plan.notifications?.emails ?? [] },
    images: { application: plan.images?.application ?? DEFAULTS.applicationImage, jobs: plan.images?.jobs ?? DEFAULTS.jobsImage },
    tags: plan.tags ?? {},
    warnings: issues.filter((i) => i.severity === 'warning'),
  };
}
