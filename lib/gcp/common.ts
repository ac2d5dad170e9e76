/**
 * Small helpers shared by the GCP constructs: validation errors in the
 * project's format, GCP label sanitising, and the `preventDestroy` lifecycle.
 */
import type { TerraformResourceLifecycle } from 'cdktf';
import type { Construct } from 'constructs';
import { describeValue } from '../core/errors';

/** Lifecycle of every stateful resource: Terraform refuses to destroy (or replace) it. */
export const STATEFUL: TerraformResourceLifecycle = { preventDestroy: true };

/**
 * Throws the project's construct validation error:
 * `<construct path>: <prop> = <value> <problem> Fix: <fix>`.
 */
export function invalid(scope: Construct, prop: string, value: unknown, problem: string, fix: string): never {
  throw new Error(`${scope.node.path}: ${prop} = ${describeValue(value)} ${problem} Fix: ${fix}`);
}

/**
 * GCP label keys and values: lowercase letters, digits, `_` and `-`, at most
 * 63 characters; keys start with a letter. Plan tags are lowercased (the plan
 * documents this) and other characters become `_`.
 */
export function gcpLabels(tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    const key = k.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
    out[/^[a-z]/.test(key) ? key : `k${key}`.slice(0, 63)] = v.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
  }
  return out;
}

/** `n` days as a protobuf Duration string (`"86400s"`). */
export function daysToDuration(days: number): string {
  return `${days * 86_400}s`;
}
