/**
 * The immutable storage account the exports are copied into: version-level
 * immutability for the whole account (WORM for `retentionDays`), customer-
 * managed key from the counterparty's own Key Vault, no shared keys, no
 * public blobs, a delete lock and `preventDestroy`.
 */
import { Construct } from 'constructs';
import { ManagementLock } from '@cdktf/provider-azurerm/lib/management-lock';
import { StorageManagementPolicy, type StorageManagementPolicyRule } from '@cdktf/provider-azurerm/lib/storage-management-policy';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { StorageAccountCustomerManagedKeyA } from '@cdktf/provider-azurerm/lib/storage-account-customer-managed-key';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container';
import type { ITerraformDependable } from 'cdktf';
import { allowedRegions, LIMITS, naming, regionAllowed } from '../core';
import { invalidProp, ROLES, storageIpRule } from './util';

/** The customer-managed key the account is encrypted with. */
export interface StorageEncryptionKey {
  /** Key Vault resource ID. */
  readonly keyVaultId: string;
  /** Key name (the versionless key is used, so rotation is followed automatically). */
  readonly keyName: string;
  /** User-assigned identity (resource ID) holding `Key Vault Crypto Service Encryption User` on the key. */
  readonly identityId: string;
  /**
   * What must exist before the key is applied (the identity's role assignment on the key).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
}

export interface ImmutableStorageAccountProps {
  /** Storage account name (from `naming.azureStorageAccountName`): 3-24 lowercase letters and digits. */
  readonly name: string;
  readonly resourceGroupName: string;
  /** Azure location. */
  readonly location: string;
  /**
   * Residency constraint (jurisdictions such as `eu`, or exact locations); `location` must pass it.
   * @default - no constraint
   */
  readonly residency?: readonly string[];
  /** Days every blob version is immutable (1-146000): the plan's `retentionDays`. */
  readonly retentionDays: number;
  /**
   * Lock the immutability policy (`Locked`): irreversible, retention can then only grow
   * and the account can't be deleted until every version has aged out.
   * Needs `acknowledgeLockIsIrreversible: true`. Lock only after a deploy with `Unlocked` (Azure refuses `Disabled` → `Locked`).
   * @default false (`Unlocked`)
   */
  readonly lock?: boolean;
  /**
   * The explicit opt-in to `lock`.
   * @default false
   */
  readonly acknowledgeLockIsIrreversible?: boolean;
  /** The customer-managed key. */
  readonly encryptionKey: StorageEncryptionKey;
  /**
   * IPv4 addresses or CIDR ranges allowed through the storage firewall (the default action is Deny).
   * @default []
   */
  readonly allowedIpRanges?: readonly string[];
  /**
   * Subnet IDs (with the `Microsoft.Storage` service endpoint) allowed through the firewall.
   * @default []
   */
  readonly allowedSubnetIds?: readonly string[];
  /**
   * Days deleted blobs and containers stay recoverable (soft delete), 1-365.
   * @default - the retention, capped at 365
   */
  readonly deleteRetentionDays?: number;
  /**
   * Replication: `ZRS` keeps every copy in the location (residency-safe);
   * `GZRS`/`RAGZRS` also replicate to the paired region (check it is inside your residency).
   * @default 'ZRS'
   */
  readonly replicationType?: 'LRS' | 'ZRS' | 'GRS' | 'GZRS' | 'RAGRS' | 'RAGZRS';
  /**
   * Containers to create (the first holds the exports).
   * @default [naming.AZURE_EXPORTS_CONTAINER]
   */
  readonly containers?: readonly string[];
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** StorageV2 account with account-level version immutability, CMK, a delete lock and the exports container. */
export class ImmutableStorageAccount extends Construct {
  public readonly account: StorageAccount;
  public readonly customerManagedKey: StorageAccountCustomerManagedKeyA;
  public readonly lock: ManagementLock;
  /** Expires `nights/` and the versions prune leaves behind (see {@link expiryRules}). */
  public readonly expiry: StorageManagementPolicy;
  /** Containers by name. */
  public readonly containers: Record<string, StorageContainer> = {};
  /** The exports container. */
  public readonly exportsContainer: StorageContainer;
  /** The account name as given (a literal, not a token: it goes into `CP_STORE`). */
  public readonly accountName: string;

