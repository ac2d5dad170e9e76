/**
 * Reads synthesized outputs of both engines into one shape: per stack, per
 * resource identity (CloudFormation logical ID / Terraform `type.name`
 * address), its type, body and retention settings. No engine imports.
 */
import * as fs from 'fs';
import * as path from 'path';
import { STATEFUL_CFN_TYPES, STATEFUL_TERRAFORM_TYPES } from '../policy/stateful-types';

export type Engine = 'cloudformation' | 'terraform';

export interface OutputResource {
  readonly engine: Engine;
  /** CloudFormation: the template's stack artifact ID; Terraform: the cdktf stack name. */
  readonly stack: string;
  /** CloudFormation logical ID, or Terraform address `type.name`. */
  readonly id: string;
  readonly type: string;
  /** CloudFormation `Properties`, or the Terraform resource body. */
  readonly body: Record<string, unknown>;
  readonly deletionPolicy?: string;
  readonly updateReplacePolicy?: string;
  readonly preventDestroy?: boolean;
  readonly stateful: boolean;
  /** The file it came from. */
  readonly file: string;
}

export interface SynthOutputs {
  readonly resources: readonly OutputResource[];
  /** Terraform `moved` blocks, per stack: from address → to address. */
  readonly moved: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly cloudFormationTemplates: readonly string[];
  readonly terraformFiles: readonly string[];
}

const STATEFUL_CFN = new Set(STATEFUL_CFN_TYPES);
const STATEFUL_TF = new Set(STATEFUL_TERRAFORM_TYPES);

export function isStatefulType(engine: Engine, type: string): boolean {
  return engine === 'cloudformation' ? STATEFUL_CFN.has(type) : STATEFUL_TF.has(type);
}

function walk(dir: string, match: (name: string) => boolean, depth = 0, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < 6 && !['node_modules', '.terraform', '.cache'].includes(e.name) && !e.name.startsWith('asset.')) walk(full, match, depth + 1, out);
    } else if (match(e.name)) out.push(full);
  }
  return out.sort();
}

/**
 * Finds the engine outputs under `dir`: a directory containing `cdk.out/` and/or
 * `cdktf.out/`, or one of those directories itself.
 */
export function locateOutputs(dir: string): { cdkOut?: string; cdktfOut?: string } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory of synthesized outputs`);
  const has = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
  const cdkOut = has(path.join(dir, 'cdk.out')) ? path.join(dir, 'cdk.out') : fs.existsSync(path.join(dir, 'manifest.json')) && !has(path.join(dir, 'stacks')) ? dir : undefined;
  const cdktfOut = has(path.join(dir, 'cdktf.out')) ? path.join(dir, 'cdktf.out') : has(path.join(dir, 'stacks')) ? dir : undefined;
  if (!cdkOut && !cdktfOut) throw new Error(`${dir} contains neither cdk.out/ nor cdktf.out/ (nor is it one of them)`);
  return { cdkOut, cdktfOut };
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function readCloudFormation(cdkOut: string): { resources: OutputResource[]; templates: string[] } {
  const templates = walk(cdkOut, (n) => n.endsWith('.template.json'));
  const resources: OutputResource[] = [];
  for (const file of templates) {
    const stack = path.relative(cdkOut, file).replace(/\.template\.json$/, '');
    const tpl = readJson(file);
    for (const [id, raw] of Object.entries((tpl.Resources ?? {}) as Record<string, Record<string, unknown>>)) {
      const type = String(raw.Type);
      resources.push({
        engine: 'cloudformation', stack, id, type, file,
        body: (raw.Properties ?? {}) as Record<string, unknown>,
        deletionPolicy: raw.DeletionPolicy as string | undefined,
        updateReplacePolicy: raw.UpdateReplacePolicy as string | undefined,
        stateful: isStatefulType('cloudformation', type),
      });
    }
  }
  return { resources, templates };
}

export function readTerraform(cdktfOut: string): { resources: OutputResource[]; files: string[]; moved: Map<string, Map<string, string>> } {
  const files = walk(cdktfOut, (n) => n === 'cdk.tf.json');
  const resources: OutputResource[] = [];
  const moved = new Map<string, Map<string, string>>();
  for (const file of files) {
    const doc = readJson(file);
    const meta = ((doc['//'] as Record<string, unknown> | undefined)?.metadata ?? {}) as Record<string, unknown>;
    const stack = typeof meta.stackName === 'string' ? meta.stackName : path.basename(path.dirname(file));
    for (const [type, byName] of Object.entries((doc.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [name, body] of Object.entries(byName)) {
        const lifecycle = (body.lifecycle ?? {}) as Record<string, unknown>;
        resources.push({
          engine: 'terraform', stack, id: `${type}.${name}`, type, file, body,
          preventDestroy: lifecycle.prevent_destroy === true,
          stateful: isStatefulType('terraform', type),
        });
      }
    }
    const m = new Map<string, string>();
    const blocks = doc.moved;
    for (const b of (Array.isArray(blocks) ? blocks : blocks ? [blocks] : []) as Array<Record<string, unknown>>) {
      if (typeof b.from === 'string' && typeof b.to === 'string') m.set(b.from, b.to);
    }
    moved.set(stack, m);
  }
  return { resources, files, moved };
}

/** Reads everything under a synth directory (see {@link locateOutputs}). */
export function readOutputs(dir: string): SynthOutputs {
  const { cdkOut, cdktfOut } = locateOutputs(dir);
  const cfn = cdkOut ? readCloudFormation(cdkOut) : { resources: [], templates: [] };
  const tf = cdktfOut ? readTerraform(cdktfOut) : { resources: [], files: [], moved: new Map() };
  return { resources: [...cfn.resources, ...tf.resources], moved: tf.moved, cloudFormationTemplates: cfn.templates, terraformFiles: tf.files };
}
