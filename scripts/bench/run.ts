/**
 * `npm run bench`: the benchmarks of issue 7. Prints a table per section and
 * rewrites BENCHMARKS.md (and bench-out/results.json, raw samples included).
 *
 *   npm run bench                                  # everything
 *   npm run bench -- --only synth,scaling          # a subset (synth, scaling, test, drill)
 *   BENCH_RUNS=5            measured runs per command after one warm-up (synth, scaling)
 *   BENCH_TEST_RUNS=5       measured `npm test` runs (after BENCH_TEST_WARMUP=1 warm-up)
 *   BENCH_SIZES=10,100,500  dataset counts of the scaling plans
 *   BENCH_DRILL=auto|run|skip   run `npm run drill` first: when its report is missing (auto), always, or never
 *
 *   npm run bench -- --render-only                 # rewrite BENCHMARKS.md from bench-out/results.json (e.g. after editing FINDINGS.md)
 *
 * Sections not run keep their previous figures (from bench-out/results.json), each with its own date and load.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { drillFigures, numericLeaves, readDrillReport, type DrillFigure } from './drill-figures';
import { fmtSample, measure, measureGroup, median, ROOT, runOnce, type Command, type Measured } from './measure';
import { kindMix } from './plan-gen';
import { summarizeProfile, type ProfileSummary } from './profile';
import { templateDiff, templateStats, readTemplate, type TemplateStats } from './templates';
import { renderScale, type ScaleResult } from './scale';

const SECTIONS = ['synth', 'scaling', 'test', 'drill', 'scale'] as const;
type Section = typeof SECTIONS[number];

const OUT = path.join(ROOT, 'bench-out');
const TMP = path.join(OUT, 'tmp');
const RESULTS = path.join(OUT, 'results.json');
const MD = path.join(ROOT, 'BENCHMARKS.md');
const TSNODE = ['-r', 'ts-node/register/transpile-only'];

const log = (s: string) => process.stdout.write(`${s}\n`);

// ------------------------------------------------------------------ options

function parseArgs(argv: string[]): Section[] {
  let only: Section[] = [...SECTIONS];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--render-only') { only = []; continue; }
    if (a === '--scale-only') { only = ['scale']; continue; }
    const value = a.startsWith('--only=') ? a.slice(7) : a === '--only' ? argv[++i] : undefined;
    if (value !== undefined) {
      const names = value.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.filter((n) => !SECTIONS.includes(n as Section));
      if (bad.length || names.length === 0) throw new Error(`--only ${value}: unknown section(s) ${bad.join(', ')}; use ${SECTIONS.join(', ')}`);
      only = names as Section[];
    } else if (a === '--help' || a === '-h') {
      log('usage: npm run bench [-- --only synth,scaling,test,drill,scale | --scale-only | --render-only]   (env: BENCH_RUNS, BENCH_TEST_RUNS, BENCH_TEST_WARMUP, BENCH_SIZES, BENCH_DRILL)');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${a}; use --only synth,scaling,test,drill`);
    }
  }
  return only;
}

function intEnv(name: string, dflt: number, min: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${v}: must be an integer ≥ ${min}`);
  return n;
}

// ------------------------------------------------------------------ context

interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

function machine(): Machine {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

/** Other busy processes right now (by CPU), to say what the machine was doing. */
function busyProcesses(): string[] {
  const r = spawnSync('ps', ['-eo', 'pcpu,rss,args', '--sort=-pcpu', '--no-headers'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).filter((l) => !/ps -eo|scripts\/bench\/|npm run bench/.test(l)).slice(0, 6).map((l) => l.trim().replace(/\s+/g, ' ').slice(0, 140)).filter((l) => Number(l.split(' ')[0]) >= 5);
}

interface Load { readonly before: number[]; readonly after: number[]; readonly busy: string[] }
function loadNow(): number[] { return os.loadavg().map((v) => Math.round(v * 100) / 100); }

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;
}

/**
 * The environment the cdk CLI gives the app (CDK_CONTEXT_JSON with cdk.json's
 * context and the CLI's own defaults, CDK_OUTDIR, ...), captured by running
 * the CLI with a tiny app that records it. Falls back to cdk.json's context
 * plus the CLI defaults known for aws-cdk 2.1148 if the capture fails.
 */
