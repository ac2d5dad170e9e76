/**
 * The counterparty's own Key Vault and the RSA key that encrypts the storage
 * account and the standby database (customer-managed keys). Nothing here
 * depends on AWS KMS: the copies are re-encrypted under this key on arrival.
 */
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { DataAzurermClientConfig } from '@cdktf/provider-azurerm/lib/data-azurerm-client-config';
import { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault';
import { KeyVaultKey } from '@cdktf/provider-azurerm/lib/key-vault-key';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link';
import { PrivateEndpoint } from '@cdktf/provider-azurerm/lib/private-endpoint';
import { RoleAssignment } from '@cdktf/provider-azurerm/lib/role-assignment';
import { naming } from '../core';
import { invalidProp, ROLES } from './util';

const ISO_DURATION_RE = /^P(?!$)(\d+Y)?(\d+M)?(\d+D)?$/;

export interface CounterpartyKeyVaultProps {
  /** Key Vault name (from `naming.azureKeyVaultName`); checked against Azure's rule. */
  readonly name: string;
  readonly resourceGroupName: string;
  readonly location: string;
  /** Entra tenant ID. */
  readonly tenantId: string;
  /**
   * IPv4 addresses or CIDR ranges allowed through the vault firewall (the
   * deploying machine needs one to create the key and secrets). Everything else
   * is denied, except trusted Azure services.
   * @default [] (trusted Azure services and `allowedSubnetIds` only)
   */
  readonly allowedIpRanges?: readonly string[];
  /**
   * Subnet IDs (with the `Microsoft.KeyVault` service endpoint) allowed through the firewall.
   * @default []
   */
  readonly allowedSubnetIds?: readonly string[];
  /**
   * Days a deleted vault, key or secret stays recoverable (7-90). Purge protection is always on.
   * @default 90
   */
  readonly softDeleteRetentionDays?: number;
  /**
   * `standard` (software-protected keys) or `premium` (HSM-backed keys available).
   * @default 'standard'
   */
  readonly skuName?: 'standard' | 'premium';
  /**
   * Name of the customer-managed key.
   * @default 'cmk'
   */
  readonly keyName?: string;
  /**
   * RSA key size in bits (2048, 3072 or 4096; Storage and PostgreSQL accept all three).
   * @default 3072
   */
  readonly keySize?: number;
  /**
   * ISO 8601 duration after creation at which a new key version is made
   * automatically. Consumers use the versionless key ID, so they follow.
   * @default 'P1Y'
   */
  readonly rotateAfter?: string;
  /**
   * ISO 8601 duration after which a key version expires (must exceed `rotateAfter`).
   * @default 'P2Y'
   */
  readonly expireAfter?: string;
  /**
   * Grant the principal running Terraform `Key Vault Crypto Officer` and
   * `Key Vault Secrets Officer` on this vault, so it can create the key and
   * secrets (RBAC vaults give nobody data-plane rights by default).
   * @default true
   */
  readonly grantDeployer?: boolean;
  /**
   * A private endpoint in this subnet, with the `privatelink.vaultcore.azure.net` zone linked to the network,
   * so that Container Apps in the network reach the vault privately (Container Apps is not a Key Vault
   * trusted service: its Key Vault references fail through the firewall otherwise; docs/azure.md).
   * @default - no private endpoint
   */
  readonly privateEndpoint?: { readonly subnetId: string; readonly virtualNetworkId: string };
  /**
   * Tags.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** The private DNS zone Key Vault private endpoints register in (public cloud). */
export const KEY_VAULT_PRIVATE_DNS_ZONE = 'privatelink.vaultcore.azure.net';

/**
 * Key Vault with RBAC authorization, purge protection, soft delete, a
 * deny-by-default firewall, and an RSA key with a rotation policy for CMK.
 */
export class CounterpartyKeyVault extends Construct {
  public readonly vault: KeyVault;
  public readonly key: KeyVaultKey;
  /** Role assignments that let the deployer write keys and secrets; data-plane resources depend on them. */
  public readonly deployerGrants: RoleAssignment[] = [];
  /** The private endpoint, when `privateEndpoint` is given. */
  public readonly privateEndpoint?: PrivateEndpoint;
  /** The `privatelink.vaultcore.azure.net` zone and its network link (secret readers depend on them). */
  public readonly privateDnsZone?: PrivateDnsZone;
  public readonly privateDnsLink?: PrivateDnsZoneVirtualNetworkLink;

  constructor(scope: Construct, id: string, props: CounterpartyKeyVaultProps) {
    super(scope, id);
    const violation = naming.nameRuleViolation(props.name, naming.NAME_RULES.azureKeyVault);
    if (violation) invalidProp(this, 'name', props.name, `${violation}.`, 'shorten or rename it; Key Vault names are global.');
    const retention = props.softDeleteRetentionDays ?? 90;
    if (!Number.isInteger(retention) || retention < 7 || retention > 90) {
      invalidProp(this, 'softDeleteRetentionDays', retention, 'is outside what Key Vault allows.', 'use a whole number of days from 7 to 90.');
    }
    const keySize = props.keySize ?? 3072;
    if (![2048, 3072, 4096].includes(keySize)) invalidProp(this, 'keySize', keySize, 'is not an RSA key size Storage and PostgreSQL accept.', 'use 2048, 3072 or 4096.');
    const rotateAfter = props.rotateAfter ?? 'P1Y';
    const expireAfter = props.expireAfter ?? 'P2Y';
    for (const [prop, value] of [['rotateAfter', rotateAfter], ['expireAfter', expireAfter]] as const) {
      if (!ISO_DURATION_RE.test(value)) invalidProp(this, prop, value, 'is not an ISO 8601 duration of years, months and days.', 'give e.g. "P1Y" or "P90D".');
    }
    if (approxDays(expireAfter) <= approxDays(rotateAfter) + 28) {
      invalidProp(this, 'expireAfter', expireAfter, `must leave time after rotateAfter (${rotateAfter}) for the new version to be picked up.`, 'make expireAfter at least a month longer than rotateAfter.');
    }

    this.vault = new KeyVault(this, 'Vault', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      tenantId: props.tenantId,
      skuName: props.skuName ?? 'standard',
      rbacAuthorizationEnabled: true,
      purgeProtectionEnabled: true,
      softDeleteRetentionDays: retention,
      publicNetworkAccessEnabled: true, // reachable only through the firewall below
      networkAcls: {
        defaultAction: 'Deny',
        bypass: 'AzureServices',
        ipRules: [...(props.allowedIpRanges ?? [])],
        virtualNetworkSubnetIds: [...(props.allowedSubnetIds ?? [])],
      },
      tags: props.tags,
      lifecycle: { preventDestroy: true },
    });

    if (props.grantDeployer ?? true) {
      const me = new DataAzurermClientConfig(this, 'Deployer', {});
      for (const [idSuffix, role] of [['DeployerCryptoOfficer', ROLES.keyVaultCryptoOfficer], ['DeployerSecretsOfficer', ROLES.keyVaultSecretsOfficer]] as const) {
        this.deployerGrants.push(new RoleAssignment(this, idSuffix, { scope: this.vault.id, roleDefinitionName: role, principalId: me.objectId }));
      }
    }

    if (props.privateEndpoint) {
      this.privateDnsZone = new PrivateDnsZone(this, 'PrivateDnsZone', { name: KEY_VAULT_PRIVATE_DNS_ZONE, resourceGroupName: props.resourceGroupName, tags: props.tags });
      this.privateDnsLink = new PrivateDnsZoneVirtualNetworkLink(this, 'PrivateDnsLink', {
        name: 'key-vault',
        resourceGroupName: props.resourceGroupName,
        privateDnsZoneName: this.privateDnsZone.name,
        virtualNetworkId: props.privateEndpoint.virtualNetworkId,
        registrationEnabled: false,
        tags: props.tags,
      });
      this.privateEndpoint = new PrivateEndpoint(this, 'PrivateEndpoint', {
        name: `pe-${props.name}`,
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        subnetId: props.privateEndpoint.subnetId,
        privateServiceConnection: { name: `${props.name}-vault`, privateConnectionResourceId: this.vault.id, subresourceNames: ['vault'], isManualConnection: false },
        privateDnsZoneGroup: { name: 'vaultcore', privateDnsZoneIds: [this.privateDnsZone.id] },
        tags: props.tags,
      });
    }

    this.key = new KeyVaultKey(this, 'Key', {
      name: props.keyName ?? 'cmk',
      keyVaultId: this.vault.id,
      keyType: 'RSA',
      keySize,
      keyOpts: ['wrapKey', 'unwrapKey'],
      rotationPolicy: {
        automatic: { timeAfterCreation: rotateAfter },
        expireAfter,
        notifyBeforeExpiry: 'P30D',
      },
      tags: props.tags,
      dependsOn: this.deployerGrants,
      lifecycle: { preventDestroy: true },
    });
  }

  /** What a reader of this vault's secrets from inside the network must wait for (the private endpoint and its DNS). */
  public get privateAccess(): ITerraformDependable[] {
    return [this.privateEndpoint, this.privateDnsLink].filter((d): d is PrivateEndpoint | PrivateDnsZoneVirtualNetworkLink => d !== undefined);
  }

  /** Grants a principal `Key Vault Crypto Service Encryption User` on the key only (wrap/unwrap for CMK). */
  public grantEncryptionUser(id: string, principalId: string): RoleAssignment {
    return new RoleAssignment(this, id, {
      scope: this.key.resourceVersionlessId,
      roleDefinitionName: ROLES.keyVaultCryptoServiceEncryptionUser,
      principalId,
      principalType: 'ServicePrincipal',
    });
  }
}

function approxDays(duration: string): number {
  const m = ISO_DURATION_RE.exec(duration);
  if (!m) return 0;
  const n = (s: string | undefined) => (s ? Number(s.slice(0, -1)) : 0);
  return n(m[1]) * 365 + n(m[2]) * 30 + n(m[3]);
}
