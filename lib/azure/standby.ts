/**
 * The standby environment: a small PostgreSQL Flexible Server that the
 * verifier restores into every night, and the contact-centre application as
 * a Container App that stays scaled to zero, with no external ingress, until
 * the plan's `mode` is switched to `active` (the failover switch).
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { ContainerApp } from '@cdktf/provider-azurerm/lib/container-app';
import { KeyVaultSecret } from '@cdktf/provider-azurerm/lib/key-vault-secret';
import { PostgresqlFlexibleServer } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server';
import { PostgresqlFlexibleServerConfiguration } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server-configuration';
import { PostgresqlFlexibleServerDatabase } from '@cdktf/provider-azurerm/lib/postgresql-flexible-server-database';
import { ManagementLock } from '@cdktf/provider-azurerm/lib/management-lock';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import type { CounterpartyMode } from '../core';
import { RandomPassword } from '../terraform/random-password';
import { CONSUMPTION_PROFILE } from './environment';
import { invalidProp, ROLES } from './util';

/**
 * PostgreSQL major versions a standby may run: what Flexible Server offers in azurerm 4.55 and the restore
 * path is tested for (13-17; 11 and 12 are past community end of life). docs/azure.md cites the pages.
 */
export const FLEXIBLE_SERVER_VERSIONS = ['13', '14', '15', '16', '17'] as const;

/**
 * Extensions Azure Database for PostgreSQL flexible server allow-lists through `azure.extensions`
 * ("Extensions and modules by engine version", docs/azure.md). `plpgsql` is always there and needs no entry.
 */
export const FLEXIBLE_SERVER_EXTENSIONS: readonly string[] = [
  'address_standardizer', 'address_standardizer_data_us', 'age', 'amcheck', 'anon', 'azure_ai', 'azure_storage', 'bloom', 'btree_gin', 'btree_gist',
  'citext', 'cube', 'dblink', 'dict_int', 'dict_xsyn', 'earthdistance', 'fuzzystrmatch', 'hll', 'hstore', 'hypopg', 'intagg', 'intarray', 'isn', 'lo',
  'login_hook', 'ltree', 'oracle_fdw', 'orafce', 'pageinspect', 'pg_buffercache', 'pg_cron', 'pg_diskann', 'pg_freespacemap', 'pg_hint_plan',
  'pg_partman', 'pg_prewarm', 'pg_repack', 'pg_squeeze', 'pg_stat_statements', 'pg_trgm', 'pg_visibility', 'pgaudit', 'pgcrypto', 'pglogical',
  'pgrouting', 'pgrowlocks', 'pgstattuple', 'plv8', 'postgis', 'postgis_raster', 'postgis_sfcgal', 'postgis_tiger_geocoder', 'postgis_topology',
  'postgres_fdw', 'postgres_protobuf', 'semver', 'session_variable', 'sslinfo', 'tablefunc', 'tdigest', 'tds_fdw', 'timescaledb', 'topn',
  'tsm_system_rows', 'tsm_system_time', 'unaccent', 'uuid-ossp', 'vector',
];