  constructor(scope: Construct, id: string, props: ImmutableStorageAccountProps) {
    super(scope, id);
    this.accountName = props.name;
    const violation = naming.nameRuleViolation(props.name, naming.NAME_RULES.azureStorageAccount);
    if (violation) {
      invalidProp(this, 'name', props.name, `${violation}.`, 'derive it with naming.azureStorageAccountName from a system of at most 19 letters and digits, or give a valid name.');
    }
    if (props.residency && !regionAllowed('azure', props.location, props.residency)) {
      invalidProp(this, 'location', props.location, `is outside the residency (${props.residency.join(', ')}).`,
        `use one of: ${allowedRegions('azure', props.residency).join(', ')}; or widen the residency if the data may live there.`);
    }
    const days = props.retentionDays;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > LIMITS.azureMaxRetentionDays) {
      invalidProp(this, 'retentionDays', days, 'is not a retention Azure immutability policies can express.',
        `use a whole number of days from 1 to ${LIMITS.azureMaxRetentionDays}.`);
    }
    if (props.lock && props.acknowledgeLockIsIrreversible !== true) {
      invalidProp(this, 'lock', true, 'locks the immutability policy irreversibly, and was not explicitly opted into.',
        'set acknowledgeLockIsIrreversible: true (plan: immutability.acknowledgeLockIsIrreversible) after deploying once Unlocked, or leave lock false.');
    }
    const deleteDays = props.deleteRetentionDays ?? Math.min(days, 365);
    if (!Number.isInteger(deleteDays) || deleteDays < 1 || deleteDays > 365) {
      invalidProp(this, 'deleteRetentionDays', deleteDays, 'is outside what blob soft delete allows.', 'use a whole number of days from 1 to 365.');
    }
    const containerNames = props.containers ?? [naming.AZURE_EXPORTS_CONTAINER];
    if (containerNames.length === 0) invalidProp(this, 'containers', containerNames, 'is empty.', `give at least the exports container, "${naming.AZURE_EXPORTS_CONTAINER}".`);
    for (const c of containerNames) {
      if (!/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(c)) invalidProp(this, 'containers', c, 'is not a blob container name.', 'use 3-63 lowercase letters, digits and single hyphens.');
    }

    this.account = new StorageAccount(this, 'Account', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      accountKind: 'StorageV2',
      accountTier: 'Standard',
      accountReplicationType: props.replicationType ?? 'ZRS',
      accessTier: 'Hot',
      minTlsVersion: 'TLS1_2',
      httpsTrafficOnlyEnabled: true,
      sharedAccessKeyEnabled: false,
      defaultToOauthAuthentication: true,
      allowNestedItemsToBePublic: false,
      crossTenantReplicationEnabled: false,
      localUserEnabled: false,
      sftpEnabled: false,
      allowedCopyScope: 'AAD',
      infrastructureEncryptionEnabled: true,
      queueEncryptionKeyType: 'Account',
      tableEncryptionKeyType: 'Account',
      publicNetworkAccessEnabled: true, // only through networkRules: default Deny
      networkRules: {
        defaultAction: 'Deny',
        bypass: ['AzureServices'],
        ipRules: (props.allowedIpRanges ?? []).map(storageIpRule),
        virtualNetworkSubnetIds: [...(props.allowedSubnetIds ?? [])],
      },
      identity: { type: 'UserAssigned', identityIds: [props.encryptionKey.identityId] },
      blobProperties: {
        versioningEnabled: true,
        changeFeedEnabled: true,
        deleteRetentionPolicy: { days: deleteDays },
        containerDeleteRetentionPolicy: { days: deleteDays },
      },
      immutabilityPolicy: {
        state: props.lock ? 'Locked' : 'Unlocked',
        periodSinceCreationInDays: days,
        allowProtectedAppendWrites: false,
      },
      tags: props.tags,
      lifecycle: {
        preventDestroy: true,
        // The key is managed by the standalone resource below (the provider's documented pattern).
        ignoreChanges: ['customer_managed_key'],
      },
    });

    this.customerManagedKey = new StorageAccountCustomerManagedKeyA(this, 'CustomerManagedKey', {
      storageAccountId: this.account.id,
      keyVaultId: props.encryptionKey.keyVaultId,
      keyName: props.encryptionKey.keyName,
      userAssignedIdentityId: props.encryptionKey.identityId,
      dependsOn: props.encryptionKey.dependsOn,
    });

    this.lock = new ManagementLock(this, 'DeleteLock', {
      name: `${props.name}-cannot-delete`,
      scope: this.account.id,
      lockLevel: 'CanNotDelete',
      notes: 'Counterparty: the immutable copies of the contact centre. Removing this lock is a break-glass step; see docs/azure.md.',
    });