function captureEnv(kind: 'cdk' | 'cdktf'): { env: Record<string, string>; how: string } {
  const file = path.join(TMP, `${kind}-env.json`);
  const script = path.join(TMP, `capture-${kind}.js`);
  fs.mkdirSync(TMP, { recursive: true });
  fs.rmSync(file, { force: true });
  fs.writeFileSync(script, `require('fs').writeFileSync(${JSON.stringify(file)}, JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(CDK|CDKTF|JSII)/.test(k)))));\n`);
  const out = path.join(TMP, `capture-${kind}-out`);
  const cmd = kind === 'cdk'
    ? ['npx', '--no-install', 'cdk', 'synth', '--quiet', '--app', `node ${script}`, '-o', out]
    : ['npx', '--no-install', 'cdktf', 'synth', '--app', `node ${script}`, '--output', out];
  spawnSync(cmd[0], cmd.slice(1), { cwd: ROOT, env: { ...process.env, CHECKPOINT_DISABLE: '1' }, encoding: 'utf8', timeout: 120_000 });
  if (fs.existsSync(file)) {
    const env = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    for (const k of ['CDK_OUTDIR', 'CDKTF_OUTDIR', 'CDK_ERROR_FILE', 'CDK_PERF_COUNTERS_FILE']) delete env[k];
    return { env, how: `captured from \`${cmd.slice(2).join(' ').replace(script, '<capture.js>').replace(out, '<tmp>')}\`` };
  }
  if (kind === 'cdk') {
    const ctx = { ...(readJson('cdk.json').context as object), 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:version-reporting': true, 'aws:cdk:bundling-stacks': ['**'], '@aws-cdk/core:failSynthOnValidationErrors': false };
    return { env: { CDK_CONTEXT_JSON: JSON.stringify(ctx) }, how: 'cdk.json context plus the CLI defaults (capture failed)' };
  }
  const ctx = { cdktfRelativeModules: [], ...(readJson('cdktf.json').context as object) };
  return { env: { CDKTF_CONTEXT_JSON: JSON.stringify(ctx), CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: 'true' }, how: 'cdktf.json context (capture failed)' };
}

function withContext(env: Record<string, string>, extra: Record<string, unknown>): Record<string, string> {
  const ctx = JSON.parse(env.CDK_CONTEXT_JSON ?? '{}') as Record<string, unknown>;
  return { ...env, CDK_CONTEXT_JSON: JSON.stringify({ ...ctx, ...extra }) };
}

function cleanDir(dir: string): () => void {
  return () => { fs.rmSync(dir, { recursive: true, force: true }); fs.mkdirSync(dir, { recursive: true }); };
}

// ------------------------------------------------------------------ results

interface Row {
  readonly name: string;
  readonly command: string;
  readonly runs: number;
  readonly medianWallMs: number;
  readonly minWallMs: number;
  readonly maxWallMs: number;
  readonly medianRssMiB?: number;
  readonly medianCpuMs?: number;
  readonly failures: number;
  readonly targetWallMs?: number;
  readonly targetRssMiB?: number;
  readonly note?: string;
}

function row(m: Measured, extra: Partial<Row> = {}): Row {
  return { name: m.name, command: m.command, runs: m.samples.length, medianWallMs: m.medianWallMs, minWallMs: m.minWallMs, maxWallMs: m.maxWallMs, medianRssMiB: m.medianRssMiB, medianCpuMs: m.medianCpuMs, failures: m.failures, ...extra };
}

interface SectionResult {
  readonly section: Section;
  readonly date: string;
  readonly load: Load;
  readonly runs: number;
  readonly rows: Row[];
  readonly notes: string[];
  readonly [k: string]: unknown;
}

interface Results {
  machine: Machine;
  sections: Partial<Record<Section, SectionResult>>;
}

const s2 = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (v?: number) => (v === undefined ? 'n/a' : `${v.toFixed(0)} MiB`);
const x = (v?: number) => (v === undefined || !Number.isFinite(v) ? 'n/a' : `${v.toFixed(2)}×`);
const verdict = (ok?: boolean) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');

function printTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

// ------------------------------------------------------------------ 1. synth

function buildPrecompiled(notes: string[]): string | undefined {
  const outDir = path.join(OUT, 'dist');
  fs.rmSync(outDir, { recursive: true, force: true });
  const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
  const start = Date.now();
  let r = spawnSync(tsc, ['-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: ROOT, encoding: 'utf8' });
  let how = `\`tsc -p tsconfig.build.json --outDir bench-out/dist\` (what \`npm run build\` runs, into bench-out/ so dist/ is left alone), ${s2(Date.now() - start)}`;
  if (r.status !== 0) {
    notes.push(`The type-checked build failed (exit ${r.status}): ${(r.stdout + r.stderr).split('\n').filter(Boolean).slice(0, 3).join(' / ')}; the precompiled figures come from \`--noCheck\` emit instead.`);
    r = spawnSync(tsc, ['-p', 'tsconfig.build.json', '--outDir', outDir, '--noCheck'], { cwd: ROOT, encoding: 'utf8' });
    how += ' (type errors: emitted with --noCheck)';
  }
  const app = path.join(outDir, 'bin/primary.js');
  if (!fs.existsSync(app)) {
    notes.push(`Precompiled JS not measured: no ${path.relative(ROOT, app)} after the build (exit ${r.status}).`);
    return undefined;
  }
  // NodejsFunction entries from dist: lib/aws/nightly-export-pipeline.ts looks for lib/runtime/handlers/<name>.ts, then .js, next to itself.
  const missing = ['connect-export', 'build-manifest'].filter((h) => !['.ts', '.js'].some((e) => fs.existsSync(path.join(outDir, 'lib/runtime/handlers', h + e))));
  notes.push(missing.length
    ? `**NodejsFunction entries do not resolve from precompiled JS**: ${missing.join(', ')} missing under bench-out/dist/lib/runtime/handlers/.`
    : 'NodejsFunction entries resolve from precompiled JS: `handlerEntry()` falls back from `lib/runtime/handlers/<name>.ts` to the emitted `.js` next to it, and esbuild bundles that.');
  notes.push(`Precompiled build: ${how}.`);
  return app;
}

function synthSection(runs: number): SectionResult {
  const load: Load = { before: loadNow(), after: [], busy: busyProcesses() };
  const notes: string[] = [];
  const cdk = captureEnv('cdk');
  const cdktf = captureEnv('cdktf');
  notes.push(`cdk app environment ${cdk.how}; cdktf app environment ${cdktf.how}.`);
  const cdkApp = String(readJson('cdk.json').app);
  const cdktfApp = String(readJson('cdktf.json').app);
  const awsOut = path.join(TMP, 'synth-aws');
  const awsEnv = { ...cdk.env, CDK_OUTDIR: awsOut };
  const ctxNote = 'CDK_CONTEXT_JSON=<cdk.json context + CLI defaults> CDK_OUTDIR=<tmp>';
  const aws: Command = { name: 'AWS app (cdk.json `app`)', display: `${ctxNote} ${cdkApp}`, shell: cdkApp, env: awsEnv, before: cleanDir(awsOut) };
  const awsNoBundle: Command = { ...aws, name: 'AWS app, bundling off', display: `CDK_CONTEXT_JSON=<cdk.json context + CLI defaults + aws:cdk:bundling-stacks: []> CDK_OUTDIR=<tmp> ${cdkApp}`, env: withContext(awsEnv, { 'aws:cdk:bundling-stacks': [] }) };
  const app = buildPrecompiled(notes);
  const precompiled: Command | undefined = app ? { name: 'AWS app, precompiled JS', display: `${ctxNote} node bench-out/dist/bin/primary.js`, argv: [process.execPath, app], env: awsEnv, before: cleanDir(awsOut) } : undefined;
  const tf = (stack: 'gcp' | 'azure'): Command => {
    const out = path.join(TMP, `synth-${stack}`);
    return { name: `cdktf ${stack === 'gcp' ? 'GCP' : 'Azure'} stack`, display: `COUNTERPARTY_STACKS=${stack} CDKTF_OUTDIR=<tmp> CDKTF_CONTEXT_JSON=<cdktf.json context> ${cdktfApp}`, shell: cdktfApp, env: { ...cdktf.env, COUNTERPARTY_STACKS: stack, CDKTF_OUTDIR: out }, before: cleanDir(out) };
  };
  const npx: Command = { name: '`npx --no-install esbuild --version`', display: 'npx --no-install esbuild --version', argv: ['npx', '--no-install', 'esbuild', '--version'] };
  const direct: Command = { name: '`node_modules/.bin/esbuild --version`', display: 'node_modules/.bin/esbuild --version', argv: [path.join(ROOT, 'node_modules/.bin/esbuild'), '--version'] };

  log(`\n== synth (${runs} runs after a warm-up, round-robin) ==`);
  const group = measureGroup([aws, ...(precompiled ? [precompiled] : []), awsNoBundle, tf('gcp'), tf('azure')], runs, log);
  const [awsM] = group;
  const pre = precompiled ? group[1] : undefined;
  const noBundle = group[precompiled ? 2 : 1];
  const gcp = group[group.length - 2];
  const azure = group[group.length - 1];
  log('  esbuild runner (NodejsFunction bundling spawns it once per function):');
  const [npxM, directM] = measureGroup([npx, direct], runs, log);

  // Where the AWS app's time goes: one phase-timed run and one CPU profile (diagnostics, not benchmarks).
  const phases = spawnSync(process.execPath, [...TSNODE, path.join(ROOT, 'scripts/bench/phases.ts')], { cwd: ROOT, env: { ...process.env, ...awsEnv }, encoding: 'utf8' });
  const profDir = path.join(TMP, 'cpuprof');
  fs.rmSync(profDir, { recursive: true, force: true });
  spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...TSNODE, path.join(ROOT, 'bin/primary.ts')], { cwd: ROOT, env: { ...process.env, ...awsEnv }, encoding: 'utf8' });
  const profFile = fs.existsSync(profDir) ? fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f))[0] : undefined;
  const profile: ProfileSummary | undefined = profFile ? summarizeProfile(profFile) : undefined;

  // The user-facing command, once (informational).
  log('  npm run synth (once, informational):');
  const synth = measure({ name: '`npm run synth` (cdk CLI + cdktf CLI, both apps)', display: 'npm run synth', shell: 'npm run synth', allowFailure: true }, 1, log, 0);

  const rows: Row[] = [
    row(awsM, { targetWallMs: 6000, targetRssMiB: 600 }),
    ...(pre ? [row(pre, { targetWallMs: 6000, targetRssMiB: 600, note: `${x(pre.medianWallMs / awsM.medianWallMs)} the cdk.json app's wall` })] : []),
    row(noBundle, { note: `${x(noBundle.medianWallMs / awsM.medianWallMs)} the cdk.json app's wall: bundling costs ${s2(awsM.medianWallMs - noBundle.medianWallMs)}` }),
    row(gcp, { targetWallMs: 3000, targetRssMiB: 400 }),
    row(azure, { targetWallMs: 3000, targetRssMiB: 400 }),
    row(npxM, { note: 'how NodejsFunction runs esbuild (workspace install → `npx --no-install esbuild`)' }),
    row(directM, { note: `${x(npxM.medianWallMs / Math.max(directM.medianWallMs, 1))} cheaper than npx` }),
    row(synth, { note: synth.failures ? 'FAILED (see log)' : 'end to end, informational (one run)' }),
  ];
  load.after.push(...loadNow());
  return { section: 'synth', date: new Date().toISOString(), load, runs, rows, notes, phases: phases.stdout?.replace(/\s+$/, ''), profile };
}

