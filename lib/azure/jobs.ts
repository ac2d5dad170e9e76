/**
 * The two scheduled Container Apps Jobs of the counterparty, both running the
 * project's jobs image (see docs/ARCHITECTURE.md, "The jobs image and CLI"):
 *
 * - `copy`: keyless nightly copy of the export bucket into the immutable
 *   account. Its user-assigned identity gets an Entra token for the plan's
 *   audience and assumes the AWS reader role by web identity. No AWS keys.
 * - `verify-and-restore`: checks the night's manifest against what arrived and
 *   restores it into the standby database.
 * - `mirror`: copies the plan's images from ECR into this side's registry, by digest (keyless too).
 * - `prune`: deletes blobs that no retained night references, once their immutability has expired.
 *
 * The keyless jobs (copy, mirror) carry what the AWS role trusts (`CP_TRUSTED_ISSUER`,
 * `CP_TRUSTED_AUDIENCE`, `CP_TRUSTED_SUBJECT`) and check their own token against it before they start
 * (lib/runtime/federation.ts).
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { ContainerAppJob, type ContainerAppJobTemplateContainerEnv } from '@cdktf/provider-azurerm/lib/container-app-job';
import { CronSyntaxError, parseCron } from '../core';
import { CONSUMPTION_PROFILE } from './environment';
import { invalidProp } from './util';

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const STORE_RE = /^azblob:\/\/[a-z0-9]{3,24}\/[a-z0-9-]{3,63}$|^azblob:\/\/\$\{.+\}\/[a-z0-9-]{3,63}$/;

/** The identity a job runs as. */
export interface JobIdentity {
  /** Resource ID of the user-assigned identity. */
  readonly id: string;
  /** Its client ID (set as `AZURE_CLIENT_ID`, so the job's credential chain picks it). */
  readonly clientId: string;
}

