/**
 * Comparing two synthesized CloudFormation templates: resource counts per
 * type, IAM statement counts, size, and a normalized structural diff (keys
 * sorted; the CDK analytics metadata, which encodes construct class names,
 * left out).
 */
import * as fs from 'fs';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Template { Resources?: Record<string, { Type: string; Properties?: Record<string, Json> }>; [k: string]: Json | undefined | object }

export interface TemplateStats {
  readonly bytes: number;
  readonly resources: number;
  readonly byType: Record<string, number>;
  /** Statements in every IAM policy document of the template (identity and resource policies). */
  readonly iamStatements: number;
}

export function readTemplate(file: string): Template {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Template;
}

function countStatements(node: Json | undefined): number {
  if (Array.isArray(node)) return node.reduce((n: number, v) => n + countStatements(v), 0);
  if (node && typeof node === 'object') {
    let n = 0;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'Statement' && Array.isArray(v)) n += v.length;
      else n += countStatements(v);
    }
    return n;
  }
  return 0;
}

export function templateStats(file: string): TemplateStats {
  const t = readTemplate(file);
  const byType: Record<string, number> = {};
  for (const r of Object.values(t.Resources ?? {})) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
  return {
    bytes: fs.statSync(file).size,
    resources: Object.keys(t.Resources ?? {}).length,
    byType,
    iamStatements: countStatements(t.Resources as unknown as Json),
  };
}

function normalize(node: Json): Json {
  if (Array.isArray(node)) return node.map(normalize);
  if (node && typeof node === 'object') return Object.fromEntries(Object.keys(node).sort().map((k) => [k, normalize(node[k])]));
  return node;
}

/** Paths (JSON-pointer-like) where two templates differ, CDK analytics metadata excluded. At most `limit`. */
export function templateDiff(a: Template, b: Template, limit = 20): string[] {
  const strip = (t: Template): Json => {
    const copy = JSON.parse(JSON.stringify(t)) as Template;
    if (copy.Resources) delete copy.Resources.CDKMetadata;
    return normalize(copy as unknown as Json);
  };
  const out: string[] = [];
  const walk = (x: Json | undefined, y: Json | undefined, p: string) => {
    if (out.length >= limit) return;
    if (JSON.stringify(x) === JSON.stringify(y)) return;
    if (x && y && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys) walk((x as Record<string, Json>)[k], (y as Record<string, Json>)[k], `${p}/${k}`);
      return;
    }
    out.push(p || '/');
  };
  walk(strip(a), strip(b), '');
  return out;
}
