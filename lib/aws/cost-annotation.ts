/**
 * The plan's headline monthly cost estimate (lib/report) as a synth-time info annotation, so that
 * `cdk synth` shows what the AWS side of the plan costs (`npm run plan-report` gives the line items).
 */
import { Annotations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ProtectionPlan } from '../core';
import { headlineMonthlyEstimate } from '../report/cost';

/** An estimate that can't be made (a region missing from the price table, say) is a warning, never a synth failure. */
export function annotateMonthlyEstimate(scope: IConstruct, plan: ProtectionPlan): void {
  try {
    const text = headlineMonthlyEstimate(plan).perProviderText.aws;
    if (text) Annotations.of(scope).addInfo(text);
  } catch (err) {
    Annotations.of(scope).addWarningV2('counterparty:cost-estimate', `no monthly cost estimate for this plan (${(err as Error).message}); run npm run plan-report for details.`);
  }
}
