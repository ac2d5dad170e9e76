/**
 * The reload report (`reload-report.md` + `.json`): what was loaded where, what the proof compared,
 * and the time of each phase, whose total is the measured fail-back RTO.
 */
export interface DatasetOutcome {
  readonly name: string;
  readonly kind: string;
  readonly target: string;
  readonly loaded: Readonly<Record<string, unknown>>;
  readonly expected: Readonly<Record<string, unknown>>;
  readonly proved: Readonly<Record<string, unknown>>;
  readonly problems: readonly string[];
  /** What could not move and needs a person (Connect phone numbers, secrets). */
  readonly cannotMove?: readonly string[];
  readonly seconds: number;
}

export interface ReloadReport {
  readonly result: 'success' | 'failure' | 'dry-run';
  readonly night: string;
  readonly manifestSha256: string;
  readonly from: string;
  readonly startedAt: string;
  readonly phases: { readonly phase: string; readonly seconds: number }[];
  readonly datasets: readonly DatasetOutcome[];
  /** The dry run's change plan. */
  readonly plan: readonly string[];
  /** Wall time from start to proven: the measured fail-back RTO. */
  readonly rtoSeconds: number;
  /** Whether --force loaded into targets that already held data. */
  readonly forced: boolean;
}

const fmt = (o: Readonly<Record<string, unknown>>): string => Object.entries(o).map(([k, v]) => `${k} ${v ?? '–'}`).join(', ') || '–';

export function renderReloadReport(r: ReloadReport): string {
  const lines = [
    `# Reload report: night ${r.night}`,
    '',
    `- Result: **${r.result}**${r.forced ? ' (forced into targets that held data)' : ''}`,
    `- From: \`${r.from}\` (manifest sha256 \`${r.manifestSha256}\`)`,
    `- Started: ${r.startedAt}`,
    `- **Fail-back RTO (measured): ${r.rtoSeconds.toFixed(1)} s**`,
    '',
    '## Datasets',
    '',
    '| dataset | kind | target | loaded | expected | proved | problems | seconds |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.datasets.map((d) => `| ${d.name} | ${d.kind} | ${d.target} | ${fmt(d.loaded)} | ${fmt(d.expected)} | ${fmt(d.proved)} | ${d.problems.length ? d.problems.slice(0, 5).join('<br>') : 'none'} | ${d.seconds.toFixed(1)} |`),
    '',
    '## Phases',
    '',
    '| phase | seconds |',
    '| --- | --- |',
    ...r.phases.map((p) => `| ${p.phase} | ${p.seconds.toFixed(1)} |`),
  ];
  const manual = r.datasets.flatMap((d) => (d.cannotMove ?? []).map((c) => `- ${d.name}: ${c}`));
  if (manual.length) lines.push('', '## Needs a person (could not move)', '', ...manual);
  return `${lines.join('\n')}\n`;
}
