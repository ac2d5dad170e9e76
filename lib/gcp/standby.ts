/**
 * The standby environment: a small Cloud SQL for PostgreSQL instance (CMEK,
 * backups, deletion protection, no open network path) that the verifier
 * restores into every night, and a Cloud Run v2 Service for the contact-centre
 * application from this project's Artifact Registry.
 *
 * `mode` is the failover switch: `standby` keeps the service scaled to zero
 * and reachable only from inside the project's network (`INTERNAL_ONLY`);
 * `active` keeps `activeMinInstances` warm and opens ingress to all. See
 * docs/gcp.md "Failover runbook".
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudRunV2Service } from '@cdktf/provider-google/lib/cloud-run-v2-service';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { SqlDatabase } from '@cdktf/provider-google/lib/sql-database';
import { SqlDatabaseInstance } from '@cdktf/provider-google/lib/sql-database-instance';
import { SqlUser } from '@cdktf/provider-google/lib/sql-user';
import type { CounterpartyMode } from '../core/plan';
import * as naming from '../core/naming';
import { RandomPassword, RandomProvider } from '../terraform/random-password';
import { TerraformStack } from 'cdktf';
import { invalid, STATEFUL } from './common';

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
   * The database user the application and the restorer use.
   * @default 'counterparty'
   */
  readonly databaseUser?: string;
  /** The Secret Manager secret ID holding that user's generated password. */
  readonly passwordSecretId: string;
  /**
   * Self link or ID of a VPC network (with private services access) for a private IP.
   * @default - no private IP: a public IP with no authorized networks, SSL required and Cloud SQL connectors enforced
   */
  readonly network?: string;
  /**
   * Machine tier.
   * @default 'db-custom-1-3840' (1 vCPU, 3.75 GB)
   */
  readonly tier?: string;
  /**
   * PostgreSQL major version.
   * @default 'POSTGRES_16'
   */
  readonly databaseVersion?: string;
  /**
   * Initial disk size in GB (it grows automatically).
   * @default 10
   */
  readonly diskSizeGb?: number;
  /** The Cloud Run service name (use `naming.gcpResourceName(plan, 'app')`). */
  readonly serviceName: string;
  /** The application image URI in this project's Artifact Registry. */
  readonly applicationImage: string;
  /** The application's service account ID (use `naming.gcpServiceAccountId(plan, 'app')`). */
  readonly appServiceAccountId: string;
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

/** Cloud SQL PostgreSQL (CMEK, backups, deletion protection, generated password in Secret Manager) + Cloud Run v2 Service with the standby/active switch. */
export class StandbyEnvironment extends Construct {
  public readonly instance: SqlDatabaseInstance;
  public readonly database: SqlDatabase;
  public readonly user: SqlUser;
  public readonly passwordSecret: SecretManagerSecret;
  public readonly service: CloudRunV2Service;
  public readonly appServiceAccount: ServiceAccount;
  public readonly databaseUser: string;

