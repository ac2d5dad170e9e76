/**
 * Measuring one command: wall time from the parent, peak RSS from the child's
 * own getrusage (Node children, via scripts/bench/rss-probe.js) or, for
 * non-Node commands, from GNU time when the machine has it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');
const PROBE = path.join(ROOT, 'scripts/bench/rss-probe.js');

export interface Sample {
  readonly wallMs: number;
  /** Peak RSS in MiB, or undefined when it could not be measured. */
  readonly rssMiB?: number;
}

export interface Measured {
  readonly name: string;
  readonly command: string;
  readonly samples: readonly Sample[];
  readonly medianWallMs: number;
  readonly medianRssMiB?: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Command {
  /** Shown in BENCHMARKS.md. */
  readonly display: string;
  /** A Node script (run with ts-node's transpile-only register and the RSS probe) ... */
  readonly nodeScript?: string;
  readonly nodeArgs?: readonly string[];
  /** ... or a shell command (wall time only, RSS through GNU time if present). */
  readonly shell?: string;
  readonly env?: Record<string, string>;
}

function runOnce(cmd: Command): Sample {
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Date.now()}`);
  const env = { ...process.env, ...cmd.env, BENCH_RSS_FILE: rssFile, CHECKPOINT_DISABLE: '1' };
  const start = process.hrtime.bigint();
  let result;
  if (cmd.nodeScript) {
    result = spawnSync(process.execPath, ['-r', PROBE, '-r', 'ts-node/register/transpile-only', cmd.nodeScript, ...(cmd.nodeArgs ?? [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } else {
    result = spawnSync('bash', ['-c', cmd.shell!], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(`benchmark command failed (${cmd.display}), exit ${result.status}:\n${String(result.stderr).slice(-2000)}`);
  }
  let rssMiB: number | undefined;
  if (fs.existsSync(rssFile)) {
    rssMiB = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
    fs.rmSync(rssFile);
  }
  return { wallMs, rssMiB };
}

/** One warm-up run, then `runs` measured runs; medians of both wall and RSS. */
export function measure(name: string, cmd: Command, runs: number, log: (s: string) => void = () => undefined): Measured {
  runOnce(cmd);
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(runOnce(cmd));
    log(`  ${name}: run ${i + 1}/${runs} ${(samples[i].wallMs / 1000).toFixed(2)} s${samples[i].rssMiB ? `, ${samples[i].rssMiB!.toFixed(0)} MiB` : ''}`);
  }
  const rss = samples.map((s) => s.rssMiB).filter((v): v is number => v !== undefined);
  return {
    name,
    command: cmd.display,
    samples,
    medianWallMs: median(samples.map((s) => s.wallMs)),
    medianRssMiB: rss.length === samples.length ? median(rss) : undefined,
  };
}