export interface StandbyDatabaseProps {
  /** Server name (global DNS name: 3-63 lowercase letters, digits and hyphens). */
  readonly name: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /** Key Vault (resource ID) that keeps the generated administrator password. */
  readonly keyVaultId: string;
  /** Customer-managed key: versionless key ID and the identity holding `Key Vault Crypto Service Encryption User` on it. */
  readonly encryption: { readonly keyVaultKeyId: string; readonly identityId: string };
  /**
   * Databases to create (the restore targets).
   * @default []
   */
  readonly databases?: readonly string[];
  /**
   * SKU (`<tier>_<size>`).
   * @default 'B_Standard_B1ms'
   */
  readonly skuName?: string;
  /**
   * PostgreSQL major version.
   * @default '16'
   */
  readonly version?: string;
  /**
   * Extensions the restored databases use: allow-listed with the `azure.extensions` server parameter, so
   * the restore's `CREATE EXTENSION` succeeds (Flexible Server refuses any other). From the plan's postgres
   * datasets' `extensions`.
   * @default []
   */
  readonly extensions?: readonly string[];
  /**
   * The application's own login: a generated password is kept in Key Vault (secret `standby-db-app-password`),
   * and the restore job (re)creates the login with data rights only (no DDL, no superuser).
   * @default - none
   */
  readonly applicationLogin?: string;
  /**
   * Storage in MB.
   * @default 32768
   */
  readonly storageMb?: number;
  /**
   * Automated backup retention, 7-35 days.
   * @default 7
   */
  readonly backupRetentionDays?: number;
  /**
   * Geo-redundant backups (where the location has a pair). With the CMK this needs a key and
   * identity in the paired region: `geoBackupKeyVaultKeyId` and `geoBackupIdentityId`.
   * @default false
   */
  readonly geoRedundantBackup?: boolean;
  /**
   * Versionless key ID in the paired region, for geo-redundant backups.
   * @default - none (required when geoRedundantBackup is true)
   */
  readonly geoBackupKeyVaultKeyId?: string;
  /**
   * User-assigned identity (resource ID) that may use `geoBackupKeyVaultKeyId`.
   * @default - none (required when geoRedundantBackup is true)
   */
  readonly geoBackupIdentityId?: string;
  /**
   * Administrator login.
   * @default 'cpadmin'
   */
  readonly administratorLogin?: string;
  /**
   * Name of the Key Vault secret holding the administrator password.
   * @default 'standby-db-admin-password'
   */
  readonly passwordSecretName?: string;
  /**
   * Subnet delegated to `Microsoft.DBforPostgreSQL/flexibleServers` (VNet integration).
   * @default - none: no VNet integration
   */
  readonly delegatedSubnetId?: string;
  /**
   * Private DNS zone ID for VNet integration (required with `delegatedSubnetId`).
   * @default - none
   */
  readonly privateDnsZoneId?: string;
  /**
   * Allow connections over the public endpoint. Must stay false with VNet integration.
   * @default false
   */
  readonly publicNetworkAccess?: boolean;
  /**
   * What the server waits for (the CMK role assignment, the private DNS link).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * What the password secret waits for (the deployer's Key Vault rights).
   * @default []
   */
  readonly secretDependsOn?: ITerraformDependable[];
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** PostgreSQL Flexible Server: small SKU, backups, CMK, no public access, password generated into Key Vault. */
export class StandbyDatabase extends Construct {
  public readonly server: PostgresqlFlexibleServer;
  public readonly password: RandomPassword;
  public readonly passwordSecret: KeyVaultSecret;
  public readonly administratorLogin: string;
  public readonly databases: PostgresqlFlexibleServerDatabase[] = [];
  /** `CanNotDelete` lock on the server: Flexible Server has no deletion-protection flag, so the lock is its deletion protection. */
  public readonly deleteLock: ManagementLock;
  /** The `azure.extensions` server parameter (when extensions are given). */
  public readonly extensionsConfiguration?: PostgresqlFlexibleServerConfiguration;
  /** The application login's password secret (when `applicationLogin` is given). */
  public readonly applicationPasswordSecret?: KeyVaultSecret;
  public readonly applicationLogin?: string;