/** Settings every counterparty job shares. */
export interface CounterpartyJobProps {
  /** Job name (2-32 lowercase letters, digits and hyphens). */
  readonly name: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /** Container Apps environment ID. */
  readonly environmentId: string;
  /** The identity the job runs as (and pulls its image with). */
  readonly identity: JobIdentity;
  /** Login server of the registry the image is pulled from (this side's ACR, never ECR). */
  readonly registryServer: string;
  /** Full image reference in that registry, e.g. `<acr>.azurecr.io/counterparty-jobs:0.1.0`. */
  readonly image: string;
  /** 5-field cron, UTC (Container Apps schedules are UTC). */
  readonly cronExpression: string;
  /** `CP_STORE`: `azblob://<account>/<container>`. */
  readonly store: string;
  /**
   * vCPUs (Consumption profile: 0.25-4, memory is 2 GiB per vCPU).
   * @default 1
   */
  readonly cpu?: number;
  /**
   * Seconds a run may take before it is stopped.
   * @default 14400 (4 hours)
   */
  readonly timeoutSeconds?: number;
  /**
   * Retries of a failed run.
   * @default 1
   */
  readonly retryLimit?: number;
  /**
   * Extra plain environment variables (added after the job's own; the job's own win).
   * @default {}
   */
  readonly extraEnvironment?: Record<string, string>;
  /**
   * What must exist before the job (its role assignments, so the first run can pull and read).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

function validateCommon(scope: Construct, props: CounterpartyJobProps): { cpu: number; timeout: number } {
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(props.name) || props.name.includes('--')) {
    invalidProp(scope, 'name', props.name, 'is not a Container Apps job name.', 'use 2-32 lowercase letters, digits and single hyphens, starting with a letter.');
  }
  try {
    const cron = parseCron(props.cronExpression);
    if (cron.minute.values.length !== 1 || cron.hour.values.length !== 1) {
      invalidProp(scope, 'cronExpression', props.cronExpression, 'fires more than once a day.', 'give one minute and one hour, e.g. "0 5 * * *" (derive it with counterpartySchedule(plan)).');
    }
  } catch (e) {
    if (e instanceof CronSyntaxError) invalidProp(scope, 'cronExpression', props.cronExpression, e.message, 'give a 5-field cron, e.g. "0 5 * * *".');
    throw e;
  }
  if (!STORE_RE.test(props.store)) invalidProp(scope, 'store', props.store, 'is not an azblob:// store URL.', 'give azblob://<account>/<container>, e.g. from ImmutableStorageAccount.storeUrl().');
  const cpu = props.cpu ?? 1;
  if (![0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4].includes(cpu)) invalidProp(scope, 'cpu', cpu, 'is not a Consumption-profile vCPU size.', 'use 0.25 to 2 in steps of 0.25, or 2.5 to 4 in steps of 0.5.');
  const timeout = props.timeoutSeconds ?? 14400;
  if (!Number.isInteger(timeout) || timeout < 60 || timeout > 86400) invalidProp(scope, 'timeoutSeconds', timeout, 'is outside 60-86400.', 'give the longest run you expect, in whole seconds, at most a day.');
  return { cpu, timeout };
}

/** What the AWS role trusts (the federation self-check's `CP_TRUSTED_*`). */
export interface TrustedFederation {
  /** `CP_TRUSTED_ISSUER`: the IAM OIDC provider URL, `naming.azureOidcIssuer(tenantId)`. */
  readonly issuer: string;
  /** `CP_TRUSTED_AUDIENCE`: the provider's client ID and the role's `aud` condition, `naming.azureFederationAudience(plan)`. */
  readonly audience: string;
  /**
   * `CP_TRUSTED_SUBJECT`: the role's `sub` condition, i.e. the principal ID the plan gives AWS for this identity.
   * @default - not set: the job's self-check fails until the plan carries the principal ID (the AWS role doesn't exist either)
   */
  readonly subject?: string;
}

function trustEnv(trusted: TrustedFederation): Record<string, string> {
  return {
    CP_TRUSTED_ISSUER: trusted.issuer,
    CP_TRUSTED_AUDIENCE: trusted.audience,
    ...(trusted.subject ? { CP_TRUSTED_SUBJECT: trusted.subject } : {}),
  };
}

function validateTrust(scope: Construct, trusted: TrustedFederation, tokenAudience: string): void {
  if (!/^https:\/\/\S+\/$/.test(trusted.issuer)) invalidProp(scope, 'trusted.issuer', trusted.issuer, 'is not an issuer URL ending in "/".', 'give naming.azureOidcIssuer(tenantId), https://sts.windows.net/<tenant>/.');
  if (trusted.audience !== tokenAudience) {
    invalidProp(scope, 'trusted.audience', trusted.audience, `differs from tokenAudience (${tokenAudience}): the token would never carry the audience AWS trusts.`, 'derive both with naming.azureFederationAudience(plan).');
  }
}

function makeJob(scope: Construct, props: CounterpartyJobProps, command: string, env: ContainerAppJobTemplateContainerEnv[], secrets: { name: string; keyVaultSecretId: string }[] = []): ContainerAppJob {
  const { cpu, timeout } = validateCommon(scope, props);
  const own = new Set(['AZURE_CLIENT_ID', ...env.map((e) => e.name)]);
  const extra = Object.entries(props.extraEnvironment ?? {}).filter(([name]) => !own.has(name)).map(([name, value]) => ({ name, value }));
  return new ContainerAppJob(scope, 'Job', {
    name: props.name,
    resourceGroupName: props.resourceGroupName,
    location: props.location,
    containerAppEnvironmentId: props.environmentId,
    workloadProfileName: CONSUMPTION_PROFILE,
    replicaTimeoutInSeconds: timeout,
    replicaRetryLimit: props.retryLimit ?? 1,
    scheduleTriggerConfig: { cronExpression: props.cronExpression, parallelism: 1, replicaCompletionCount: 1 },
    identity: { type: 'UserAssigned', identityIds: [props.identity.id] },
    registry: [{ server: props.registryServer, identity: props.identity.id }],
    secret: secrets.length > 0 ? secrets.map((s) => ({ name: s.name, keyVaultSecretId: s.keyVaultSecretId, identity: props.identity.id })) : undefined,
    template: {
      container: [{
        name: command,
        image: props.image,
        args: [command],
        cpu,
        memory: `${cpu * 2}Gi`,
        env: [{ name: 'AZURE_CLIENT_ID', value: props.identity.clientId }, ...env, ...extra],
      }],
    },
    tags: props.tags,
    dependsOn: props.dependsOn,
  });
}

export interface NightlyCopyJobProps extends CounterpartyJobProps {
  /** `CP_SOURCE_BUCKET`: the primary's export bucket (`naming.exportBucketName(plan)`). */
  readonly sourceBucket: string;
  /** `AWS_REGION`: the primary's region. */
  readonly sourceRegion: string;
  /** `AWS_ROLE_ARN`: the AWS reader role the identity assumes by web identity (`naming.azureReaderRoleArn(plan)`). */
  readonly roleArn: string;
  /** `CP_AZURE_TOKEN_AUDIENCE`: the audience of the Entra token (the AWS role requires it as `aud`): `naming.azureFederationAudience(plan)`. */
  readonly tokenAudience: string;
  /**
   * What the AWS reader role trusts; the job checks its own token against it before copying.
   * @default - issuer and audience unknown: the self-check fails closed (`CP_TRUSTED_*` unset)
   */
  readonly trusted?: TrustedFederation;
  /**
   * This job's shard of the copy (`CP_SHARD=<index>/<count>`): the blobs are split by their two-hex prefix
   * across `count` jobs that run in parallel; shard 0 also takes the night files (docs/azure.md, "Copy throughput").
   * @default - no sharding: one job copies everything
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /**
   * `CP_COPY_PHASE`: `data` (everything but the manifests), `manifests` (only the manifests), or `all` (data,
   * then the manifests once the data succeeded). Sharded data jobs run `data`; one `manifests` job follows.
   * @default 'all'
   */
  readonly phase?: 'all' | 'data' | 'manifests';
}

/** The nightly keyless copy (`copy` command): Entra token → AWS web identity → incremental copy into `CP_STORE`. */
export class NightlyCopyJob extends Construct {
  public readonly job: ContainerAppJob;
  /** The job's environment, as synthesized (for tests and docs). */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: NightlyCopyJobProps) {
    super(scope, id);
    if (!ROLE_ARN_RE.test(props.roleArn)) invalidProp(this, 'roleArn', props.roleArn, 'is not an IAM role ARN.', 'give naming.azureReaderRoleArn(plan).');
    if (!props.tokenAudience) invalidProp(this, 'tokenAudience', props.tokenAudience, 'is empty.', 'give the plan\'s counterparties.azure.tokenAudience (default api://AzureADTokenExchange).');
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(props.sourceRegion)) invalidProp(this, 'sourceRegion', props.sourceRegion, 'is not an AWS region.', 'give the primary\'s region, e.g. "eu-central-1".');
    if (props.trusted) validateTrust(this, props.trusted, props.tokenAudience);
    const shard = props.shard;
    if (shard && (!Number.isInteger(shard.count) || shard.count < 1 || shard.count > 256 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count)) {
      invalidProp(this, 'shard', shard, 'is not a shard of the copy.', 'give { index: 0..count-1, count: 1..256 }.');
    }
    const phase = props.phase ?? 'all';
    if (!['all', 'data', 'manifests'].includes(phase)) invalidProp(this, 'phase', phase, 'is not a copy phase.', 'use "all", "data" or "manifests".');
    const env: Record<string, string> = {
      CP_SOURCE_BUCKET: props.sourceBucket,
      AWS_REGION: props.sourceRegion,
      AWS_ROLE_ARN: props.roleArn,
      CP_AZURE_TOKEN_AUDIENCE: props.tokenAudience,
      CP_STORE: props.store,
      ...(props.trusted ? trustEnv(props.trusted) : {}),
      ...(shard && shard.count > 1 ? { CP_SHARD: `${shard.index}/${shard.count}` } : {}),
      ...(phase !== 'all' ? { CP_COPY_PHASE: phase } : {}),
    };
    this.environment = env;
    this.job = makeJob(this, props, 'copy', Object.entries(env).map(([name, value]) => ({ name, value })));
  }
}