    containerNames.forEach((name, i) => {
      // The first container keeps the construct ID "Exports": stateful, never rename.
      const container = new StorageContainer(this, i === 0 ? 'Exports' : `Container-${name}`, {
        name,
        storageAccountId: this.account.id,
        containerAccessType: 'private',
        lifecycle: { preventDestroy: true },
      });
      this.containers[name] = container;
    });
    this.exportsContainer = this.containers[containerNames[0]];
    this.expiry = new StorageManagementPolicy(this, 'Expiry', {
      storageAccountId: this.account.id,
      rule: expiryRules(containerNames[0], days),
      dependsOn: [this.exportsContainer],
    });
  }

  /** `azblob://<account>/<container>`: the jobs' `CP_STORE`. */
  public storeUrl(container: string = naming.AZURE_EXPORTS_CONTAINER): string {
    return `azblob://${this.accountName}/${container}`;
  }

  /** Grants a principal a blob data role on one container only. */
  public grantContainer(id: string, principalId: string, role: string, container: string = naming.AZURE_EXPORTS_CONTAINER, condition?: string): RoleAssignment {
    const c = this.containers[container];
    if (!c) invalidProp(this, 'container', container, 'is not a container of this account.', `use one of: ${Object.keys(this.containers).join(', ')}.`);
    return new RoleAssignment(this, id, {
      scope: c.resourceManagerId,
      roleDefinitionName: role,
      principalId,
      principalType: 'ServicePrincipal',
      ...(condition ? { condition, conditionVersion: '2.0' } : {}),
    });
  }

  /** Read-only access to a container (`Storage Blob Data Reader`). */
  public grantRead(id: string, principalId: string, container?: string): RoleAssignment {
    return this.grantContainer(id, principalId, ROLES.storageBlobDataReader, container);
  }

  /** Read and write access to a container (`Storage Blob Data Contributor`). */
  public grantReadWrite(id: string, principalId: string, container?: string): RoleAssignment {
    return this.grantContainer(id, principalId, ROLES.storageBlobDataContributor, container);
  }

  /**
   * Write access to blobs under one key prefix of a container only
   * (`Storage Blob Data Contributor` with an ABAC condition on the blob path).
   * Reads, writes and deletes outside the prefix are refused.
   */
  public grantWritePrefix(id: string, principalId: string, prefix: string, container?: string): RoleAssignment {
    if (!/^[\w./-]+\/$/.test(prefix)) invalidProp(this, 'prefix', prefix, 'is not a key prefix ending in "/".', 'give e.g. "verifications/".');
    return this.grantContainer(id, principalId, ROLES.storageBlobDataContributor, container, blobPathCondition(prefix));
  }
}

/**
 * Lifecycle rules of the exports container, so storage follows retention and an erased recording is
 * gone in bounded time (docs/runtime.md "Erasure"):
 * - `nights/`: each night's files (exports, index, manifest) are deleted `retentionDays` +
 *   {@link naming.NIGHTS_EXPIRY_EXTRA_DAYS} + 1 days after creation, base blob and versions alike (the
 *   extra days keep the checkpoint the oldest retained night's view is rebuilt from).
 * - `blobs/`: only previous versions are deleted, a day after retention. With versioning on, prune's
 *   delete of a blob makes its current version a previous version that Azure "retains until
 *   explicitly deleted"; this rule is that deletion. Current blobs are never touched: only prune
 *   decides that a blob is no longer referenced.
 * Version-level immutability refuses any delete before the version's retention has expired, so a
 * rule can never shorten it.
 */
export function expiryRules(container: string, retentionDays: number): StorageManagementPolicyRule[] {
  const nightsDays = retentionDays + naming.NIGHTS_EXPIRY_EXTRA_DAYS + 1;
  return [
    {
      name: 'expire-nights', enabled: true,
      filters: { blobTypes: ['blockBlob'], prefixMatch: [`${container}/${naming.NIGHTS_PREFIX}`] },
      actions: { baseBlob: { deleteAfterDaysSinceCreationGreaterThan: nightsDays }, version: { deleteAfterDaysSinceCreation: nightsDays } },
    },
    {
      name: 'expire-pruned-blob-versions', enabled: true,
      filters: { blobTypes: ['blockBlob'], prefixMatch: [`${container}/${naming.BLOBS_PREFIX}`] },
      actions: { version: { deleteAfterDaysSinceCreation: retentionDays + 1 } },
    },
  ];
}

/** The ABAC condition that limits blob data actions to blobs whose path starts with `prefix`. */
export function blobPathCondition(prefix: string): string {
  const actions = ['read', 'write', 'add/action', 'delete'].map((a) => `!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/${a}'})`);
  return `((${actions.join(' AND ')}) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '${prefix}'))`;
}
