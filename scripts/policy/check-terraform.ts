/**
 * Runs the project's Terraform policy (policy/terraform/*.guard) with the
 * cfn-guard 3.1.1 binary that ships inside @cdklabs/cdk-validator-cfnguard,
 * on cdktf's `cdk.tf.json` files, and turns its JSON report into findings.
 *
 * The rules read plan-derived values (retention, standby/active mode) from a
 * parameters file the runner writes and passes with `--input-params`, so the
 * numbers live only in the plan.
 *
 *   npm run policy                         # cdktf.out/stacks/*\/cdk.tf.json of the reference plan
 *   npm run policy -- <dir|file>...        # other outputs (directories are searched for cdk.tf.json)
 *
 * Exit code: 0 no findings, 1 findings, 2 usage or tool error.
 * No engine imports here (cdktf stays in lib/gcp, lib/azure, lib/terraform).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolvePlan, type ProtectionPlan, type ResolvedPlan } from '../../lib/core';

const ROOT = path.resolve(__dirname, '../..');

/** The directory holding the project's `.guard` rules for Terraform JSON. */
export const TERRAFORM_RULES_DIR = path.join(ROOT, 'policy', 'terraform');

/** One policy violation: which rule, on which resource (`type.name`), in which file, and why. */
export interface PolicyFinding {
  readonly rule: string;
  /** Terraform address `type.name`, or `(file)` when the failure is not tied to one resource. */
  readonly resource: string;
  readonly message: string;
  readonly file: string;
  /** JSON pointer of the offending value as cfn-guard reports it. */
  readonly path: string;
}

/** Per file: which rules passed, failed, and did not apply (no resource of their type). */
export interface PolicyFileResult {
  readonly file: string;
  readonly status: 'PASS' | 'FAIL' | 'SKIP';
  readonly compliant: readonly string[];
  readonly notCompliant: readonly string[];
  readonly notApplicable: readonly string[];
}

export interface PolicyReport {
  readonly findings: readonly PolicyFinding[];
  readonly files: readonly PolicyFileResult[];
}

/** The guard variables, under `counterparty_policy`, derived from the plan. */
export interface PolicyParameters {
  readonly retention_seconds: number;
  readonly retention_days: number;
  readonly gcp_mode: 'standby' | 'active' | 'absent';
  readonly azure_mode: 'standby' | 'active' | 'absent';
}

/** Derives the guard parameters from a plan (validated and defaulted first). */
export function policyParameters(plan: ProtectionPlan | ResolvedPlan): PolicyParameters {
  const p = resolvePlan(plan as ProtectionPlan);
  return {
    retention_seconds: p.retentionDays * 86400,
    retention_days: p.retentionDays,
    gcp_mode: p.counterparties.gcp?.mode ?? 'absent',
    azure_mode: p.counterparties.azure?.mode ?? 'absent',
  };
}

/** Path of the cfn-guard binary for this platform inside @cdklabs/cdk-validator-cfnguard. */
export function cfnGuardBinary(): string {
  const pkg = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
  const platform = process.platform === 'darwin' ? 'macos' : process.platform === 'linux' ? 'ubuntu' : undefined;
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
  if (!platform || !arch) throw new Error(`cfn-guard: no bundled binary for ${process.platform}/${process.arch} in ${pkg}/bin`);
  const bin = path.join(pkg, 'bin', platform, arch, 'cfn-guard');
  if (!fs.existsSync(bin)) throw new Error(`cfn-guard: expected the bundled binary at ${bin}`);
  return bin;
}

/** Every `cdk.tf.json` under a directory (a cdktf.out, a stacks dir, or a dir containing cdktf.out). */
export function findTerraformOutputs(dirOrFile: string): string[] {
  const stat = fs.statSync(dirOrFile);
  if (stat.isFile()) return [path.resolve(dirOrFile)];
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < 5 && entry.name !== 'node_modules' && entry.name !== '.terraform') walk(full, depth + 1);
      else if (entry.isFile() && (entry.name === 'cdk.tf.json' || entry.name.endsWith('.tf.json'))) out.push(path.resolve(full));
    }
  };
  walk(dirOrFile, 0);
  return out.sort();
}

/** Splits cfn-guard's output: one JSON document per (rules file, data file), concatenated. */
export function parseConcatenatedJson(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0 && start >= 0) {
        docs.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  if (depth !== 0) throw new Error('cfn-guard output is not complete JSON');
  return docs;
}

type Json = Record<string, unknown>;

