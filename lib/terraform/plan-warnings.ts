/**
 * Plan warnings (e.g. a counterparty identity the AWS trust still lacks) as cdktf synth-time
 * warnings, worded the same on every counterparty.
 */
import { Annotations } from 'cdktf';
import type { IConstruct } from 'constructs';
import { formatIssue, type PlanIssue } from '../core';

export function annotatePlanWarnings(scope: IConstruct, warnings: readonly PlanIssue[]): void {
  for (const warning of warnings) Annotations.of(scope).addWarning(`Counterparty plan warning: ${formatIssue(warning)}`);
}