  constructor(scope: Construct, id: string, props: StandbyDatabaseProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(props.name)) invalidProp(this, 'name', props.name, 'is not a PostgreSQL server name.', 'use 3-63 lowercase letters, digits and hyphens.');
    const retention = props.backupRetentionDays ?? 7;
    if (!Number.isInteger(retention) || retention < 7 || retention > 35) invalidProp(this, 'backupRetentionDays', retention, 'is outside what Flexible Server allows.', 'use a whole number of days from 7 to 35.');
    const geo = props.geoRedundantBackup ?? false;
    if (geo && (!props.geoBackupKeyVaultKeyId || !props.geoBackupIdentityId)) {
      invalidProp(this, 'geoRedundantBackup', true, 'with a customer-managed key needs a key and identity in the paired region.', 'give geoBackupKeyVaultKeyId and geoBackupIdentityId, or leave geoRedundantBackup false.');
    }
    if (Boolean(props.delegatedSubnetId) !== Boolean(props.privateDnsZoneId)) {
      invalidProp(this, 'privateDnsZoneId', props.privateDnsZoneId, 'must be given together with delegatedSubnetId.', 'give both (VNet integration) or neither.');
    }
    if (props.delegatedSubnetId && props.publicNetworkAccess) {
      invalidProp(this, 'publicNetworkAccess', true, 'cannot be combined with VNet integration (delegatedSubnetId).', 'leave publicNetworkAccess false.');
    }
    const login = props.administratorLogin ?? 'cpadmin';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(login) || ['admin', 'azure_superuser', 'postgres', 'root', 'guest', 'public'].includes(login) || login.startsWith('pg_')) {
      invalidProp(this, 'administratorLogin', login, 'is not an administrator login Flexible Server accepts.', 'use a lowercase name that is not reserved, e.g. "cpadmin".');
    }
    this.administratorLogin = login;
    const version = props.version ?? '16';
    if (!(FLEXIBLE_SERVER_VERSIONS as readonly string[]).includes(version)) {
      invalidProp(this, 'version', version, `is not a PostgreSQL major version a Flexible Server standby runs (${FLEXIBLE_SERVER_VERSIONS.join(', ')}).`,
        'set the plan\'s postgres engineVersion to the primary\'s major version, 13 to 17 (upgrade the primary first if it is older).');
    }
    const extensions = [...new Set((props.extensions ?? []).map((e) => e.toLowerCase()).filter((e) => e !== 'plpgsql'))].sort();
    for (const ext of extensions) {
      if (!FLEXIBLE_SERVER_EXTENSIONS.includes(ext)) {
        invalidProp(this, 'extensions', ext, 'is not an extension Azure Database for PostgreSQL flexible server can allow-list, so the restore\'s CREATE EXTENSION would fail.',
          'remove it from the dataset\'s extensions (and from the database), or restore on a counterparty that has it.');
      }
    }
    const appLogin = props.applicationLogin;
    if (appLogin !== undefined && (appLogin === login || !/^[a-z_][a-z0-9_]{0,62}$/.test(appLogin) || appLogin.startsWith('pg_') || appLogin.startsWith('azure'))) {
      invalidProp(this, 'applicationLogin', appLogin, `must be a lowercase login that is not reserved and differs from the administrator (${login}).`, 'give e.g. "cp_app".');
    }

    this.password = new RandomPassword(this, 'AdminPassword', { length: 32, special: true, overrideSpecial: '!#%*()-_=+[]{}<>:?' });
    this.passwordSecret = new KeyVaultSecret(this, 'AdminPasswordSecret', {
      name: props.passwordSecretName ?? 'standby-db-admin-password',
      keyVaultId: props.keyVaultId,
      value: this.password.result,
      contentType: 'password',
      tags: props.tags,
      dependsOn: props.secretDependsOn,
      lifecycle: { preventDestroy: true },
    });