/** Where the verifier's restore goes. */
export interface StandbyDatabaseConnection {
  /** `PGHOST`. */
  readonly host: string;
  /**
   * `PGPORT`.
   * @default 5432
   */
  readonly port?: number;
  /** `PGDATABASE`. */
  readonly databaseName: string;
  /**
   * `CP_PG_DATABASES`: the database each postgres dataset is restored into (`naming.standbyDatabasesEnv(plan.datasets)`).
   * @default - each dataset restores into a database named after the dataset
   */
  readonly datasetDatabases?: string;
  /** `PGUSER`. */
  readonly user: string;
  /** Versionless Key Vault secret ID of the password (read by the job's identity; never in the template). */
  readonly passwordSecretId: string;
  /**
   * The application's own login (`CP_APP_DB_USER`, password `CP_APP_DB_PASSWORD` from this secret): the restore
   * (re)creates it without superuser, CREATEDB or CREATEROLE, and grants it data rights only (no DDL), so the
   * standby app never logs in as the restore/admin user.
   * @default - no application login is managed
   */
  readonly application?: { readonly user: string; readonly passwordSecretId: string };
}

export interface VerifyRestoreJobProps extends CounterpartyJobProps {
  /** The standby database the night is restored into. */
  readonly database: StandbyDatabaseConnection;
  /**
   * `CP_NIGHT`: the night to verify.
   * @default 'latest'
   */
  readonly night?: string;
  /**
   * Restore the verified night into the standby database after verifying it.
   * Set false while the counterparty is serving (plan `mode: 'active'`): a
   * nightly restore would overwrite the now-live database, so the job only verifies.
   * @default true
   */
  readonly restore?: boolean;
  /**
   * Freshness and completeness settings from the plan (docs/runtime.md, "Log lines and alert conditions"):
   * `CP_RPO_HOURS`, `CP_ALARM_GRACE_HOURS`, `CP_DATASETS` (`name:kind[:allowEmpty]`).
   * @default - the runtime's defaults (24 h, 6 h) and no completeness check against the plan
   */
  readonly freshness?: { readonly rpoHours: number; readonly alarmGraceHours: number; readonly datasets?: string };
}

