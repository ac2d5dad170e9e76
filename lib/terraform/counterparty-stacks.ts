/**
 * Minimal cdktf stacks for each counterparty of a plan (provider + construct),
 * synthesized to JSON. Used by `@counterparty-dr/constructs/testing` to check the
 * cross-engine contract; loaded only when a counterparty half is synthesized,
 * because cdktf and the providers are optional peers.
 */
import { Testing, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import type { ProtectionPlan } from '../core';
import { AzureCounterparty } from '../azure/counterparty';
import { GcpCounterparty } from '../gcp/counterparty';
import { GoogleBetaProvider } from '../gcp/google-beta';
import { RandomProvider } from './random-password';

/** The `cdk.tf.json` of a cdktf stack, parsed. */
export function synthesizeTerraformJson(stack: Construct): unknown {
  return JSON.parse(Testing.synth(stack as TerraformStack));
}

/** A stack with the google providers (project and region from the plan) and `GcpCounterparty`. */
export function gcpCounterpartyStack(plan: ProtectionPlan): TerraformStack {
  const gcp = plan.counterparties.gcp;
  if (!gcp) throw new Error('gcpCounterpartyStack: plan.counterparties.gcp = (not set). Fix: add counterparties.gcp to the plan.');
  const stack = new TerraformStack(Testing.app(), 'counterparty-gcp');
  new GoogleProvider(stack, 'google', { project: gcp.projectId, region: gcp.region });
  new GoogleBetaProvider(stack, 'google-beta', { project: gcp.projectId, region: gcp.region });
  new GcpCounterparty(stack, 'Counterparty', { plan });
  return stack;
}

/** A stack with the azurerm and random providers and `AzureCounterparty`. */
export function azureCounterpartyStack(plan: ProtectionPlan): TerraformStack {
  const azure = plan.counterparties.azure;
  if (!azure) throw new Error('azureCounterpartyStack: plan.counterparties.azure = (not set). Fix: add counterparties.azure to the plan.');
  const stack = new TerraformStack(Testing.app(), 'counterparty-azure');
  new AzurermProvider(stack, 'azurerm', { subscriptionId: azure.subscriptionId, tenantId: azure.tenantId, storageUseAzuread: true, features: [{}] });
  new RandomProvider(stack, 'random');
  new AzureCounterparty(stack, 'Counterparty', { plan });
  return stack;
}