    this.server = new PostgresqlFlexibleServer(this, 'Server', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      version,
      skuName: props.skuName ?? 'B_Standard_B1ms',
      storageMb: props.storageMb ?? 32768,
      autoGrowEnabled: true,
      backupRetentionDays: retention,
      geoRedundantBackupEnabled: geo,
      administratorLogin: login,
      administratorPassword: this.password.result,
      authentication: { passwordAuthEnabled: true, activeDirectoryAuthEnabled: false },
      publicNetworkAccessEnabled: props.publicNetworkAccess ?? false,
      delegatedSubnetId: props.delegatedSubnetId,
      privateDnsZoneId: props.privateDnsZoneId,
      identity: { type: 'UserAssigned', identityIds: [props.encryption.identityId, ...(geo ? [props.geoBackupIdentityId!] : [])] },
      customerManagedKey: {
        keyVaultKeyId: props.encryption.keyVaultKeyId,
        primaryUserAssignedIdentityId: props.encryption.identityId,
        ...(geo ? { geoBackupKeyVaultKeyId: props.geoBackupKeyVaultKeyId, geoBackupUserAssignedIdentityId: props.geoBackupIdentityId } : {}),
      },
      tags: props.tags,
      dependsOn: props.dependsOn,
      lifecycle: { preventDestroy: true, ignoreChanges: ['zone'] },
    });
    for (const db of props.databases ?? []) {
      if (!/^[a-zA-Z_][\w$-]{0,62}$/.test(db)) invalidProp(this, 'databases', db, 'is not a database name.', 'use letters, digits and underscores, starting with a letter.');
      this.databases.push(new PostgresqlFlexibleServerDatabase(this, `Database-${db}`, {
        name: db, serverId: this.server.id, charset: 'UTF8', collation: 'en_US.utf8', lifecycle: { preventDestroy: true },
      }));
    }
    if (extensions.length > 0) {
      this.extensionsConfiguration = new PostgresqlFlexibleServerConfiguration(this, 'Extensions', {
        name: 'azure.extensions',
        serverId: this.server.id,
        // Lower-case, comma-separated, as Microsoft's CLI example writes it (docs/azure.md).
        value: extensions.join(','),
      });
    }
    if (appLogin) {
      this.applicationLogin = appLogin;
      const appPassword = new RandomPassword(this, 'AppPassword', { length: 32, special: true, overrideSpecial: '!#%*()-_=+[]{}<>:?' });
      this.applicationPasswordSecret = new KeyVaultSecret(this, 'AppPasswordSecret', {
        name: 'standby-db-app-password',
        keyVaultId: props.keyVaultId,
        value: appPassword.result,
        contentType: 'password',
        tags: props.tags,
        dependsOn: props.secretDependsOn,
        lifecycle: { preventDestroy: true },
      });
    }
    this.deleteLock = new ManagementLock(this, 'DeleteLock', {
      name: `${props.name}-cannot-delete`,
      scope: this.server.id,
      lockLevel: 'CanNotDelete',
      notes: 'Counterparty standby database: restored copies of the primary. Remove this lock deliberately before any deletion.',
    });
  }

  /** `Key Vault Secrets User` on the administrator password secret only (the restore job). */
  public grantPasswordRead(id: string, principalId: string): RoleAssignment {
    return this.grantSecretRead(id, principalId, this.passwordSecret);
  }

  /** `Key Vault Secrets User` on the application login's password secret only. */
  public grantApplicationPasswordRead(id: string, principalId: string): RoleAssignment {
    if (!this.applicationPasswordSecret) invalidProp(this, 'applicationLogin', undefined, 'is not set, so there is no application password to grant.', 'give applicationLogin.');
    return this.grantSecretRead(id, principalId, this.applicationPasswordSecret);
  }

  private grantSecretRead(id: string, principalId: string, secret: KeyVaultSecret): RoleAssignment {
    return new RoleAssignment(this, id, {
      scope: secret.resourceVersionlessId,
      roleDefinitionName: ROLES.keyVaultSecretsUser,
      principalId,
      principalType: 'ServicePrincipal',
    });
  }
}

export interface StandbyApplicationProps {
  /** Container App name (2-32 lowercase letters, digits and hyphens). */
  readonly name: string;
  readonly resourceGroupName: string;
  /** Container Apps environment ID. */
  readonly environmentId: string;
  /** User-assigned identity (resource ID) that pulls the image and reads the app's secrets. */
  readonly identityId: string;
  /** Login server of this side's registry. */
  readonly registryServer: string;
  /** Full image reference in that registry. */
  readonly image: string;
  /** `standby`: scaled to zero, no external ingress. `active`: serving, external ingress. */
  readonly mode: CounterpartyMode;
  /**
   * Addresses (CIDR) allowed to reach the ingress when `active`; everything else is denied.
   * @default [] (an active app then needs `publicIngress: true`)
   */
  readonly allowedIpRanges?: readonly string[];
  /**
   * Serve an active app to every address: the explicit opt-in to no allow-list (put authentication in front).
   * @default false
   */
  readonly publicIngress?: boolean;
  /**
   * Port the application listens on.
   * @default 8080
   */
  readonly targetPort?: number;
  /**
   * Minimum replicas when `active` (at least 1).
   * @default 2
   */
  readonly activeMinReplicas?: number;
  /**
   * Maximum replicas.
   * @default 10
   */
  readonly maxReplicas?: number;
  /**
   * vCPUs per replica (memory is 2 GiB per vCPU).
   * @default 1
   */
  readonly cpu?: number;
  /**
   * Plain environment variables.
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * Environment variables read from Key Vault secrets (versionless secret IDs) by the identity.
   * @default {}
   */
  readonly secretEnvironment?: Record<string, string>;
  /**
   * What must exist before the app (its AcrPull and secret role assignments).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** The contact-centre application on the counterparty: the failover switch is `mode`. */
export class StandbyApplication extends Construct {
  public readonly app: ContainerApp;