/**
 * The `verify-and-restore` job: verifies the night against its manifest, then restores it into the standby
 * (`verify` only when `restore` is false, i.e. while the counterparty is serving).
 */
export class VerifyRestoreJob extends Construct {
  public readonly job: ContainerAppJob;
  /** The job's plain environment (the password is a Key Vault reference, not listed). */
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: VerifyRestoreJobProps) {
    super(scope, id);
    const port = props.database.port ?? 5432;
    if (!Number.isInteger(port) || port < 1 || port > 65535) invalidProp(this, 'database.port', port, 'is not a TCP port.', 'give 5432 or the server\'s port.');
    const env: Record<string, string> = {
      CP_STORE: props.store,
      CP_NIGHT: props.night ?? 'latest',
      PGHOST: props.database.host,
      PGPORT: String(port),
      PGDATABASE: props.database.databaseName,
      PGUSER: props.database.user,
      PGSSLMODE: 'require',
      ...(props.database.datasetDatabases ? { CP_PG_DATABASES: props.database.datasetDatabases } : {}),
      ...(props.database.application ? { CP_APP_DB_USER: props.database.application.user } : {}),
      ...(props.freshness ? { CP_RPO_HOURS: String(props.freshness.rpoHours), CP_ALARM_GRACE_HOURS: String(props.freshness.alarmGraceHours) } : {}),
      ...(props.freshness?.datasets ? { CP_DATASETS: props.freshness.datasets } : {}),
    };
    const app = props.database.application;
    if (app && (app.user === props.database.user || !/^[a-z_][a-z0-9_]{0,62}$/.test(app.user))) {
      invalidProp(this, 'database.application.user', app.user, `must be a lowercase login other than the restore user (${props.database.user}).`, 'give e.g. "cp_app".');
    }
    this.environment = env;
    const secretEnv = [{ name: 'PGPASSWORD', secretName: 'pg-password' }, ...(app ? [{ name: 'CP_APP_DB_PASSWORD', secretName: 'app-db-password' }] : [])];
    const secrets = [{ name: 'pg-password', keyVaultSecretId: props.database.passwordSecretId }, ...(app ? [{ name: 'app-db-password', keyVaultSecretId: app.passwordSecretId }] : [])];
    this.job = makeJob(this, props, props.restore === false ? 'verify' : 'verify-and-restore',
      [...Object.entries(env).map(([name, value]) => ({ name, value })), ...secretEnv], secrets);
  }
}

