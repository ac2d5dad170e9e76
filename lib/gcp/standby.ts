/**
 * The standby environment: a small Cloud SQL for PostgreSQL instance (CMEK,
 * backups, deletion protection, private IP only) that the verifier restores
 * into every night, and a Cloud Run v2 Service for the contact-centre
 * application from this project's Artifact Registry, by digest.
 *
 * Two database identities, never shared: the restore user (a built-in user
 * with a generated password in Secret Manager, used only by the verify job)
 * and the application's own IAM database user (its service account, IAM
 * database authentication, no password): Cloud SQL gives IAM users no
 * privileges and no `cloudsqlsuperuser` membership, so the app can't run DDL;
 * the restore grants it DML on what it restores (`CP_PG_APP_ROLE`). The app's
 * service account may also read the vault bucket (`storage.objectViewer` on
 * that bucket only), e.g. to serve recordings.
 *
 * `mode` is the failover switch: `standby` keeps the service scaled to zero
 * and reachable only from inside the project's network (`INTERNAL_ONLY`);
 * `active` keeps `activeMinInstances` warm and opens ingress to all. See
 * docs/gcp.md "Failover runbook".
 */
import { Annotations, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { SqlDatabase } from '@cdktf/provider-google/lib/sql-database';
import { SqlDatabaseInstance } from '@cdktf/provider-google/lib/sql-database-instance';
import { SqlUser } from '@cdktf/provider-google/lib/sql-user';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member';
import type { CounterpartyMode } from '../core/plan';
import * as naming from '../core/naming';
import { RandomPassword, RandomProvider } from '../terraform/random-password';
import { TerraformStack } from 'cdktf';
import { invalid, STATEFUL } from './common';
import { isArtifactRegistryImage } from './scheduled-job';

/** PostgreSQL majors Cloud SQL offers that the jobs image's pg_dump/pg_restore 17 handle. */
export const SUPPORTED_POSTGRES_MAJORS: readonly number[] = [13, 14, 15, 16, 17];

/** Extensions that need a Cloud SQL database flag before `CREATE EXTENSION` works. */
export const EXTENSION_FLAGS: Readonly<Record<string, string>> = { pg_cron: 'cloudsql.enable_pg_cron', pgaudit: 'cloudsql.enable_pgaudit' };

/**
 * Extensions Cloud SQL for PostgreSQL supports (a subset of Google's list, see docs/gcp.md "Extensions");
 * others give a synth warning, not an error, since Google adds to the list.
 */
export const CLOUD_SQL_EXTENSIONS: readonly string[] = [
  'btree_gin', 'btree_gist', 'citext', 'cube', 'dblink', 'dict_int', 'earthdistance', 'fuzzystrmatch', 'hstore', 'intarray', 'isn', 'lo', 'ltree',
  'pg_buffercache', 'pg_cron', 'pg_partman', 'pg_stat_statements', 'pg_trgm', 'pgaudit', 'pgcrypto', 'pgrowlocks', 'pgstattuple', 'plpgsql', 'postgis',
  'postgres_fdw', 'seg', 'tablefunc', 'tsm_system_rows', 'tsm_system_time', 'unaccent', 'uuid-ossp', 'vector',
];

/**
 * The IAM database user of a user-managed service account: its e-mail without `.gserviceaccount.com`
 * (`<accountId>@<project>.iam`), Cloud SQL's rule for PostgreSQL.
 */
export function iamDatabaseUserName(serviceAccountId: string, projectId: string): string {
  return `${serviceAccountId}@${projectId}.iam`;
}

/** Ingress of the application service per mode. */
export const INGRESS: Readonly<Record<CounterpartyMode, string>> = {
  standby: 'INGRESS_TRAFFIC_INTERNAL_ONLY',
  active: 'INGRESS_TRAFFIC_ALL',
};

export interface StandbyEnvironmentProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The region of the database and the service. */
  readonly region: string;
  /** `standby` (scaled to zero, internal ingress) or `active` (serving: warm instances, public ingress). */
  readonly mode: CounterpartyMode;
  /** The Cloud KMS key ID for the database (CMEK). */
  readonly kmsKeyName: string;
  /**
   * The IAM grants that let the Cloud SQL service agent use the key; the instance depends on them.
   * @default []
   */
  readonly kmsGrants?: ITerraformDependable[];
  /** The Cloud SQL instance name (use `naming.gcpResourceName(plan, 'standby-db')`). Instance names can't be reused for a week after deletion. */
  readonly instanceName: string;
  /** The database the application uses and the verifier restores into. */
  readonly databaseName: string;
  /**
   * The restore user (the verify job's; never the application's).
   * @default 'counterparty'
   */
  readonly databaseUser?: string;
  /** The Secret Manager secret ID holding the restore user's generated password. */
  readonly passwordSecretId: string;
  /**
   * Self link or ID of a VPC network with private services access. Required: the instance gets a
   * private IP only (`ipv4_enabled = false`), and the service and jobs reach it by Direct VPC egress.
   */
  readonly network: string;
  /**
   * Machine tier.
   * @default 'db-custom-1-3840' (1 vCPU, 3.75 GB)
   */
  readonly tier?: string;
  /**
   * PostgreSQL major version, the primary's (plan postgres `engineVersion`), 13-17.
   * @default 16
   */
  readonly engineVersion?: number;
  /**
   * Extensions the restore creates (plan postgres `extensions`). Cloud SQL allows `CREATE EXTENSION`
   * for the extensions it supports; those that need a database flag get it (`EXTENSION_FLAGS`).
   * @default []
   */
  readonly extensions?: readonly string[];
  /**
   * Initial disk size in GB (it grows automatically).
   * @default 10
   */
  readonly diskSizeGb?: number;
  /** The Cloud Run service name (use `naming.gcpResourceName(plan, 'app')`). */
  readonly serviceName: string;
  /**
   * The application image in this project's Artifact Registry, by digest (`ImageRegistry.imageDigestUri`).
   * @default - no service: bootstrap (the registry is still empty; docs/gcp.md "Bootstrap")
   */
  readonly applicationImage?: string;
  /** The application's service account ID (use `naming.gcpServiceAccountId(plan, 'app')`). */
  readonly appServiceAccountId: string;
  /**
   * The vault bucket the application may read (`roles/storage.objectViewer` on that bucket only).
   * @default - no vault access
   */
  readonly vaultBucketName?: string;
  /**
   * Minimum warm instances while `active` (at least 1).
   * @default 1
   */
  readonly activeMinInstances?: number;
  /**
   * Maximum instances.
   * @default 10
   */
  readonly maxInstances?: number;
  /**
   * The container port the application listens on.
   * @default 8080
   */
  readonly containerPort?: number;
  /**
   * While `active`, let anyone invoke the service (`allUsers` → `roles/run.invoker`). Leave false when
   * an authenticating load balancer or IAP sits in front.
   * @default false
   */
  readonly publicInvokerWhenActive?: boolean;
  /**
   * Labels of the database and the service.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** Cloud SQL PostgreSQL (CMEK, backups, deletion protection, private IP only) + restore and app users + Cloud Run v2 Service with the standby/active switch. */
export class StandbyEnvironment extends Construct {
  public readonly instance: SqlDatabaseInstance;
  public readonly database: SqlDatabase;
  /** The restore user (password in `passwordSecret`). */
  public readonly user: SqlUser;
  /** The application's IAM database user (no password, no privileges until the restore grants DML). */
  public readonly appUser: SqlUser;
  public readonly passwordSecret: SecretManagerSecret;
  /** The secret's version: whoever reads the password depends on it. */
  public readonly passwordVersion: SecretManagerSecretVersion;
  /** The application service; absent while bootstrapping. */
  public readonly service?: CloudRunV2Service;
  public readonly appServiceAccount: ServiceAccount;
  /** The restore user's name. */
  public readonly databaseUser: string;
  /** The application's database user name (`<sa>@<project>.iam`). */
  public readonly appDatabaseUser: string;

  constructor(scope: Construct, id: string, props: StandbyEnvironmentProps) {
    super(scope, id);
    const { activeMin, maxInstances, engineVersion } = validateStandby(this, props);
    this.databaseUser = props.databaseUser ?? 'counterparty';
    this.appDatabaseUser = iamDatabaseUserName(props.appServiceAccountId, props.projectId);

    this.instance = new SqlDatabaseInstance(this, 'Database', {
      project: props.projectId,
      region: props.region,
      name: props.instanceName,
      databaseVersion: `POSTGRES_${engineVersion}`,
      encryptionKeyName: props.kmsKeyName,
      deletionProtection: true,
      settings: {
        tier: props.tier ?? 'db-custom-1-3840',
        edition: 'ENTERPRISE',
        availabilityType: 'ZONAL',
        diskType: 'PD_SSD',
        diskSize: props.diskSizeGb ?? 10,
        diskAutoresize: true,
        deletionProtectionEnabled: true,
        backupConfiguration: {
          enabled: true,
          pointInTimeRecoveryEnabled: true,
          startTime: '23:00',
          backupRetentionSettings: { retainedBackups: 14, retentionUnit: 'COUNT' },
        },
        // Private IP only: no public address at all, TLS required.
        ipConfiguration: { ipv4Enabled: false, privateNetwork: props.network, sslMode: 'ENCRYPTED_ONLY' },
        databaseFlags: databaseFlags(props.extensions ?? []),
        userLabels: props.labels,
      },
      dependsOn: props.kmsGrants,
      lifecycle: STATEFUL,
    });
    this.database = new SqlDatabase(this, 'AppDatabase', {
      project: props.projectId, instance: this.instance.name, name: props.databaseName, deletionPolicy: 'ABANDON', lifecycle: STATEFUL,
    });

    const stack = TerraformStack.of(this);
    if (!stack.node.tryFindChild('random')) new RandomProvider(stack, 'random');
    const password = new RandomPassword(this, 'Password', { length: 32 });
    this.passwordSecret = new SecretManagerSecret(this, 'PasswordSecret', {
      project: props.projectId,
      secretId: props.passwordSecretId,
      // Pinned to the region: automatic replication could store the secret outside the residency.
      replication: { userManaged: { replicas: [{ location: props.region }] } },
      deletionProtection: true,
      labels: props.labels,
      lifecycle: STATEFUL,
    });
    this.passwordVersion = new SecretManagerSecretVersion(this, 'PasswordVersion', { secret: this.passwordSecret.id, secretData: password.result });
    this.user = new SqlUser(this, 'User', {
      project: props.projectId, instance: this.instance.name, name: this.databaseUser, password: password.result, deletionPolicy: 'ABANDON',
    });

    this.appServiceAccount = new ServiceAccount(this, 'AppServiceAccount', {
      project: props.projectId, accountId: props.appServiceAccountId, displayName: 'Counterparty standby application',
    });
    this.appUser = new SqlUser(this, 'AppUser', {
      project: props.projectId, instance: this.instance.name, name: this.appDatabaseUser, type: 'CLOUD_IAM_SERVICE_ACCOUNT', deletionPolicy: 'ABANDON',
      dependsOn: [this.appServiceAccount],
    });
    const grants = this.grantApp(props);
    if (props.applicationImage !== undefined) this.service = this.newService(props, activeMin, maxInstances, [this.appUser, ...grants]);
  }

  /** Cloud SQL client + instance user (IAM login) on this instance only; object viewer on the vault only. */
  private grantApp(props: StandbyEnvironmentProps): ITerraformDependable[] {
    const member = this.appServiceAccount.member;
    const onThisInstance = {
      title: 'standby-instance-only',
      description: 'The standby Cloud SQL instance only.',
      expression: `resource.name == "projects/${props.projectId}/instances/${props.instanceName}"`,
    };
    const grants: ITerraformDependable[] = [
      new ProjectIamMember(this, 'AppConnectsToDb', { project: props.projectId, role: 'roles/cloudsql.client', member, condition: onThisInstance }),
      new ProjectIamMember(this, 'AppLogsInToDb', { project: props.projectId, role: 'roles/cloudsql.instanceUser', member, condition: onThisInstance }),
    ];
    if (props.vaultBucketName) {
      grants.push(new StorageBucketIamMember(this, 'AppReadsVault', { bucket: props.vaultBucketName, role: 'roles/storage.objectViewer', member }));
    }
    return grants;
  }

  private newService(props: StandbyEnvironmentProps, activeMin: number, maxInstances: number, dependsOn: ITerraformDependable[]): CloudRunV2Service {
    const active = props.mode === 'active';
    const service = new CloudRunV2Service(this, 'App', {
      project: props.projectId,
      location: props.region,
      name: props.serviceName,
      ingress: INGRESS[props.mode],
      deletionProtection: false,
      labels: { ...(props.labels ?? {}), 'counterparty-mode': props.mode },
      template: {
        serviceAccount: this.appServiceAccount.email,
        scaling: { minInstanceCount: active ? activeMin : 0, maxInstanceCount: maxInstances },
        containers: [{
          image: props.applicationImage!,
          ports: { containerPort: props.containerPort ?? 8080 },
          env: [
            { name: 'PGHOST', value: this.instance.privateIpAddress },
            { name: 'PGPORT', value: '5432' },
            { name: 'PGDATABASE', value: props.databaseName },
            { name: 'PGUSER', value: this.appDatabaseUser },
            // IAM database authentication: the password is the service account's OAuth access token (no stored secret).
            { name: 'PGSSLMODE', value: 'require' },
            { name: 'CP_PG_IAM_AUTH', value: 'true' },
            ...(props.vaultBucketName ? [{ name: 'CP_STORE', value: `gs://${props.vaultBucketName}` }] : []),
          ],
        }],
        vpcAccess: { networkInterfaces: [{ network: props.network }], egress: 'PRIVATE_RANGES_ONLY' },
      },
      dependsOn,
    });
    if (active && props.publicInvokerWhenActive) {
      new CloudRunV2ServiceIamMember(this, 'PublicInvoker', {
        project: props.projectId, location: props.region, name: service.name, role: 'roles/run.invoker', member: 'allUsers',
      });
    }
    return service;
  }
}

/** Database flags the plan's extensions need (`cloudsql.iam_authentication` is always on: the app logs in with IAM). */
function databaseFlags(extensions: readonly string[]): { name: string; value: string }[] {
  const flags = [{ name: 'cloudsql.iam_authentication', value: 'on' }];
  for (const ext of extensions) if (EXTENSION_FLAGS[ext]) flags.push({ name: EXTENSION_FLAGS[ext], value: 'on' });
  return flags;
}

function validateStandby(scope: Construct, props: StandbyEnvironmentProps): { activeMin: number; maxInstances: number; engineVersion: number } {
  if (props.mode !== 'standby' && props.mode !== 'active') invalid(scope, 'mode', props.mode, 'is not a mode.', 'use "standby" or "active" (the failover).');
  const activeMin = props.activeMinInstances ?? 1;
  if (!Number.isInteger(activeMin) || activeMin < 1 || activeMin > 100) {
    invalid(scope, 'activeMinInstances', activeMin, 'must be a whole number from 1 to 100: an active site keeps at least one instance warm.', 'give e.g. 1 or 2.');
  }
  const maxInstances = props.maxInstances ?? 10;
  if (!Number.isInteger(maxInstances) || maxInstances < activeMin) invalid(scope, 'maxInstances', maxInstances, `must be a whole number at least activeMinInstances (${activeMin}).`, 'raise maxInstances.');
  const saViolation = naming.nameRuleViolation(props.appServiceAccountId, naming.NAME_RULES.gcpServiceAccountId);
  if (saViolation) invalid(scope, 'appServiceAccountId', props.appServiceAccountId, `is invalid: ${saViolation}.`, 'use naming.gcpServiceAccountId(plan, "app") with a shorter system name.');
  if (props.applicationImage !== undefined && !isArtifactRegistryImage(props.applicationImage)) {
    invalid(scope, 'applicationImage', props.applicationImage, 'is not an Artifact Registry image; a failover must never pull from outside this project.', 'give ImageRegistry.imageDigestUri(plan.images.application).');
  }
  if (typeof props.network !== 'string' || props.network === '') {
    invalid(scope, 'network', props.network, 'is required: the standby database gets a private IP only (no public IP), reached over the VPC.',
      'give a VPC network with private services access (plan counterparties.gcp.network, e.g. "projects/<p>/global/networks/<name>"); docs/gcp.md "Prerequisites".');
  }
  const engineVersion = props.engineVersion ?? 16;
  if (!SUPPORTED_POSTGRES_MAJORS.includes(engineVersion)) {
    invalid(scope, 'engineVersion', engineVersion, `is not a PostgreSQL major the standby supports (${SUPPORTED_POSTGRES_MAJORS.join(', ')}).`, "give the primary's major version (plan postgres engineVersion).");
  }
  const unknown = (props.extensions ?? []).filter((e) => !CLOUD_SQL_EXTENSIONS.includes(e));
  if (unknown.length > 0) {
    Annotations.of(scope).addWarning(`${scope.node.path}: extensions ${unknown.join(', ')} are not on this library's list of Cloud SQL extensions; check Google's "Configure PostgreSQL extensions" page before relying on the restore creating them.`);
  }
  return { activeMin, maxInstances, engineVersion };
}