  constructor(scope: Construct, id: string, props: StandbyApplicationProps) {
    super(scope, id);
    if (props.mode !== 'standby' && props.mode !== 'active') invalidProp(this, 'mode', props.mode, 'is not a mode.', 'use "standby" or "active".');
    if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(props.name) || props.name.includes('--')) invalidProp(this, 'name', props.name, 'is not a Container App name.', 'use 2-32 lowercase letters, digits and single hyphens.');
    const activeMin = props.activeMinReplicas ?? 2;
    if (!Number.isInteger(activeMin) || activeMin < 1) invalidProp(this, 'activeMinReplicas', activeMin, 'must be a whole number of at least 1, or a failover serves nothing.', 'give 1 or more (2 survives a replica restart).');
    const max = props.maxReplicas ?? 10;
    if (!Number.isInteger(max) || max < activeMin || max > 1000) invalidProp(this, 'maxReplicas', max, `must be a whole number from activeMinReplicas (${activeMin}) to 1000.`, 'raise maxReplicas.');
    const port = props.targetPort ?? 8080;
    if (!Number.isInteger(port) || port < 1 || port > 65535) invalidProp(this, 'targetPort', port, 'is not a TCP port.', 'give the port the application listens on.');
    const cpu = props.cpu ?? 1;
    const active = props.mode === 'active';
    const ranges = props.allowedIpRanges ?? [];
    ranges.forEach((r, i) => {
      if (!/^(\d{1,3}\.){3}\d{1,3}(\/(\d|[12]\d|3[0-2]))?$/.test(r)) invalidProp(this, `allowedIpRanges[${i}]`, r, 'is not an IPv4 address or CIDR range.', 'give e.g. "203.0.113.0/24".');
    });
    if (active && ranges.length === 0 && props.publicIngress !== true) {
      invalidProp(this, 'allowedIpRanges', ranges, 'is empty, and an active application would take traffic from the whole internet.',
        'give the ranges that may reach it (plan counterparties.azure.applicationAllowedIpRanges), or set applicationPublicIngress: true once authentication is in front of it.');
    }
    const restrictions = active && props.publicIngress !== true
      ? ranges.map((ipAddressRange, i) => ({ name: `allow-${i}`, action: 'Allow', ipAddressRange, description: 'Counterparty: allowed while serving' }))
      : undefined;
    const secretEntries = Object.entries(props.secretEnvironment ?? {});
    const secretName = (envName: string) => envName.toLowerCase().replace(/_/g, '-');

    this.app = new ContainerApp(this, 'App', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      containerAppEnvironmentId: props.environmentId,
      workloadProfileName: CONSUMPTION_PROFILE,
      revisionMode: 'Single',
      identity: { type: 'UserAssigned', identityIds: [props.identityId] },
      registry: [{ server: props.registryServer, identity: props.identityId }],
      secret: secretEntries.map(([envName, secretId]) => ({ name: secretName(envName), keyVaultSecretId: secretId, identity: props.identityId })),
      ingress: {
        externalEnabled: active,
        targetPort: port,
        transport: 'auto',
        allowInsecureConnections: false,
        ipSecurityRestriction: restrictions,
        trafficWeight: [{ latestRevision: true, percentage: 100 }],
      },
      template: {
        minReplicas: active ? activeMin : 0,
        maxReplicas: max,
        container: [{
          name: 'app',
          image: props.image,
          cpu,
          memory: `${cpu * 2}Gi`,
          env: [
            ...Object.entries(props.environment ?? {}).map(([name, value]) => ({ name, value })),
            ...secretEntries.map(([name]) => ({ name, secretName: secretName(name) })),
          ],
        }],
      },
      tags: { ...props.tags, 'counterparty-mode': props.mode },
      dependsOn: props.dependsOn,
    });
  }
}