export interface ImageMirrorJobProps extends CounterpartyJobProps {
  /** `CP_MIRROR_SOURCE`: the primary's ECR registry host, `<account>.dkr.ecr.<region>.amazonaws.com`. */
  readonly sourceRegistry: string;
  /** `CP_IMAGES`: the plan's images, `repo:tag` (no registry host). */
  readonly images: readonly string[];
  /**
   * `CP_KEEP_RELEASES`: releases of each repository kept in this registry (plan `images.keepReleases`).
   * @default 5
   */
  readonly keepReleases?: number;
  /** `AWS_REGION`: the primary's region. */
  readonly sourceRegion: string;
  /** `AWS_ROLE_ARN`: the ECR-pull role the identity assumes by web identity (`naming.azureMirrorRoleArn(plan)`). */
  readonly roleArn: string;
  /** `CP_MIRROR_TOKEN_AUDIENCE` (and `CP_AZURE_TOKEN_AUDIENCE`): `naming.azureFederationAudience(plan)`. */
  readonly tokenAudience: string;
  /** What the AWS mirror role trusts; checked before mirroring. */
  readonly trusted: TrustedFederation;
}

/**
 * The nightly image mirror (`mirror`): every image of the plan from ECR into this side's registry, by digest,
 * keeping the last `keepReleases` releases; its result line reports `imagesMissing`, which the image-presence
 * alert keys on. Runnable on demand too (`az containerapp job start`). Its identity holds `AcrPush` on this
 * registry only.
 */
export class ImageMirrorJob extends Construct {
  public readonly job: ContainerAppJob;
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ImageMirrorJobProps) {
    super(scope, id);
    if (!ROLE_ARN_RE.test(props.roleArn)) invalidProp(this, 'roleArn', props.roleArn, 'is not an IAM role ARN.', 'give naming.azureMirrorRoleArn(plan).');
    if (!/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(props.sourceRegistry)) {
      invalidProp(this, 'sourceRegistry', props.sourceRegistry, 'is not an ECR registry host.', 'give <account>.dkr.ecr.<region>.amazonaws.com.');
    }
    if (props.images.length === 0) invalidProp(this, 'images', props.images, 'is empty.', 'give the plan\'s images (application and jobs).');
    for (const image of props.images) {
      if (!/^[a-z0-9][a-z0-9._/-]*:[\w][\w.-]{0,127}(@sha256:[0-9a-f]{64})?$/.test(image)) invalidProp(this, 'images', image, 'is not repo:tag.', 'give e.g. "counterparty-jobs:0.2.0" (no registry host).');
    }
    const keep = props.keepReleases ?? 5;
    if (!Number.isInteger(keep) || keep < 1 || keep > 100) invalidProp(this, 'keepReleases', keep, 'is outside 1-100.', 'give the plan\'s images.keepReleases.');
    validateTrust(this, props.trusted, props.tokenAudience);
    const env: Record<string, string> = {
      CP_MIRROR_SOURCE: props.sourceRegistry,
      CP_MIRROR_DESTINATION: props.registryServer,
      CP_IMAGES: props.images.map((i) => i.replace(/@sha256:[0-9a-f]{64}$/, '')).join(','),
      CP_KEEP_RELEASES: String(keep),
      CP_MIRROR_AUTH: 'azure',
      CP_MIRROR_TOKEN_AUDIENCE: props.tokenAudience,
      CP_AZURE_TOKEN_AUDIENCE: props.tokenAudience,
      AWS_REGION: props.sourceRegion,
      AWS_ROLE_ARN: props.roleArn,
      ...trustEnv(props.trusted),
    };
    this.environment = env;
    this.job = makeJob(this, props, 'mirror', Object.entries(env).map(([name, value]) => ({ name, value })));
  }
}

export interface PruneJobProps extends CounterpartyJobProps {
  /**
   * `CP_PRUNE_DRY_RUN=1`: report what would be deleted, delete nothing.
   * @default false
   */
  readonly dryRun?: boolean;
}

/**
 * The prune job (`prune`): deletes blobs no retained night references, once their immutability period has
 * expired (storage refuses earlier deletes anyway), and reports what it kept and removed. Its identity may
 * delete under the blob prefix only (an ABAC condition) and read the rest.
 */
export class PruneJob extends Construct {
  public readonly job: ContainerAppJob;
  public readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PruneJobProps) {
    super(scope, id);
    const env: Record<string, string> = { CP_STORE: props.store, ...(props.dryRun ? { CP_PRUNE_DRY_RUN: '1' } : {}) };
    this.environment = env;
    this.job = makeJob(this, props, 'prune', Object.entries(env).map(([name, value]) => ({ name, value })));
  }
}
