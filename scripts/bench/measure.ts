/**
 * Measuring commands: wall time from the parent (hrtime around spawnSync),
 * peak RSS from the measured processes' own getrusage (scripts/bench/rss-probe.js,
 * preloaded into every Node process through NODE_OPTIONS). No GNU time needed.
 *
 * Peers are measured side by side: every command of a group gets one warm-up
 * run, then the group runs round-robin (A B C, A B C, ...), so that load
 * drifting on a shared machine hits every peer alike.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');
export const PROBE = path.join(ROOT, 'scripts/bench/rss-probe.js');

export interface Sample {
  readonly wallMs: number;
  /** Peak RSS in MiB of the largest Node process of the run, or undefined when no process reported. */
  readonly rssMiB?: number;
  /** The command line of that largest process. */
  readonly rssProcess?: string;
  /** CPU time (user + system) summed over every Node process of the run: far less sensitive to machine load than wall time. */
  readonly cpuMs?: number;
  /** How many Node processes reported. */
  readonly processes: number;
  readonly exitCode: number | null;
  /** The load average (1 min) when the run started. */
  readonly load1: number;
}

export interface Command {
  /** Short name in tables. */
  readonly name: string;
  /** The command as shown in BENCHMARKS.md (what a person would type). */
  readonly display: string;
  /** argv (no shell) ... */
  readonly argv?: readonly string[];
  /** ... or a bash command line. */
  readonly shell?: string;
  readonly env?: Record<string, string>;
  /** Run before every run (not timed), e.g. to empty the output directory. */
  readonly before?: () => void;
  /** A non-zero exit is recorded instead of thrown (e.g. npm test on a tree in progress). */
  readonly allowFailure?: boolean;
}

export interface Measured {
  readonly name: string;
  readonly command: string;
  readonly samples: readonly Sample[];
  readonly medianWallMs: number;
  readonly medianRssMiB?: number;
  /** Median CPU time of the Node processes (user + system). */
  readonly medianCpuMs?: number;
  readonly minWallMs: number;
  readonly maxWallMs: number;
  readonly failures: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function runOnce(cmd: Command): Sample {
  cmd.before?.();
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const nodeOptions = [process.env.NODE_OPTIONS ?? '', `--require ${PROBE}`].join(' ').trim();
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', ...cmd.env, BENCH_RSS_FILE: rssFile, NODE_OPTIONS: nodeOptions };
  const load1 = os.loadavg()[0];
  const opts = { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024 };
  const start = process.hrtime.bigint();
  const result = cmd.argv ? spawnSync(cmd.argv[0], cmd.argv.slice(1), opts) : spawnSync('bash', ['-c', cmd.shell!], opts);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  let rssMiB: number | undefined;
  let rssProcess: string | undefined;
  let processes = 0;
  let cpuMs: number | undefined;
  if (fs.existsSync(rssFile)) {
    for (const line of fs.readFileSync(rssFile, 'utf8').split('\n').filter(Boolean)) {
      const [, kib, cpuUs, argv] = line.split('\t');
      processes++;
      cpuMs = (cpuMs ?? 0) + Number(cpuUs) / 1000;
      const mib = Number(kib) / 1024;
      if (rssMiB === undefined || mib > rssMiB) { rssMiB = mib; rssProcess = argv; }
    }
    fs.rmSync(rssFile, { force: true });
  }
  if (result.status !== 0 && !cmd.allowFailure) {
    throw new Error(`benchmark command failed (${cmd.display}), exit ${result.status}${result.error ? ` (${result.error.message})` : ''}:\n${String(result.stderr ?? '').slice(-3000)}\n${String(result.stdout ?? '').slice(-2000)}`);
  }
  return { wallMs, rssMiB, rssProcess, cpuMs, processes, exitCode: result.status, load1 };
}

function summarize(cmd: Command, samples: Sample[]): Measured {
  const walls = samples.map((s) => s.wallMs);
  const rss = samples.map((s) => s.rssMiB).filter((v): v is number => v !== undefined);
  return {
    name: cmd.name,
    command: cmd.display,
    samples,
    medianWallMs: median(walls),
    medianRssMiB: rss.length === samples.length && rss.length > 0 ? median(rss) : undefined,
    medianCpuMs: samples.every((s) => s.cpuMs !== undefined) ? median(samples.map((s) => s.cpuMs!)) : undefined,
    minWallMs: Math.min(...walls),
    maxWallMs: Math.max(...walls),
    failures: samples.filter((s) => s.exitCode !== 0).length,
  };
}

export function fmtSample(s: Sample): string {
  return `${(s.wallMs / 1000).toFixed(2)} s${s.cpuMs !== undefined ? ` (cpu ${(s.cpuMs / 1000).toFixed(2)} s)` : ''}${s.rssMiB !== undefined ? `, ${s.rssMiB.toFixed(0)} MiB` : ''}${s.exitCode !== 0 ? ` (exit ${s.exitCode})` : ''} [load ${s.load1.toFixed(2)}]`;
}

/**
 * `warmup` unmeasured runs of each command, then `runs` rounds in which every
 * command runs once, in order; medians of wall and peak RSS per command.
 */
export function measureGroup(cmds: readonly Command[], runs: number, log: (s: string) => void = () => undefined, warmup = 1): Measured[] {
  for (const cmd of cmds) {
    for (let w = 0; w < warmup; w++) {
      const s = runOnce(cmd);
      log(`  ${cmd.name}: warm-up ${fmtSample(s)}`);
    }
  }
  const samples: Sample[][] = cmds.map(() => []);
  for (let i = 0; i < runs; i++) {
    cmds.forEach((cmd, j) => {
      const s = runOnce(cmd);
      samples[j].push(s);
      log(`  ${cmd.name}: run ${i + 1}/${runs} ${fmtSample(s)}`);
    });
  }
  return cmds.map((cmd, j) => summarize(cmd, samples[j]));
}

/** One command alone (a group of one). */
export function measure(cmd: Command, runs: number, log: (s: string) => void = () => undefined, warmup = 1): Measured {
  return measureGroup([cmd], runs, log, warmup)[0];
}
