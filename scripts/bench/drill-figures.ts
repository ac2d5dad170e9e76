/**
 * The data-path figures, read from the drill's report (drill-out/drill-report.json,
 * written by `npm run drill`). The report's shape is the drill's own; each
 * figure is looked up under a few plausible paths and is "not measured" when
 * none exists: nothing is ever estimated here.
 */
import * as fs from 'fs';

export interface DrillFigure {
  readonly name: string;
  /** What the ratio is, in words. */
  readonly ratio: string;
  readonly target: string;
  /** `ours / peer` (throughput: higher is better; time and bytes: lower is better). */
  readonly value?: number;
  readonly ours?: string;
  readonly peer?: string;
  readonly met?: boolean;
  /** The report path(s) the figure came from, or why it is missing. */
  readonly source: string;
}

type Obj = Record<string, unknown>;

function get(o: unknown, p: string): unknown {
  let cur: unknown = o;
  for (const part of p.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[part];
  }
  return cur;
}

function firstNumber(o: unknown, paths: readonly string[]): { value: number; path: string } | undefined {
  for (const p of paths) {
    const v = get(o, p);
    if (typeof v === 'number' && Number.isFinite(v)) return { value: v, path: p };
  }
  return undefined;
}

/** Every numeric leaf of the report, as `a.b.c = n` (to show what the report holds when a figure is missing). */
export function numericLeaves(o: unknown, prefix = '', out: string[] = []): string[] {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o as Obj)) numericLeaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof o === 'number') out.push(`${prefix} = ${o}`);
  return out;
}

/** Paths tried for each part, the drill's own (scripts/drill/run.ts) first. */
const PATHS = {
  verifyRatio: ['benchmarks.verifierVsSha256sum'],
  verifyOursMiBps: ['benchmarks.verifier.mibPerSecond'],
  verifyPeerMiBps: ['benchmarks.sha256sum.mibPerSecond'],
  verifySeconds: ['benchmarks.verifier.seconds'],
  verifyBytes: ['benchmarks.verifier.bytes'],
  restoreRatio: ['benchmarks.restoreVsPgRestore'],
  restoreOursSeconds: ['benchmarks.restorerPostgres.seconds'],
  restorePeerSeconds: ['benchmarks.pgRestorePlain.seconds'],
  restoreDumpBytes: ['benchmarks.pgRestorePlain.dumpBytes'],
  transferRatio: ['transfer.night2.ratio'],
  transferMoved: ['transfer.night2.bytesMoved'],
  transferChanged: ['transfer.night2.bytesChanged'],
} as const;

const MiB = 1048576;

/**
 * Reads the three figures. A figure given directly as a ratio is used as is;
 * otherwise the ratio is computed from its two measured parts. Every figure
 * is one sample of the drill (the drill runs each once).
 */
export function drillFigures(report: unknown): DrillFigure[] {
  const n = (k: keyof typeof PATHS) => firstNumber(report, PATHS[k]);
  const figures: DrillFigure[] = [];
  {
    const ratio = n('verifyRatio'); const ours = n('verifyOursMiBps'); const peer = n('verifyPeerMiBps');
    const secs = n('verifySeconds'); const bytes = n('verifyBytes');
    const value = ratio?.value ?? (ours && peer ? ours.value / peer.value : undefined);
    figures.push({
      name: 'Verifier throughput vs `sha256sum` (same files)', ratio: 'verifier MiB/s ÷ sha256sum MiB/s', target: '≥ 0.8×',
      value, ours: ours ? `${ours.value.toFixed(0)} MiB/s${secs ? ` (${secs.value.toFixed(3)} s` : ''}${secs && bytes ? ` for ${(bytes.value / MiB).toFixed(1)} MiB)` : secs ? ')' : ''}` : undefined,
      peer: peer ? `${peer.value.toFixed(0)} MiB/s` : undefined,
      met: value === undefined ? undefined : value >= 0.8,
      source: [ratio?.path, ours?.path, peer?.path].filter(Boolean).join(', ') || `none of ${[...PATHS.verifyRatio, ...PATHS.verifyOursMiBps].join(', ')} in the report`,
    });
  }
  {
    const ratio = n('restoreRatio'); const ours = n('restoreOursSeconds'); const peer = n('restorePeerSeconds'); const dump = n('restoreDumpBytes');
    const value = ratio?.value ?? (ours && peer ? ours.value / peer.value : undefined);
    figures.push({
      name: 'Restore vs plain `pg_restore` (same dump)', ratio: 'restorer wall ÷ pg_restore wall', target: '≤ 1.1×',
      value, ours: ours ? `${ours.value.toFixed(2)} s` : undefined, peer: peer ? `${peer.value.toFixed(2)} s${dump ? ` (${(dump.value / MiB).toFixed(1)} MiB dump)` : ''}` : undefined,
      met: value === undefined ? undefined : value <= 1.1,
      source: [ratio?.path, ours?.path, peer?.path].filter(Boolean).join(', ') || `none of ${[...PATHS.restoreRatio, ...PATHS.restoreOursSeconds].join(', ')} in the report`,
    });
  }
  {
    const ratio = n('transferRatio'); const moved = n('transferMoved'); const changed = n('transferChanged');
    const value = ratio?.value ?? (moved && changed && changed.value > 0 ? moved.value / changed.value : undefined);
    figures.push({
      name: 'Bytes moved on a 1 %-change night vs bytes changed', ratio: 'bytes moved ÷ bytes changed', target: '≤ 1.05×',
      value, ours: moved ? `${moved.value} B moved` : undefined, peer: changed ? `${changed.value} B changed` : undefined,
      met: value === undefined ? undefined : value <= 1.05,
      source: [ratio?.path, moved?.path, changed?.path].filter(Boolean).join(', ') || `none of ${[...PATHS.transferRatio, ...PATHS.transferMoved].join(', ')} in the report`,
    });
  }
  return figures;
}

export function readDrillReport(file: string): { report?: unknown; error?: string } {
  if (!fs.existsSync(file)) return { error: `${file} does not exist` };
  try {
    return { report: JSON.parse(fs.readFileSync(file, 'utf8')) };
  } catch (e) {
    return { error: `${file} is not JSON: ${(e as Error).message}` };
  }
}
