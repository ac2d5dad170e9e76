/**
 * Grouping a V8 CPU profile (`node --cpu-prof`) into the buckets the
 * benchmarks explain themselves with: module loading, aws-cdk-lib by
 * submodule, cdk-nag, ts-node's source-map support, GC, etc.
 */
import * as fs from 'fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface ProfileSummary {
  readonly totalMs: number;
  /** [bucket, ms] sorted by ms descending. */
  readonly buckets: [string, number][];
}

function bucketOf(url: string, fn: string): string {
  if (fn === 'spawnSync') return 'waiting on child processes (spawnSync: esbuild via npx, ...)';
  if (!url) return fn === '(garbage collector)' ? 'V8 garbage collector' : fn === '(idle)' || fn === '(program)' ? `V8 ${fn}` : 'native';
  const u = url.replace(/^file:\/\//, '');
  if (u.startsWith('node:internal/modules') || u.startsWith('node:vm')) return 'Node module loading (compile + resolve)';
  if (u.includes('child_process')) return 'waiting on child processes (spawnSync: esbuild via npx, ...)';
  if (u.startsWith('node:')) return 'Node core (fs, crypto, path, child_process...)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(u);
  if (m) {
    const [, pkg, rest] = m;
    if (pkg === 'aws-cdk-lib') {
      const sub = rest.split('/')[0];
      return sub === 'core' || sub.startsWith('.') ? 'aws-cdk-lib core (tokens, resolve, synthesis)' : `aws-cdk-lib/${sub}`;
    }
    if (pkg === '@cspotcode/source-map-support' || pkg === 'source-map-support') return 'source-map-support (ts-node stack traces)';
    if (pkg === 'typescript' || pkg === 'ts-node' || pkg.startsWith('@swc')) return 'ts-node / TypeScript transpile';
    return pkg;
  }
  if (/\/lib\/(aws|core|gcp|azure|terraform)\//.test(u)) return 'Counterparty lib/';
  return 'project code (bin/, stacks/, bench/)';
}

export function summarizeProfile(file: string): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const buckets = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i] ?? 0;
    const n = byId.get(p.samples[i]);
    if (!n) continue;
    total += us;
    const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
    buckets.set(b, (buckets.get(b) ?? 0) + us);
  }
  return { totalMs: total / 1000, buckets: [...buckets].map(([k, us]) => [k, us / 1000] as [string, number]).sort((a, b) => b[1] - a[1]) };
}
