import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { resolvePlan, type ProtectionPlan } from '../lib/core';
import { gcpLabels } from '../lib/gcp/common';
import { GcpCounterparty } from '../lib/gcp/counterparty';
import { GoogleBetaProvider } from '../lib/gcp/google-beta';

export interface GcpCounterpartyStackProps {
  /** The protection plan; its `counterparties.gcp` is rendered. */
  readonly plan: ProtectionPlan;
}

/**
 * The reference GCP counterparty stack: the `google` provider (and the
 * `google-beta` provider for service agents) on the plan's project and region,
 * with the plan's tags as default labels, and `GcpCounterparty`.
 */
export class GcpCounterpartyStack extends TerraformStack {
  public readonly counterparty: GcpCounterparty;

  constructor(scope: Construct, id: string, props: GcpCounterpartyStackProps) {
    super(scope, id);
    const plan = resolvePlan(props.plan);
    const gcp = plan.counterparties.gcp;
    if (!gcp) throw new Error(`${this.node.path}: plan.counterparties.gcp = (not set) is required for the GCP stack. Fix: add counterparties.gcp: { projectId, region } to the plan.`);
    const defaultLabels = { ...gcpLabels(plan.tags), 'managed-by': 'counterparty' };
    const google = new GoogleProvider(this, 'google', { project: gcp.projectId, region: gcp.region });
    const beta = new GoogleBetaProvider(this, 'google-beta', { project: gcp.projectId, region: gcp.region });
    // Set as an override: cdktf snake-cases map keys in provider blocks, which would turn `cost-centre` into `cost_centre`.
    for (const provider of [google, beta]) provider.addOverride('default_labels', defaultLabels);
    this.counterparty = new GcpCounterparty(this, 'Counterparty', { plan: props.plan });
  }
}