// ------------------------------------------------------------------ 2. scaling

interface Fit { readonly interceptMs: number; readonly slopeMsPerDataset: number; readonly r2: number }
function linearFit(xs: number[], ys: number[]): Fit {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0; let sxx = 0; let syy = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; syy += (ys[i] - my) ** 2; }
  const slope = sxx ? sxy / sxx : 0;
  return { interceptMs: my - slope * mx, slopeMsPerDataset: slope, r2: syy ? (sxy * sxy) / (sxx * syy) : 1 };
}

interface ScalePoint {
  readonly datasets: number;
  readonly mix: Record<string, number>;
  readonly ours: Row;
  readonly baseline: Row;
  readonly pairedWallRatio: number;
  readonly pairedCpuRatio: number;
  readonly pairedRssRatio: number;
  readonly oursStats: TemplateStats;
  readonly baselineStats: TemplateStats;
  readonly typeDifferences: string[];
  readonly templateDifferences: string[];
}

function scalingSection(runs: number, sizes: number[]): SectionResult {
  const load: Load = { before: loadNow(), after: [], busy: busyProcesses() };
  const notes: string[] = [];
  const cdk = captureEnv('cdk');
  const env = withContext(cdk.env, { 'aws:cdk:bundling-stacks': [] });
  notes.push('Lambda bundling is off in both variants (context `aws:cdk:bundling-stacks: []`), so esbuild does not dominate; the context is otherwise cdk.json\'s plus the cdk CLI defaults.');
  notes.push('No validation plugin in either variant (cdk-nag off in both); built-in CloudFormation validation off in both (as bin/primary.ts). Both run through ts-node transpile-only, like the cdk.json app.');
  log(`\n== scaling (${runs} runs after a warm-up per variant and size, round-robin) ==`);
  const points: ScalePoint[] = [];
  for (const n of sizes) {
    const cmd = (impl: 'counterparty' | 'baseline'): Command => {
      const out = path.join(TMP, `scaling-${impl}-${n}`);
      return {
        name: `${impl === 'counterparty' ? 'PrimarySite' : 'baseline'} ${n}`,
        display: `CDK_CONTEXT_JSON=<…, bundling-stacks: []> node -r ts-node/register/transpile-only scripts/bench/synth-scaling.ts ${impl} ${n}`,
        argv: [process.execPath, ...TSNODE, path.join(ROOT, 'scripts/bench/synth-scaling.ts'), impl, String(n)],
        env: { ...env, CDK_OUTDIR: out },
        before: cleanDir(out),
      };
    };
    const [ours, base] = measureGroup([cmd('counterparty'), cmd('baseline')], runs, log);
    const tOurs = path.join(TMP, `scaling-counterparty-${n}`, 'acme-cc-primary.template.json');
    const tBase = path.join(TMP, `scaling-baseline-${n}`, 'acme-cc-primary.template.json');
    const oursStats = templateStats(tOurs);
    const baselineStats = templateStats(tBase);
    const types = new Set([...Object.keys(oursStats.byType), ...Object.keys(baselineStats.byType)]);
    const typeDifferences = [...types].filter((t) => oursStats.byType[t] !== baselineStats.byType[t]).map((t) => `${t}: PrimarySite ${oursStats.byType[t] ?? 0}, baseline ${baselineStats.byType[t] ?? 0}`);
    const templateDifferences = templateDiff(readTemplate(tOurs), readTemplate(tBase));
    // Rounds ran A B, A B, ...: the ratio within each round is the least load-sensitive overhead figure.
    const paired = median(ours.samples.map((sa, i) => sa.wallMs / base.samples[i].wallMs));
    const pairedCpu = median(ours.samples.map((sa, i) => (sa.cpuMs ?? NaN) / (base.samples[i].cpuMs ?? NaN)));
    const pairedRss = median(ours.samples.map((sa, i) => (sa.rssMiB ?? NaN) / (base.samples[i].rssMiB ?? NaN)));
    points.push({ datasets: n, mix: kindMix(n), ours: row(ours, { note: `${x(ours.medianWallMs / base.medianWallMs)} baseline` }), baseline: row(base), pairedWallRatio: paired, pairedCpuRatio: pairedCpu, pairedRssRatio: pairedRss, oursStats, baselineStats, typeDifferences, templateDifferences });
  }
  const xs = points.map((p) => p.datasets);
  const fits = {
    oursWall: linearFit(xs, points.map((p) => p.ours.medianWallMs)),
    baselineWall: linearFit(xs, points.map((p) => p.baseline.medianWallMs)),
    oursCpu: linearFit(xs, points.map((p) => p.ours.medianCpuMs ?? NaN)),
    baselineCpu: linearFit(xs, points.map((p) => p.baseline.medianCpuMs ?? NaN)),
    oursRss: linearFit(xs, points.map((p) => p.ours.medianRssMiB ?? NaN)),
    baselineRss: linearFit(xs, points.map((p) => p.baseline.medianRssMiB ?? NaN)),
  };
  // Marginal cost per dataset between consecutive sizes; superlinear if it grows by more than half.
  const marginal = points.slice(1).map((p, i) => {
    const q = points[i];
    const d = p.datasets - q.datasets;
    return {
      from: q.datasets, to: p.datasets,
      oursMsPerDataset: (p.ours.medianWallMs - q.ours.medianWallMs) / d,
      baselineMsPerDataset: (p.baseline.medianWallMs - q.baseline.medianWallMs) / d,
      oursCpuMsPerDataset: ((p.ours.medianCpuMs ?? NaN) - (q.ours.medianCpuMs ?? NaN)) / d,
      baselineCpuMsPerDataset: ((p.baseline.medianCpuMs ?? NaN) - (q.baseline.medianCpuMs ?? NaN)) / d,
      oursKiBPerDataset: (((p.ours.medianRssMiB ?? 0) - (q.ours.medianRssMiB ?? 0)) * 1024) / d,
    };
  });
  // Judged on CPU time (load-insensitive); the wall-time ratio is reported beside it.
  const growth = marginal.length >= 2 ? marginal[marginal.length - 1].oursCpuMsPerDataset / marginal[0].oursCpuMsPerDataset : undefined;
  const growthWall = marginal.length >= 2 ? marginal[marginal.length - 1].oursMsPerDataset / marginal[0].oursMsPerDataset : undefined;
  load.after.push(...loadNow());
  return {
    section: 'scaling', date: new Date().toISOString(), load, runs, notes,
    rows: points.flatMap((p) => [p.ours, p.baseline]),
    points, fits, marginal, growth, growthWall,
  };
}