  constructor(scope: Construct, id: string, props: StandbyEnvironmentProps) {
    super(scope, id);
    if (props.mode !== 'standby' && props.mode !== 'active') invalid(this, 'mode', props.mode, 'is not a mode.', 'use "standby" or "active" (the failover).');
    const activeMin = props.activeMinInstances ?? 1;
    if (!Number.isInteger(activeMin) || activeMin < 1 || activeMin > 100) {
      invalid(this, 'activeMinInstances', activeMin, 'must be a whole number from 1 to 100: an active site keeps at least one instance warm.', 'give e.g. 1 or 2.');
    }
    const maxInstances = props.maxInstances ?? 10;
    if (!Number.isInteger(maxInstances) || maxInstances < activeMin) invalid(this, 'maxInstances', maxInstances, `must be a whole number at least activeMinInstances (${activeMin}).`, 'raise maxInstances.');
    const saViolation = naming.nameRuleViolation(props.appServiceAccountId, naming.NAME_RULES.gcpServiceAccountId);
    if (saViolation) invalid(this, 'appServiceAccountId', props.appServiceAccountId, `is invalid: ${saViolation}.`, 'use naming.gcpServiceAccountId(plan, "app") with a shorter system name.');
    if (!/^[a-z0-9-]+-docker\.pkg\.dev\//.test(props.applicationImage)) {
      invalid(this, 'applicationImage', props.applicationImage, 'is not an Artifact Registry image; a failover must never pull from outside this project.', 'give ImageRegistry.imageUri(plan.images.application).');
    }
    this.databaseUser = props.databaseUser ?? 'counterparty';
    const privateNetwork = props.network;

    this.instance = new SqlDatabaseInstance(this, 'Database', {
      project: props.projectId,
      region: props.region,
      name: props.instanceName,
      databaseVersion: props.databaseVersion ?? 'POSTGRES_16',
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
        ipConfiguration: privateNetwork
          ? { ipv4Enabled: false, privateNetwork, sslMode: 'ENCRYPTED_ONLY' }
          : { ipv4Enabled: true, authorizedNetworks: [], sslMode: 'ENCRYPTED_ONLY' },
        // Without a private network, only the Cloud SQL connectors (IAM-authorized, TLS) may connect.
        connectorEnforcement: privateNetwork ? 'NOT_REQUIRED' : 'REQUIRED',
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
    new SecretManagerSecretVersion(this, 'PasswordVersion', { secret: this.passwordSecret.id, secretData: password.result });
    this.user = new SqlUser(this, 'User', {
      project: props.projectId, instance: this.instance.name, name: this.databaseUser, password: password.result, deletionPolicy: 'ABANDON',
    });

    this.appServiceAccount = new ServiceAccount(this, 'AppServiceAccount', {
      project: props.projectId, accountId: props.appServiceAccountId, displayName: 'Counterparty standby application',
    });
    const appMember = this.appServiceAccount.member;
    new SecretManagerSecretIamMember(this, 'AppReadsDbPassword', { secretId: this.passwordSecret.id, role: 'roles/secretmanager.secretAccessor', member: appMember });
    new ProjectIamMember(this, 'AppConnectsToDb', {
      project: props.projectId,
      role: 'roles/cloudsql.client',
      member: appMember,
      condition: {
        title: 'standby-instance-only',
        description: 'Connect to the standby Cloud SQL instance only.',
        expression: `resource.name == "projects/${props.projectId}/instances/${props.instanceName}"`,
      },
    });

    const active = props.mode === 'active';
    this.service = new CloudRunV2Service(this, 'App', {
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
          image: props.applicationImage,
          ports: { containerPort: props.containerPort ?? 8080 },
          env: [
            { name: 'PGHOST', value: privateNetwork ? this.instance.privateIpAddress : `/cloudsql/${this.instance.connectionName}` },
            { name: 'PGPORT', value: '5432' },
            { name: 'PGDATABASE', value: props.databaseName },
            { name: 'PGUSER', value: this.databaseUser },
            { name: 'PGPASSWORD', valueSource: { secretKeyRef: { secret: this.passwordSecret.id, version: 'latest' } } },
          ],
          volumeMounts: privateNetwork ? undefined : [{ name: 'cloudsql', mountPath: '/cloudsql' }],
        }],
        volumes: privateNetwork ? undefined : [{ name: 'cloudsql', cloudSqlInstance: { instances: [this.instance.connectionName] } }],
        vpcAccess: privateNetwork ? { networkInterfaces: [{ network: privateNetwork }], egress: 'PRIVATE_RANGES_ONLY' } : undefined,
      },
    });
    if (active && props.publicInvokerWhenActive) {
      new CloudRunV2ServiceIamMember(this, 'PublicInvoker', {
        project: props.projectId, location: props.region, name: this.service.name, role: 'roles/run.invoker', member: 'allUsers',
      });
    }
  }
}