/** Finds the first JSON pointer in a check that points into `/resource/<type>/<name>`. */
function resourcePathOf(node: unknown): string | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const p = resourcePathOf(n);
      if (p) return p;
    }
    return undefined;
  }
  if (node && typeof node === 'object') {
    const o = node as Json;
    if (typeof o.path === 'string' && /^\/resource\/[^/]+\/[^/]+/.test(o.path)) return o.path;
    for (const v of Object.values(o)) {
      const p = resourcePathOf(v);
      if (p) return p;
    }
  }
  return undefined;
}

/** Collects every clause of a failed rule that carries one of our custom messages. */
function failedClauses(node: unknown, out: Array<{ message: string; path: string }>, field: 'custom_message' | 'error_message'): void {
  if (Array.isArray(node)) {
    node.forEach((n) => failedClauses(n, out, field));
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Json;
  const messages = o.messages as Json | undefined;
  const text = messages && typeof messages[field] === 'string' ? (messages[field] as string).trim() : '';
  if (text && o.check !== undefined) {
    out.push({ message: text, path: resourcePathOf(o.check) ?? '' });
    return;
  }
  for (const v of Object.values(o)) failedClauses(v, out, field);
}

function addressOf(pointer: string): string {
  const m = /^\/resource\/([^/]+)\/([^/]+)/.exec(pointer);
  return m ? `${m[1]}.${m[2]}` : '(file)';
}

/**
 * Adds `counterparty_address: "<type>.<name>"` to every resource body. cfn-guard 3.1.1 can't
 * bind a map key inside a block, and its `keys !in %query` filter is wrong for multi-value
 * queries, so the cross-resource rules (a storage account's CMK, a server's management lock)
 * match references like `${azurerm_storage_account.vault.id}` against this field instead.
 */
export function annotateAddresses(doc: unknown, file = '(input)'): unknown {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`policy: ${file} is not a Terraform JSON object`);
  const resources = (doc as Json).resource;
  if (resources === undefined) return doc;
  if (!resources || typeof resources !== 'object') throw new Error(`policy: ${file} has a "resource" that is not an object`);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [type, byName] of Object.entries(resources as Record<string, Record<string, unknown>>)) {
    out[type] = {};
    for (const [name, body] of Object.entries(byName ?? {})) {
      out[type][name] = body && typeof body === 'object' && !Array.isArray(body) ? { ...(body as Json), counterparty_address: `${type}.${name}` } : body;
    }
  }
  return { ...(doc as Json), resource: out };
}