// ------------------------------------------------------------------ 3. test

function testSection(runs: number, warmup: number): SectionResult {
  const load: Load = { before: loadNow(), after: [], busy: busyProcesses() };
  log(`\n== npm test (${runs} runs after ${warmup} warm-up) ==`);
  const m = measure({ name: '`npm test` (tsc --noEmit, then jest)', display: 'npm test', shell: 'npm test', allowFailure: true }, runs, log, warmup);
  const notes = [`${runs} measured run(s) after ${warmup} warm-up (BENCH_TEST_RUNS, BENCH_TEST_WARMUP; the issue asks for 5).`];
  if (m.failures) notes.push(`**${m.failures} of ${runs} run(s) failed** (non-zero exit): the figure is the wall time of a failing suite, which may stop early. Run \`npm test\` to see why.`);
  notes.push('Peak RSS is that of the largest single process (tsc or a jest worker), not the sum of the workers.');
  load.after.push(...loadNow());
  return { section: 'test', date: new Date().toISOString(), load, runs, notes, rows: [row(m, { targetWallMs: 90_000 })] };
}

// ------------------------------------------------------------------ 4. drill

function drillSection(mode: string): SectionResult {
  const load: Load = { before: loadNow(), after: [], busy: busyProcesses() };
  const notes: string[] = [];
  const reportFile = path.join(ROOT, 'drill-out/drill-report.json');
  const scripts = (readJson('package.json').scripts ?? {}) as Record<string, string>;
  log('\n== drill (data path) ==');
  const rows: Row[] = [];
  if (mode === 'run' || (mode === 'auto' && !fs.existsSync(reportFile))) {
    if (!scripts.drill) {
      notes.push('`npm run drill` does not exist yet in package.json: the data-path figures are not measured.');
    } else {
      log('  running npm run drill ...');
      const s = runOnce({ name: 'npm run drill', display: 'npm run drill', shell: 'npm run drill', allowFailure: true });
      log(`  npm run drill: ${fmtSample(s)}`);
      rows.push({ name: '`npm run drill` (informational)', command: 'npm run drill', runs: 1, medianWallMs: s.wallMs, minWallMs: s.wallMs, maxWallMs: s.wallMs, medianRssMiB: s.rssMiB, failures: s.exitCode === 0 ? 0 : 1 });
      if (s.exitCode !== 0) notes.push(`\`npm run drill\` exited ${s.exitCode}.`);
    }
  } else if (fs.existsSync(reportFile)) {
    notes.push(`Figures read from the existing ${path.relative(ROOT, reportFile)} (modified ${fs.statSync(reportFile).mtime.toISOString()}); \`BENCH_DRILL=run\` reruns the drill first.`);
  }
  const { report, error } = readDrillReport(reportFile);
  let figures: DrillFigure[] = [];
  let leaves: string[] = [];
  if (report === undefined) {
    notes.push(`No drill report: ${error}.`);
  } else {
    figures = drillFigures(report);
    leaves = numericLeaves(report).slice(0, 60);
    const num = (p: string) => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), report);
    const short = [['benchmarks.verifier.seconds', 'verifier'], ['benchmarks.sha256sum.seconds', 'sha256sum'], ['benchmarks.pgRestorePlain.seconds', 'plain pg_restore'], ['benchmarks.restorerPostgres.seconds', 'restorer']]
      .filter(([p]) => typeof num(p) === 'number' && (num(p) as number) < 1).map(([p, what]) => `${what} ${(num(p) as number).toFixed(3)} s`);
    if (short.length) notes.push(`Each data-path figure is **one sample** of the drill, and these timings are under a second (${short.join(', ')}): fixed costs (process start, HTTP round trips, \`Date.now()\` resolution) weigh heavily in the ratios. Larger fixtures and a median of several runs would make them robust.`);
    const missing = figures.filter((f) => f.value === undefined);
    if (missing.length) notes.push(`The report has no field for: ${missing.map((f) => f.name).join('; ')}. Numeric fields it has: ${leaves.slice(0, 25).join(', ') || 'none'}.`);
  }
  load.after.push(...loadNow());
  return { section: 'drill', date: new Date().toISOString(), load, runs: 1, notes, rows, figures, reportFields: leaves };
}

