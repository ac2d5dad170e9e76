import { Testing } from 'cdktf';
import type { ProtectionPlan } from '../../lib/core';
import { AzureCounterpartyStack } from '../../stacks/azure-counterparty-stack';
import { referencePlan } from '../../stacks/reference-plan';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Resources = Record<string, Record<string, Record<string, any>>>;
export interface Synth {
  readonly text: string;
  readonly json: { resource: Resources; output: Record<string, { value: unknown }>; data?: Resources; provider?: any; terraform?: any };
  readonly stack: AzureCounterpartyStack;
}

/** Synthesizes the reference Azure stack for `plan` (the reference plan by default). */
export function synthPlan(plan: ProtectionPlan = referencePlan): Synth {
  const stack = new AzureCounterpartyStack(Testing.app(), 'counterparty-azure', { plan });
  const text = Testing.synth(stack);
  // Same config with construct metadata ("//": { metadata: { path } }), which Testing.synth strips.
  const json = JSON.parse(JSON.stringify(stack.toTerraform()));
  return { text, json, stack };
}

/** The one resource of a type (fails if there are 0 or several). */
export function only(s: Synth, type: string): Record<string, any> {
  const all = Object.values(s.json.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** `${<type>.<logical id>.<attr>}` of the resource at a construct path ending in `pathSuffix`. */
export function ref(s: Synth, type: string, pathSuffix: string, attr: string): string {
  const entries = Object.entries(s.json.resource[type] ?? {}).filter(([, r]) => String(r['//']?.metadata?.path).endsWith(pathSuffix));
  if (entries.length !== 1) throw new Error(`expected one ${type} at *${pathSuffix}, found ${entries.length}`);
  return `\${${type}.${entries[0][0]}.${attr}}`;
}

export function withAzure(overrides: Partial<NonNullable<ProtectionPlan['counterparties']['azure']>>, top: Partial<ProtectionPlan> = {}): ProtectionPlan {
  return { ...referencePlan, ...top, counterparties: { ...referencePlan.counterparties, azure: { ...referencePlan.counterparties.azure!, ...overrides } } };
}

export { referencePlan };