/** Runs every rule on every file, once, and returns the findings and per-file rule results. */
export function checkTerraformFiles(files: readonly string[], params: PolicyParameters, rulesDir: string = TERRAFORM_RULES_DIR): PolicyReport {
  if (files.length === 0) return { findings: [], files: [] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-policy-'));
  try {
    const paramsFile = path.join(tmp, 'counterparty-policy-params.json');
    fs.writeFileSync(paramsFile, JSON.stringify({ counterparty_policy: params }));
    const args = ['validate', '--rules', rulesDir, '--input-params', paramsFile, '--output-format', 'json', '--show-summary', 'none'];
    const originals = new Map<string, string>();
    files.forEach((f, i) => {
      const copy = path.join(tmp, `${i}-${path.basename(path.dirname(f))}-${path.basename(f)}`.replace(/[^\w.-]/g, '_'));
      fs.writeFileSync(copy, JSON.stringify(annotateAddresses(JSON.parse(fs.readFileSync(f, 'utf8')), f)));
      originals.set(copy, f);
      args.push('--data', copy);
    });
    const proc = spawnSync(cfnGuardBinary(), args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (proc.error) throw proc.error;
    // cfn-guard: 0 = all pass, 19 = some rule failed, 5 = some rule failed (older exit code); anything else is a tool error.
    if (proc.status !== 0 && proc.status !== 19 && proc.status !== 5) {
      throw new Error(`cfn-guard exited with ${proc.status ?? proc.signal}: ${proc.stderr.trim() || proc.stdout.slice(0, 2000)}`);
    }
    const report = interpretGuardOutput(proc.stdout);
    const original = (f: string) => originals.get(f) ?? f;
    return {
      findings: report.findings.map((f) => ({ ...f, file: original(f.file) })),
      files: report.files.map((f) => ({ ...f, file: original(f.file) })),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Turns cfn-guard `--output-format json` text into findings and per-file results. */
export function interpretGuardOutput(stdout: string): PolicyReport {
  const perFile = new Map<string, { compliant: Set<string>; notCompliant: Set<string>; notApplicable: Set<string> }>();
  const findings = new Map<string, PolicyFinding>();
  for (const doc of parseConcatenatedJson(stdout) as Json[]) {
    const file = String(doc.name);
    const entry = perFile.get(file) ?? { compliant: new Set(), notCompliant: new Set(), notApplicable: new Set() };
    perFile.set(file, entry);
    for (const r of (doc.compliant as string[] | undefined) ?? []) entry.compliant.add(r);
    for (const r of (doc.not_applicable as string[] | undefined) ?? []) entry.notApplicable.add(r);
    for (const failed of (doc.not_compliant as Json[] | undefined) ?? []) {
      const rule = failed.Rule as Json | undefined;
      if (!rule) continue;
      const name = String(rule.name);
      entry.notCompliant.add(name);
      const clauses: Array<{ message: string; path: string }> = [];
      failedClauses(rule.checks, clauses, 'custom_message');
      // A clause without its own << message >> still fails the rule: report cfn-guard's text then.
      if (clauses.length === 0) failedClauses(rule.checks, clauses, 'error_message');
      if (clauses.length === 0) clauses.push({ message: `rule ${name} failed (no resource-level detail from cfn-guard)`, path: '' });
      for (const c of clauses) {
        const finding: PolicyFinding = { rule: name, resource: addressOf(c.path), message: c.message, file, path: c.path };
        findings.set(`${file}\u0000${name}\u0000${finding.resource}\u0000${c.message}`, finding);
      }
    }
  }
  const files: PolicyFileResult[] = [...perFile.entries()].map(([file, e]) => {
    // A rule that passed for one rules file can't be "not applicable" in another: rules files are disjoint.
    const notCompliant = [...e.notCompliant].sort();
    return {
      file,
      status: notCompliant.length > 0 ? 'FAIL' : e.compliant.size > 0 ? 'PASS' : 'SKIP',
      compliant: [...e.compliant].sort(),
      notCompliant,
      notApplicable: [...e.notApplicable].sort(),
    };
  });
  return { findings: [...findings.values()].sort((a, b) => (a.file + a.rule + a.resource).localeCompare(b.file + b.rule + b.resource)), files };
}

/** Every rule name declared in the rules directory. */
export function declaredRules(rulesDir: string = TERRAFORM_RULES_DIR): string[] {
  const names: string[] = [];
  for (const f of fs.readdirSync(rulesDir).filter((n) => n.endsWith('.guard')).sort()) {
    for (const m of fs.readFileSync(path.join(rulesDir, f), 'utf8').matchAll(/^\s*rule\s+([A-Za-z0-9_]+)/gm)) names.push(m[1]);
  }
  return names;
}

export function formatFindings(report: PolicyReport, cwd = process.cwd()): string {
  const lines: string[] = [];
  for (const f of report.files) {
    lines.push(`${path.relative(cwd, f.file)}: ${f.status} (${f.compliant.length} passed, ${f.notCompliant.length} failed, ${f.notApplicable.length} not applicable)`);
  }
  for (const f of report.findings) lines.push(`  FAIL ${f.rule} ${f.resource} (${path.relative(cwd, f.file)}): ${f.message}`);
  return lines.join('\n');
}

function main(argv: string[]): number {
  const targets = argv.length > 0 ? argv : [path.join(process.cwd(), 'cdktf.out')];
  const files = targets.flatMap((t) => {
    if (!fs.existsSync(t)) throw new Error(`policy: ${t} does not exist; run \`CHECKPOINT_DISABLE=1 npx cdktf synth\` first, or pass a directory of cdk.tf.json files`);
    return findTerraformOutputs(t);
  });
  if (files.length === 0) {
    process.stderr.write(`policy: no cdk.tf.json found under ${targets.join(', ')}\n`);
    return 2;
  }
  // The reference app's plan; the same plan bin/counterparty.ts synthesizes.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { referencePlan } = require('../../stacks/reference-plan') as { referencePlan: ProtectionPlan };
  const params = policyParameters(referencePlan);
  const report = checkTerraformFiles(files, params);
  process.stdout.write(`policy: ${declaredRules().length} rules, parameters ${JSON.stringify(params)}\n${formatFindings(report)}\n`);
  process.stdout.write(`policy: ${report.findings.length} finding(s) in ${files.length} file(s)\n`);
  return report.findings.length === 0 ? 0 : 1;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