// ------------------------------------------------------------------ report

function loadLine(l: Load): string {
  return `load average (1/5/15 min) ${l.before.join(' / ')} before, ${l.after.join(' / ')} after${l.busy.length ? `; busiest processes at the start: ${l.busy.map((b) => `\`${b}\``).join(', ')}` : ''}`;
}

function rowsTable(rows: Row[], withTarget = true): string {
  return printTable(
    ['what', 'runs', 'median wall', 'min–max', 'median CPU (user+sys, Node processes)', 'median peak RSS', ...(withTarget ? ['target', 'verdict'] : []), 'note'],
    rows.map((r) => {
      const wallOk = r.targetWallMs === undefined ? undefined : r.medianWallMs <= r.targetWallMs;
      const rssOk = r.targetRssMiB === undefined || r.medianRssMiB === undefined ? undefined : r.medianRssMiB <= r.targetRssMiB;
      const target = [r.targetWallMs !== undefined ? `≤ ${s2(r.targetWallMs)} (${x(r.medianWallMs / r.targetWallMs)})` : '', r.targetRssMiB !== undefined ? `≤ ${r.targetRssMiB} MiB (${x((r.medianRssMiB ?? NaN) / r.targetRssMiB)})` : ''].filter(Boolean).join(', ');
      const v = r.targetWallMs === undefined && r.targetRssMiB === undefined ? '' : [wallOk, rssOk].some((o) => o === false) ? '**missed**' : r.failures ? 'failed' : 'met';
      return [r.name, String(r.runs), s2(r.medianWallMs), `${s2(r.minWallMs)}–${s2(r.maxWallMs)}`, r.medianCpuMs === undefined ? 'n/a' : s2(r.medianCpuMs), mib(r.medianRssMiB), ...(withTarget ? [target, v] : []), r.note ?? ''];
    }),
  );
}

