import { Testing, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { ProtectionPlan } from '../../lib/core';
import { GcpCounterpartyStack } from '../../stacks/gcp-counterparty-stack';
import { referencePlan } from '../../stacks/reference-plan';

export type TfJson = {
  resource: Record<string, Record<string, Record<string, any>>>;
  data?: Record<string, Record<string, Record<string, any>>>;
  output?: Record<string, { value: string; description?: string }>;
  provider?: Record<string, any[]>;
  terraform: any;
};

/** A plan derived from the reference plan with `patch` applied to the top level and to counterparties.gcp. */
export function planWith(patch: Partial<ProtectionPlan> = {}, gcpPatch: Record<string, unknown> = {}): ProtectionPlan {
  return {
    ...referencePlan,
    ...patch,
    counterparties: { gcp: { ...referencePlan.counterparties.gcp!, ...gcpPatch } as any },
  };
}

export function synthStack(plan: ProtectionPlan = referencePlan): { json: TfJson; text: string; stack: GcpCounterpartyStack } {
  const app = Testing.app();
  const stack = new GcpCounterpartyStack(app, 'counterparty-gcp', { plan });
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text, stack };
}

/** Synthesize constructs added to a bare stack by `fn`. */
export function synthScope(fn: (scope: Construct) => void): { json: TfJson; text: string } {
  const stack = new TerraformStack(Testing.app(), 's');
  fn(stack);
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text };
}

/** All resources of `type`, as a list. */
export function resources(json: TfJson, type: string): Record<string, any>[] {
  return Object.values(json.resource[type] ?? {});
}

export function only(json: TfJson, type: string): Record<string, any> {
  const list = resources(json, type);
  if (list.length !== 1) throw new Error(`expected exactly one ${type}, found ${list.length}`);
  return list[0];
}
