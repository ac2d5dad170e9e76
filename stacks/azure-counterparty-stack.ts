import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { ProtectionPlan } from '../lib/core';

export interface AzureCounterpartyStackProps {
  /** The protection plan; its `counterparties.azure` is rendered. */
  readonly plan: ProtectionPlan;
}

/** The reference Azure counterparty stack (skeleton until the Azure issue lands). */
export class AzureCounterpartyStack extends TerraformStack {
  constructor(scope: Construct, id: string, _props: AzureCounterpartyStackProps) {
    super(scope, id);
  }
}
