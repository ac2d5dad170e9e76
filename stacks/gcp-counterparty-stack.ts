import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { ProtectionPlan } from '../lib/core';

export interface GcpCounterpartyStackProps {
  /** The protection plan; its `counterparties.gcp` is rendered. */
  readonly plan: ProtectionPlan;
}

/** The reference GCP counterparty stack (skeleton until the GCP issue lands). */
export class GcpCounterpartyStack extends TerraformStack {
  constructor(scope: Construct, id: string, _props: GcpCounterpartyStackProps) {
    super(scope, id);
  }
}