function renderSynth(s: SectionResult): string {
  const out = [`## 1. Synth of the reference app\n`, `Run ${s.date}, ${s.runs} measured runs per command after one warm-up, round-robin; ${loadLine(s.load)}.\n`, rowsTable(s.rows), ''];
  out.push('Commands (run from the repository root; `<tmp>` is a fresh directory under bench-out/tmp):\n');
  for (const r of s.rows) out.push(`- ${r.name}: \`${r.command}\``);
  out.push('', ...s.notes.map((n) => `- ${n}`));
  if (s.phases) out.push('', 'Where the AWS app\'s time goes, one run of `node -r ts-node/register/transpile-only scripts/bench/phases.ts` (same context; in-process times, after Node and ts-node start):', '', '```', String(s.phases), '```');
  const prof = s.profile as ProfileSummary | undefined;
  if (prof) {
    out.push('', `CPU profile of one AWS app run (\`node --cpu-prof -r ts-node/register/transpile-only bin/primary.ts\`, main thread, ${prof.totalMs.toFixed(0)} ms sampled; child processes such as npx/esbuild are not in it):`, '');
    out.push(printTable(['bucket', 'self time', 'share'], prof.buckets.slice(0, 14).map(([b, ms]) => [b, `${ms.toFixed(0)} ms`, `${((100 * ms) / prof.totalMs).toFixed(1)} %`])));
  }
  return out.join('\n');
}

