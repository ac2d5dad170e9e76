/**
 * npm run plan-report -- [--plan <module exporting a ProtectionPlan>[:exportName]] [--volumes <json>] [--out <dir>] [--now <ISO date>]
 *
 * Writes <out>/plan-report.md, <out>/plan-report.json and <out>/plan-topology.svg
 * (plus the DOT source). Defaults: the reference plan (stacks/reference-plan.ts),
 * the reference volumes (lib/report/reference-volumes.json), out dir plan-report-out.
 * Exit 0 on success; 1 with one error line on stderr and a JSON failure line on stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ProtectionPlan } from '../lib/core';
import { buildReport, referenceVolumes, renderJson, renderMarkdown, validateVolumes, type Volumes } from '../lib/report';
import { renderSvg } from '../lib/report/svg';

const USAGE = 'usage: npm run plan-report -- [--plan <module>[:export]] [--volumes <file.json>] [--out <dir>] [--now <ISO date>]';

interface Args {
  readonly plan: string;
  readonly volumes?: string;
  readonly out: string;
  readonly now?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!['--plan', '--volumes', '--out', '--now'].includes(flag)) throw new Error(`unknown argument "${argv[i]}"; ${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value; ${USAGE}`);
    values[flag.slice(2)] = value;
  }
  return { plan: values.plan ?? 'stacks/reference-plan.ts:referencePlan', volumes: values.volumes, out: values.out ?? 'plan-report-out', now: values.now };
}

function looksLikePlan(value: unknown): value is ProtectionPlan {
  return !!value && typeof value === 'object' && typeof (value as ProtectionPlan).system === 'string' && Array.isArray((value as ProtectionPlan).datasets);
}

/** Loads `path[:exportName]`: the named export, else `default`, else the module's only plan-shaped export. */
function loadPlan(spec: string): ProtectionPlan {
  const match = /^(.*?)(?::([A-Za-z_$][\w$]*))?$/.exec(spec);
  const file = resolve(match?.[1] ?? spec);
  const name = match?.[2];
  const mod = require(file) as Record<string, unknown>;
  if (name) {
    if (!looksLikePlan(mod[name])) throw new Error(`--plan ${spec}: export "${name}" is not a ProtectionPlan (needs system and datasets)`);
    return mod[name];
  }
  if (looksLikePlan(mod.default)) return mod.default;
  const plans = Object.entries(mod).filter(([, v]) => looksLikePlan(v));
  if (plans.length !== 1) {
    throw new Error(`--plan ${spec}: found ${plans.length} ProtectionPlan exports (${plans.map(([k]) => k).join(', ') || 'none'}); name one as <module>:<export>`);
  }
  return plans[0][1] as ProtectionPlan;
}

function loadVolumes(file: string | undefined): { volumes: Volumes; source: string } {
  if (!file) return { volumes: referenceVolumes, source: 'lib/report/reference-volumes.json' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`--volumes ${file}: ${(error as Error).message}`);
  }
  return { volumes: validateVolumes(parsed, file), source: file };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const now = args.now ? new Date(args.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new Error(`--now ${args.now} is not a date; give an ISO date such as 2026-11-26`);
  const plan = loadPlan(args.plan);
  const { volumes, source } = loadVolumes(args.volumes);
  const report = buildReport({ plan, volumes, planSource: args.plan, volumesSource: source, now });
  const svg = renderSvg(report.dot);
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  const files = { markdown: join(out, 'plan-report.md'), json: join(out, 'plan-report.json'), svg: join(out, 'plan-topology.svg'), dot: join(out, 'plan-topology.dot') };
  writeFileSync(files.markdown, renderMarkdown(report, 'plan-topology.svg'));
  writeFileSync(files.json, renderJson(report));
  writeFileSync(files.svg, svg);
  writeFileSync(files.dot, report.dot);
  for (const w of report.warnings) process.stderr.write(`plan-report: warning: ${w}\n`);
  process.stdout.write(`${JSON.stringify({ event: 'counterparty.plan-report', result: 'success', system: report.system, totalUsd: report.cost.totalUsd, perProvider: report.cost.perProvider, priceTableDate: report.priceTable.date, warnings: report.warnings.length, files })}\n`);
}

try {
  main();
} catch (error) {
  const message = (error as Error).message.split('\n')[0];
  process.stderr.write(`plan-report: ${message}\n`);
  process.stdout.write(`${JSON.stringify({ event: 'counterparty.plan-report', result: 'failure', error: message })}\n`);
  process.exitCode = 1;
}
