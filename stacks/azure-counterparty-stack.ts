import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
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
    new RandomProvider(this, 'random');
    this.counterparty = new AzureCounterparty(this, 'Counterparty', { ...props.counterparty, plan: props.plan });
  }
}
