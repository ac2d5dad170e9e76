/**
 * Synth-time notes both counterparties print the same way: plan warnings (e.g. a counterparty
 * identity the AWS trust still lacks) as warnings, and the plan's headline monthly cost estimate
 * (lib/report) as an info annotation, so `cdktf synth` shows what the plan costs.
 */
import { Annotations } from 'cdktf';
import type { IConstruct } from 'constructs';
import { formatIssue, type PlanIssue, type ProtectionPlan } from '../core';
import { headlineMonthlyEstimate } from '../report/cost';
import type { Provider } from '../report/prices';

export function annotatePlanWarnings(scope: IConstruct, warnings: readonly PlanIssue[]): void {
  for (const warning of warnings) Annotations.of(scope).addWarning(`Counterparty plan warning: ${formatIssue(warning)}`);
}

/**
 * The plan's headline monthly estimate for `provider` as an info annotation. An estimate that can't be
 * made (a region missing from the price table, say) is a warning, never a synth failure.
 */
export function annotateMonthlyEstimate(scope: IConstruct, plan: ProtectionPlan, provider: Provider): void {
  try {
    const text = headlineMonthlyEstimate(plan).perProviderText[provider];
    if (text) Annotations.of(scope).addInfo(text);
  } catch (err) {
    Annotations.of(scope).addWarning(`Counterparty: no monthly cost estimate for this plan (${(err as Error).message}); run npm run plan-report for details.`);
  }
}
