import { Annotations, AzurermBackend, LocalBackend, TerraformStack, type AzurermBackendConfig } from 'cdktf';
import type { Construct } from 'constructs';
import { AzureadProvider } from '@cdktf/provider-azuread/lib/provider';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import type { ProtectionPlan } from '../lib/core';
import { AzureCounterparty, type AzureCounterpartyProps } from '../lib/azure';
import { RandomProvider } from '../lib/terraform/random-password';

export interface AzureCounterpartyStackProps {
  /** The protection plan; its `counterparties.azure` is rendered. */
  readonly plan: ProtectionPlan;
  /**
   * Options passed to `AzureCounterparty` (network ranges, database sizing, registry SKU...).
   * @default - the AzureCounterparty defaults
   */
  readonly counterparty?: Omit<AzureCounterpartyProps, 'plan'>;
  /**
   * Where Terraform keeps this stack's state: an azurerm backend (a storage container with Entra ID auth).
   * The state holds the standby database passwords, so it must never sit on the deployer's disk.
   * @default - `azureStateBackendFromEnv()`; without those variables a local backend, for the offline
   * reference synth only, with a synth warning
   */
  readonly backend?: AzurermBackendConfig;
}

/**
 * The state backend from the environment, for apps (bin/counterparty.ts): `CP_AZURE_STATE_STORAGE_ACCOUNT`,
 * `CP_AZURE_STATE_RESOURCE_GROUP`, `CP_AZURE_STATE_CONTAINER` and optional `CP_AZURE_STATE_KEY`
 * (default `counterparty-azure.tfstate`), always with Entra ID auth; `undefined` when
 * `CP_AZURE_STATE_STORAGE_ACCOUNT` is unset (the offline reference synth).
 */
export function azureStateBackendFromEnv(env: NodeJS.ProcessEnv = process.env): AzurermBackendConfig | undefined {
  if (!env.CP_AZURE_STATE_STORAGE_ACCOUNT) return undefined;
  return {
    storageAccountName: env.CP_AZURE_STATE_STORAGE_ACCOUNT,
    resourceGroupName: env.CP_AZURE_STATE_RESOURCE_GROUP ?? '',
    containerName: env.CP_AZURE_STATE_CONTAINER ?? '',
    key: env.CP_AZURE_STATE_KEY || 'counterparty-azure.tfstate',
    useAzureadAuth: true,
  };
}

/**
 * The reference Azure counterparty stack: the azurerm provider (subscription
 * and tenant from the plan, Entra ID for storage since shared keys are off,
 * nothing purged on destroy), the random provider (the standby password), and
 * `AzureCounterparty`.
 */
export class AzureCounterpartyStack extends TerraformStack {
  public readonly counterparty: AzureCounterparty;

  constructor(scope: Construct, id: string, props: AzureCounterpartyStackProps) {
    super(scope, id);
    const azure = props.plan.counterparties?.azure;
    const backend = props.backend ?? azureStateBackendFromEnv();
    if (backend) {
      for (const field of ['resourceGroupName', 'containerName', 'key'] as const) {
        if (!backend[field]) throw new Error(`${this.node.path}: backend.${field} = ${JSON.stringify(backend[field])}: is empty. Fix: give the state storage account's ${field} (CP_AZURE_STATE_${field === 'resourceGroupName' ? 'RESOURCE_GROUP' : field === 'containerName' ? 'CONTAINER' : 'KEY'}).`);
      }
      if (backend.useAzureadAuth !== true) {
        throw new Error(`${this.node.path}: backend.useAzureadAuth = ${JSON.stringify(backend.useAzureadAuth)}: the state holds database passwords and must be read with Entra ID, not an account key or SAS. Fix: set useAzureadAuth: true (and give no accessKey or sasToken).`);
      }
      if (backend.accessKey || backend.sasToken) {
        throw new Error(`${this.node.path}: backend.${backend.accessKey ? 'accessKey' : 'sasToken'} = (set): a shared key in the app's code is a standing credential to the state. Fix: remove it and use useAzureadAuth: true.`);
      }
      new AzurermBackend(this, backend);
    } else {
      new LocalBackend(this, { path: `terraform.${id}.tfstate` });
      Annotations.of(this).addWarning('This stack uses a LOCAL Terraform backend: its state (with the standby database passwords) would sit in plaintext on this disk. It is meant only for the offline reference synth. Pass backend: { resourceGroupName, storageAccountName, containerName, key, useAzureadAuth: true } to deploy (docs/azure.md "State").');
    }
    new AzurermProvider(this, 'azurerm', {
      subscriptionId: azure?.subscriptionId,
      tenantId: azure?.tenantId,
      storageUseAzuread: true,
      features: [{
        keyVault: [{
          purgeSoftDeleteOnDestroy: false,
          purgeSoftDeletedKeysOnDestroy: false,
          purgeSoftDeletedSecretsOnDestroy: false,
          purgeSoftDeletedCertificatesOnDestroy: false,
          recoverSoftDeletedKeyVaults: true,
          recoverSoftDeletedKeys: true,
          recoverSoftDeletedSecrets: true,
        }],
        resourceGroup: [{ preventDeletionIfContainsResources: true }],
      }],
    });
    // Entra ID (the app registration AWS federates through), same tenant.
    new AzureadProvider(this, 'azuread', { tenantId: azure?.tenantId });
    new RandomProvider(this, 'random');
    this.counterparty = new AzureCounterparty(this, 'Counterparty', { ...props.counterparty, plan: props.plan });
  }
}