function renderScaling(s: SectionResult): string {
  const points = s.points as ScalePoint[];
  const fits = s.fits as Record<string, Fit>;
  const marginal = s.marginal as { from: number; to: number; oursMsPerDataset: number; baselineMsPerDataset: number; oursCpuMsPerDataset: number; baselineCpuMsPerDataset: number; oursKiBPerDataset: number }[];
  const out = [`## 2. Scaling with the number of datasets\n`, `Run ${s.date}, ${s.runs} measured runs per variant and size after one warm-up, round-robin; ${loadLine(s.load)}.\n`];
  out.push('Plans from `scripts/bench/plan-gen.ts` (the reference plan with N datasets; per 10: 4 s3Bucket, 3 dynamoDbTable, 2 postgres, 1 connectInstance), synthesized by `PrimarySite` and by the hand-written baseline `bench/baseline-primary.ts` (plain aws-cdk-lib, no import from lib/).\n');
  out.push(printTable(['datasets', 'PrimarySite wall', 'baseline wall', 'wall: ratio of medians', 'wall: median of paired ratios (target ≤ 1.15×)', 'PrimarySite CPU', 'baseline CPU', 'CPU ratio (paired)', 'PrimarySite RSS', 'baseline RSS', 'RSS ratio (paired)', 'verdict'], points.map((p) => {
    const ratio = p.ours.medianWallMs / p.baseline.medianWallMs;
    const paired = p.pairedWallRatio ?? ratio;
    const cpu = (v?: number) => (v === undefined ? 'n/a' : s2(v));
    return [String(p.datasets), s2(p.ours.medianWallMs), s2(p.baseline.medianWallMs), x(ratio), x(paired), cpu(p.ours.medianCpuMs), cpu(p.baseline.medianCpuMs), x(p.pairedCpuRatio), mib(p.ours.medianRssMiB), mib(p.baseline.medianRssMiB), x(p.pairedRssRatio), paired <= 1.15 ? 'met' : '**missed**'];
  })));
  out.push('', 'The verdict uses the median of the per-round ratios (each round runs PrimarySite then the baseline back to back, so both see the same load); the ratio of the two medians is shown beside it.');
  out.push('', 'Growth:', '');
  out.push(`- Least-squares fit, wall = a + b·N: PrimarySite a = ${s2(fits.oursWall.interceptMs)}, b = ${fits.oursWall.slopeMsPerDataset.toFixed(2)} ms/dataset (R² ${fits.oursWall.r2.toFixed(3)}); baseline a = ${s2(fits.baselineWall.interceptMs)}, b = ${fits.baselineWall.slopeMsPerDataset.toFixed(2)} ms/dataset (R² ${fits.baselineWall.r2.toFixed(3)}).`);
  if (fits.oursCpu) out.push(`- CPU time fit (user + system): PrimarySite a = ${s2(fits.oursCpu.interceptMs)}, b = ${fits.oursCpu.slopeMsPerDataset.toFixed(2)} ms/dataset (R² ${fits.oursCpu.r2.toFixed(3)}); baseline a = ${s2(fits.baselineCpu.interceptMs)}, b = ${fits.baselineCpu.slopeMsPerDataset.toFixed(2)} ms/dataset (R² ${fits.baselineCpu.r2.toFixed(3)}).`);
  out.push(`- Peak RSS fit: PrimarySite ${fits.oursRss.interceptMs.toFixed(0)} MiB + ${(fits.oursRss.slopeMsPerDataset * 1024).toFixed(0)} KiB/dataset (R² ${fits.oursRss.r2.toFixed(3)}); baseline ${fits.baselineRss.interceptMs.toFixed(0)} MiB + ${(fits.baselineRss.slopeMsPerDataset * 1024).toFixed(0)} KiB/dataset.`);
  for (const m of marginal) out.push(`- Marginal cost ${m.from}→${m.to}, per dataset: PrimarySite ${m.oursCpuMsPerDataset?.toFixed(2)} ms CPU, ${m.oursMsPerDataset.toFixed(2)} ms wall, ${m.oursKiBPerDataset.toFixed(0)} KiB RSS; baseline ${m.baselineCpuMsPerDataset?.toFixed(2)} ms CPU, ${m.baselineMsPerDataset.toFixed(2)} ms wall.`);
  if (s.growth !== undefined) {
    const g = s.growth as number;
    out.push(`- Ratio of the per-dataset CPU cost, last interval ÷ first: ${x(g)} (${g > 1.5 ? '**superlinear: the cost of a dataset grows with the plan**' : 'no superlinear blow-up (threshold 1.5×)'}); the same ratio on wall time: ${x(s.growthWall as number)} (wall time on a loaded machine is not a reliable growth signal: one slow round moves it).`);
  }
  out.push('', 'Are the two templates the same? Resource counts per type, IAM statements and size, at each size:', '');
  const types = [...new Set(points.flatMap((p) => [...Object.keys(p.oursStats.byType), ...Object.keys(p.baselineStats.byType)]))].sort();
  out.push(printTable(['resource type', ...points.map((p) => `${p.datasets}: PrimarySite / baseline`)], [
    ...types.map((t) => [t, ...points.map((p) => `${p.oursStats.byType[t] ?? 0} / ${p.baselineStats.byType[t] ?? 0}`)]),
    ['(all resources)', ...points.map((p) => `${p.oursStats.resources} / ${p.baselineStats.resources}`)],
    ['(IAM statements)', ...points.map((p) => `${p.oursStats.iamStatements} / ${p.baselineStats.iamStatements}`)],
    ['(template bytes)', ...points.map((p) => `${p.oursStats.bytes} / ${p.baselineStats.bytes}`)],
  ]));
  out.push('');
  for (const p of points) {
    out.push(`- ${p.datasets} datasets (${Object.entries(p.mix).map(([k, v]) => `${v} ${k}`).join(', ')}): ${p.typeDifferences.length ? `**counts differ**: ${p.typeDifferences.join('; ')}` : 'same counts per type'}; ${p.templateDifferences.length ? `**templates differ** at ${p.templateDifferences.slice(0, 8).join(', ')}` : 'templates identical once keys are sorted and the CDK analytics metadata (which names construct classes) is left out'}.`);
  }
  out.push('', `Command per variant and size: \`${points[0]?.ours.command ?? ''}\` (and \`… baseline <N>\`), with \`CDK_OUTDIR\` a fresh directory.`);
  out.push('', ...s.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

function renderTest(s: SectionResult): string {
  return [`## 3. \`npm test\`\n`, `Run ${s.date}; ${loadLine(s.load)}.\n`, rowsTable(s.rows), '', `Command: \`${s.rows[0]?.command ?? 'npm test'}\` (the drill's tests included), timed by \`npm run bench -- --only test\`.`, '', ...s.notes.map((n) => `- ${n}`)].join('\n');
}

function renderDrill(s: SectionResult): string {
  const figures = (s.figures ?? []) as DrillFigure[];
  const out = [`## 4. Data path (from the drill)\n`, `Read ${s.date}; ${loadLine(s.load)}.\n`];
  if (figures.length) {
    out.push(printTable(['figure', 'ratio', 'ours', 'peer', 'value', 'target', 'verdict', 'report field'], figures.map((f) => [f.name, f.ratio, f.ours ?? '—', f.peer ?? '—', f.value === undefined ? 'not measured' : x(f.value), f.target, verdict(f.met), f.source])));
  } else {
    out.push(printTable(['figure', 'target', 'verdict'], [
      ['Verifier throughput vs `sha256sum` (same files)', '≥ 0.8×', 'not measured'],
      ['Restore vs plain `pg_restore` (same dump)', '≤ 1.1×', 'not measured'],
      ['Bytes moved on a 1 %-change night vs bytes changed', '≤ 1.05×', 'not measured'],
    ]));
  }
  if (s.rows.length) out.push('', rowsTable(s.rows, false));
  out.push('', ...s.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

// ------------------------------------------------------------------ 5. scale (format v2)

/** scripts/bench/scale.ts in its own process (it spawns one worker per size and night); reads bench-out/scale.json. */
function scaleSection(): SectionResult {
  const before = loadNow();
  const r = spawnSync(process.execPath, [...TSNODE, path.join(ROOT, 'scripts/bench/scale.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`scripts/bench/scale.ts exited ${r.status}`);
  const scale = JSON.parse(fs.readFileSync(path.join(OUT, 'scale.json'), 'utf8')) as ScaleResult;
  return { section: 'scale', date: scale.date, load: { before, after: loadNow(), busy: [] }, runs: 1, rows: [], notes: [], scale };
}

/**
 * The sections of the BENCHMARKS.md on disk, by number ("1" .. "5"). A section this run has no result for
 * (bench-out/ is not in git, so a fresh clone has no results.json) keeps its previous text, with its own
 * date and load, instead of turning into "not measured".
 */
function previousSections(): Record<string, string> {
  if (!fs.existsSync(MD)) return {};
  const text = fs.readFileSync(MD, 'utf8');
  const out: Record<string, string> = {};
  const re = /^## (\d)\. [^\n]*\n[\s\S]*?(?=^## |(?![\s\S]))/gm;
  for (const m of text.matchAll(re)) out[m[1]] = m[0].trimEnd();
  return out;
}

function renderMarkdown(r: Results, findings: string): string {
  const m = r.machine;
  const sec = r.sections;
  const kept = previousSections();
  const keptOr = (n: string, text: string): string => kept[n] ?? text;
  return [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (scripts/bench/run.ts). The "Findings" section is kept from scripts/bench/FINDINGS.md. -->',
    '',
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB memory, Node ${m.node}, ${m.platform}.`,
    '',
    'Reproduce: `npm run bench` (all sections; `-- --only synth,scaling,test,drill` for a subset; `BENCH_RUNS` (default 5) measured runs per command after one warm-up; `BENCH_TEST_RUNS` (default 5); `BENCH_SIZES` (default 10,100,500)). Wall time is measured by the harness around each process; peak RSS is each Node process\'s own `getrusage` maxRSS (a `--require` probe through NODE_OPTIONS, scripts/bench/rss-probe.js), the largest process of the run, as GNU `time -v` would report it. Medians throughout. Raw samples: bench-out/results.json.',
    '',
    '**Load matters**: every section states the load average while it ran. Figures taken on a loaded machine overstate wall times; compare ratios measured side by side in the same run, which load affects alike.',
    '',
    sec.synth ? renderSynth(sec.synth) : keptOr('1', '## 1. Synth of the reference app\n\nNot measured yet: `npm run bench -- --only synth`.'),
    '',
    sec.scaling ? renderScaling(sec.scaling) : keptOr('2', '## 2. Scaling with the number of datasets\n\nNot measured yet: `npm run bench -- --only scaling`.'),
    '',
    sec.test ? renderTest(sec.test) : keptOr('3', '## 3. `npm test`\n\nNot measured yet: `npm run bench -- --only test`.'),
    '',
    sec.drill ? renderDrill(sec.drill) : keptOr('4', '## 4. Data path (from the drill)\n\nNot measured yet: `npm run bench -- --only drill`.'),
    '',
    sec.scale ? renderScale(sec.scale.scale as ScaleResult) : keptOr('5', '## 5. Scale: format v2 at 1 M and 10 M objects\n\nNot measured yet: `npm run bench -- --scale-only`.'),
    '',
    findings.trim(),
    '',
  ].join('\n');
}

// ------------------------------------------------------------------ main

function main(): void {
  const only = parseArgs(process.argv.slice(2));
  const runs = intEnv('BENCH_RUNS', 5, 1);
  const testRuns = intEnv('BENCH_TEST_RUNS', 5, 1);
  const testWarmup = intEnv('BENCH_TEST_WARMUP', 1, 0);
  const sizes = (process.env.BENCH_SIZES ?? '10,100,500').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || sizes.length < 2) throw new Error(`BENCH_SIZES=${process.env.BENCH_SIZES}: give at least two dataset counts, e.g. 10,100,500`);
  const drillMode = process.env.BENCH_DRILL ?? 'auto';
  if (!['auto', 'run', 'skip'].includes(drillMode)) throw new Error(`BENCH_DRILL=${drillMode}: use auto, run or skip`);
  fs.mkdirSync(TMP, { recursive: true });

  const previous: Results | undefined = fs.existsSync(RESULTS) ? JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as Results : undefined;
  const results: Results = { machine: machine(), sections: { ...(previous?.sections ?? {}) } };
  log(`bench: ${only.join(', ')}; ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}; load ${loadNow().join(' / ')}`);

  const save = () => {
    fs.writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    const findingsFile = path.join(__dirname, 'FINDINGS.md');
    const findings = fs.existsSync(findingsFile) ? fs.readFileSync(findingsFile, 'utf8') : '';
    fs.writeFileSync(MD, renderMarkdown(results, findings));
  };

  for (const section of only) {
    let r: SectionResult;
    if (section === 'synth') r = synthSection(runs);
    else if (section === 'scaling') r = scalingSection(runs, sizes);
    else if (section === 'test') r = testSection(testRuns, testWarmup);
    else if (section === 'scale') r = scaleSection();
    else r = drillSection(drillMode === 'skip' ? 'read' : drillMode);
    results.sections[section] = r;
    save(); // after every section, so a long run that is interrupted keeps what it measured
    const md = section === 'synth' ? renderSynth(r) : section === 'scaling' ? renderScaling(r) : section === 'test' ? renderTest(r) : section === 'scale' ? renderScale(r.scale as ScaleResult) : renderDrill(r);
    log(`\n${md}\n`);
  }
  if (only.length === 0) save();
  log(`wrote ${path.relative(ROOT, MD)} and ${path.relative(ROOT, RESULTS)}`);
}

main();
