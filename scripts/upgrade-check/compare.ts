/**
 * What an upgrade (old synth → new synth) would delete or replace, stateful first.
 */
import { CFN_REPLACEMENT_PROPERTIES, TERRAFORM_FORCE_NEW_ATTRIBUTES } from '../policy/stateful-types';
import type { Engine, OutputResource, SynthOutputs } from './outputs';

export type ChangeKind = 'delete' | 'replace';

export interface UpgradeChange {
  readonly engine: Engine;
  readonly stack: string;
  readonly id: string;
  readonly type: string;
  readonly kind: ChangeKind;
  readonly stateful: boolean;
  /** Why: the identity disappears, the type changes, or which replacement-requiring property changes. */
  readonly reason: string;
  /** How to keep the resource instead. */
  readonly migration: string;
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, val) => (val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => a.localeCompare(b))) : val));

function getPath(body: Record<string, unknown>, dotted: string): unknown {
  let o: unknown = body;
  for (const k of dotted.split('.')) {
    if (!o || typeof o !== 'object') return undefined;
    o = (o as Record<string, unknown>)[k];
  }
  return o;
}

/** How to keep a resource whose identity changed, per engine. */
export function migrationAdvice(engine: Engine, id: string, kind: 'renamed' | 'type' | 'property'): string {
  if (engine === 'cloudformation') {
    if (kind === 'property') return 'revert the property, or create the new resource beside the old one and migrate the data; CloudFormation would create a new resource and (with Retain) orphan the old one.';
    if (kind === 'type') return 'keep the old resource type under this logical ID; introduce the new type under a new construct ID and migrate data explicitly.';
    return `keep the construct ID (and so logical ID ${id}) unchanged, or pin it with (resource.node.defaultChild as CfnResource).overrideLogicalId('${id}'); a new logical ID makes CloudFormation create a new resource and delete (or, with Retain, orphan) the old one.`;
  }
  if (kind === 'property') return 'revert the attribute: it is ForceNew in the provider, so Terraform would destroy and re-create the resource (prevent_destroy makes the plan fail instead).';
  if (kind === 'type') return 'keep the old resource type at this address; migrate to the new type with `terraform state rm` + `import` (or a `moved` block where the provider supports cross-type moves).';
  return `keep the construct ID so the address stays ${id}, or add a \`moved\` block (cdktf: resource.moveFromId('${id}') / a moved { from = ${id}, to = <new address> } in the stack), or run \`terraform state mv ${id} <new address>\` before applying.`;
}

export function compareOutputs(before: SynthOutputs, after: SynthOutputs): UpgradeChange[] {
  const key = (r: OutputResource) => `${r.engine}\u0000${r.stack}\u0000${r.id}`;
  const next = new Map(after.resources.map((r) => [key(r), r]));
  const changes: UpgradeChange[] = [];
  for (const old of before.resources) {
    const now = next.get(key(old));
    const stateful = old.stateful;
    if (!now) {
      const movedTo = old.engine === 'terraform' ? after.moved.get(old.stack)?.get(old.id) : undefined;
      if (movedTo && after.resources.some((r) => r.engine === 'terraform' && r.stack === old.stack && r.id === movedTo && r.type === old.type)) continue;
      changes.push({ engine: old.engine, stack: old.stack, id: old.id, type: old.type, kind: 'delete', stateful, reason: `${old.engine === 'cloudformation' ? 'logical ID' : 'address'} ${old.id} no longer exists`, migration: migrationAdvice(old.engine, old.id, 'renamed') });
      continue;
    }
    if (now.type !== old.type) {
      changes.push({ engine: old.engine, stack: old.stack, id: old.id, type: old.type, kind: 'replace', stateful: stateful || now.stateful, reason: `type changes from ${old.type} to ${now.type}`, migration: migrationAdvice(old.engine, old.id, 'type') });
      continue;
    }
    const props = old.engine === 'cloudformation' ? CFN_REPLACEMENT_PROPERTIES[old.type] : TERRAFORM_FORCE_NEW_ATTRIBUTES[old.type];
    const changed = (props ?? []).filter((p) => stable(getPath(old.body, p)) !== stable(getPath(now.body, p)));
    if (changed.length > 0) {
      const detail = changed.map((p) => `${p}: ${stable(getPath(old.body, p)) ?? '(not set)'} → ${stable(getPath(now.body, p)) ?? '(not set)'}`).join('; ');
      changes.push({ engine: old.engine, stack: old.stack, id: old.id, type: old.type, kind: 'replace', stateful, reason: `replacement-requiring ${changed.length === 1 ? 'property' : 'properties'} changed: ${detail}`, migration: migrationAdvice(old.engine, old.id, 'property') });
    }
  }
  return changes.sort((a, b) => Number(b.stateful) - Number(a.stateful) || a.engine.localeCompare(b.engine) || a.stack.localeCompare(b.stack) || a.id.localeCompare(b.id));
}

export function formatChanges(changes: readonly UpgradeChange[]): string {
  if (changes.length === 0) return 'upgrade-check: no resource would be deleted or replaced.';
  const lines = changes.map((c) => `${c.stateful ? 'STATEFUL' : 'stateless'} ${c.kind.toUpperCase()} ${c.engine} ${c.stack} ${c.id} (${c.type}): ${c.reason}\n    how to keep it: ${c.migration}`);
  const stateful = changes.filter((c) => c.stateful).length;
  return `${lines.join('\n')}\nupgrade-check: ${changes.length} resource(s) would be deleted or replaced, ${stateful} of them stateful.`;
}
