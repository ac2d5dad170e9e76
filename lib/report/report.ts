/**
 * The plan report: cost, recovery and topology of one plan, as data
 * (plan-report.json) and as markdown (plan-report.md). Pure: the caller reads
 * the plan and the volumes and writes the files (scripts/plan-report.ts).
 */
import { resolvePlan, type ProtectionPlan } from '../core';
import { estimateResolved, fmt, sensitivity, type CostEstimate, type LineItem, type PriceRef, type Sensitivity } from './cost';
import { priceTable as shippedPrices, priceTableAgeDays, priceTableAgeWarning, type PriceTable, type Provider } from './prices';
import { estimateRecovery, type Phase, type RecoveryEstimate } from './recovery';
import { buildTopology, toDot, toMermaid, type Topology } from './topology';
import type { Volumes } from './volumes';

export interface ReportInput {
  readonly plan: ProtectionPlan;
  readonly volumes: Volumes;
  /** Where the plan and volumes came from, as printed in the report. */
  readonly planSource: string;
  readonly volumesSource: string;
  /** The moment the report is made (injectable, for the price-table age). */
  readonly now: Date;
  readonly prices?: PriceTable;
  /** File name of the SVG diagram next to the markdown. @default 'plan-topology.svg' */
  readonly svgFileName?: string;
}

export interface PlanReport {
  readonly generatedAt: string;
  readonly system: string;
  readonly planSource: string;
  readonly volumesSource: string;
  readonly priceTable: { readonly date: string; readonly ageDays: number; readonly warning: string | null };
  readonly volumes: Volumes;
  readonly cost: CostEstimate;
  readonly sensitivity: readonly Sensitivity[];
  readonly recovery: RecoveryEstimate;
  readonly topology: Topology;
  readonly mermaid: string;
  readonly dot: string;
  readonly warnings: readonly string[];
}

export function buildReport(input: ReportInput): PlanReport {
  const prices = input.prices ?? shippedPrices;
  const plan = resolvePlan(input.plan);
  const cost = estimateResolved(plan, input.volumes, prices);
  const topology = buildTopology(plan);
  const ageWarning = priceTableAgeWarning(prices, input.now);
  return {
    generatedAt: input.now.toISOString(),
    system: plan.system,
    planSource: input.planSource,
    volumesSource: input.volumesSource,
    priceTable: { date: prices.date, ageDays: priceTableAgeDays(prices, input.now), warning: ageWarning ?? null },
    volumes: input.volumes,
    cost,
    sensitivity: sensitivity(plan, input.volumes, prices, cost),
    recovery: estimateRecovery(plan, input.volumes),
    topology,
    mermaid: toMermaid(topology),
    dot: toDot(topology),
    warnings: [...(ageWarning ? [ageWarning] : []), ...plan.warnings.map((w) => `plan: ${w.field} ${w.problem} ${w.fix}`), ...cost.warnings],
  };
}

const LABEL: Record<Provider, string> = { aws: 'AWS (primary)', gcp: 'GCP (counterparty)', azure: 'Azure (counterparty)' };

function usd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function hours(x: number): string {
  return x < 1 ? `${fmt(x * 60, 1)} min` : `${fmt(x, 1)} h`;
}

/** The summary table (also shown in README "What will it cost?"). */
export function summaryTable(report: PlanReport): string {
  const providers = Object.keys(report.cost.perProvider) as Provider[];
  const rows = ['| provider | per month | 2× data | 2× change rate |', '| --- | ---: | ---: | ---: |'];
  const [data, change] = report.sensitivity;
  for (const p of providers) rows.push(`| ${LABEL[p]} | ${usd(report.cost.perProvider[p] ?? 0)} | ${usd(data.perProvider[p] ?? 0)} | ${usd(change.perProvider[p] ?? 0)} |`);
  rows.push(`| **total** | **${usd(report.cost.totalUsd)}** | **${usd(data.totalUsd)}** (${fmt(data.ratio, 2)}×) | **${usd(change.totalUsd)}** (${fmt(change.ratio, 2)}×) |`);
  return rows.join('\n');
}

function lineTable(lines: readonly LineItem[], sourceIndex: Map<string, number>): string {
  const rows = ['| line item | per month | formula | prices |', '| --- | ---: | --- | --- |'];
  for (const l of lines) {
    const refs = l.prices.map((p) => `[${sourceIndex.get(p.key)}]${p.onStoredPage ? '' : '*'}`).join(' ');
    const notes = l.notes.length > 0 ? ` — ${l.notes.join('; ')}` : '';
    rows.push(`| ${cell(l.item)} | ${usd(l.monthlyUsd)} | ${cell(l.formula + notes)} | ${refs} |`);
  }
  return rows.join('\n');
}

function priceList(report: PlanReport, sourceIndex: Map<string, number>): string {
  const byKey = new Map<string, PriceRef>();
  for (const l of report.cost.lines) for (const p of l.prices) if (!byKey.has(p.key)) byKey.set(p.key, p);
  const rows = ['| # | figure | price | unit | source | on the stored page? |', '| ---: | --- | ---: | --- | --- | --- |'];
  for (const [key, p] of byKey) {
    const stored = p.onStoredPage ? 'yes' : `no: ${p.note ?? ''}`;
    rows.push(`| ${sourceIndex.get(key)} | \`${key}\` | $${p.usd} | ${cell(p.unit)} | ${p.source} | ${cell(p.onStoredPage && p.note ? `yes (${p.note})` : stored)} |`);
  }
  return rows.join('\n');
}

function phaseTable(phases: readonly Phase[]): string {
  const rows = ['| phase | time | formula | inputs | source |', '| --- | ---: | --- | --- | --- |'];
  for (const p of phases) {
    const inputs = Object.entries(p.inputs).map(([k, v]) => `${k}: ${v}`).join('; ');
    rows.push(`| ${p.name} | ${hours(p.hours)} | ${cell(p.formula)} | ${cell(inputs)} | ${cell(p.source)} |`);
  }
  return rows.join('\n');
}

function recoverySection(r: RecoveryEstimate): string {
  const out = [
    '## Recovery estimate', '',
    `- **Schedule gap (data a loss of the primary can cost at most): ${fmt(r.scheduleGapHours)} h** — the longest gap between two scheduled nights (\`longestGapHours\` of the plan's cron). The plan's \`rpoHours\` is ${r.planRpoHours}; the freshness alarm fires after ${r.alarmAfterHours} h (rpoHours + alarmGraceHours).`,
  ];
  for (const c of r.counterparties) {
    out.push(`- **${c.label}: newest verified copy at most ${fmt(c.worstCaseRpoHours, 1)} h old** = ${fmt(r.scheduleGapHours)} h gap + ${fmt(c.lagHours, 1)} h from export start to a verified copy (export window + max(copy, verifier delay) + verify) — ${c.withinAlarm ? 'inside' : '**outside**'} the ${r.alarmAfterHours} h alarm threshold.`);
  }
  for (const c of r.counterparties) {
    out.push('', `### ${c.label}: takeover (RTO ≈ ${hours(c.rtoHours)})`, '', phaseTable(c.rto));
    out.push('', `### ${c.label}: full re-seed (≈ ${hours(c.reseedHours)})`, '', phaseTable(c.reseed));
  }
  out.push('', '### Throughputs', '', '| figure | value | measured? | source |', '| --- | ---: | --- | --- |');
  for (const t of r.throughputs) out.push(`| ${t.name} | ${fmt(t.value)} ${t.unit} | ${t.measured ? 'yes' : 'no (assumption)'} | ${cell(t.source + (t.note ? ` — ${t.note}` : ''))} |`);
  return out.join('\n');
}

export function renderMarkdown(report: PlanReport, svgFileName = 'plan-topology.svg'): string {
  const sourceIndex = new Map<string, number>();
  for (const l of report.cost.lines) for (const p of l.prices) if (!sourceIndex.has(p.key)) sourceIndex.set(p.key, sourceIndex.size + 1);
  const providers = Object.keys(report.cost.perProvider) as Provider[];
  const q = report.cost.quantities;
  const out = [
    `# Plan report: ${report.system}`, '',
    `Generated ${report.generatedAt} by \`npm run plan-report\` from ${report.planSource} and ${report.volumesSource}.`,
    `Prices: the table of **${report.priceTable.date}** (${report.priceTable.ageDays} days old), list prices in USD, no free tiers or discounts.`,
    '',
    ...report.warnings.map((w) => `> **Warning:** ${w}`),
    ...(report.warnings.length > 0 ? [''] : []),
    '## Monthly cost', '',
    summaryTable(report), '',
    `One-time: the initial seed sends ${fmt(report.cost.initialSeed.gbPerCounterparty)} GB to each counterparty, ${usd(report.cost.initialSeed.egressUsd)} of AWS egress (${report.cost.initialSeed.formula}).`,
    '',
    `Model: retention ${q.retentionDays} days, ${fmt(q.nightsPerMonth)} nights a month, ${fmt(q.storedGiB)} GiB at rest per site (export format v2: recordings stored once as content-addressed blobs, superseded blobs kept for the retention, nightly exports under per-night keys). Figures marked * in the prices column were not on the stored copy of their source page; see "Prices used".`,
  ];
  for (const p of providers) {
    out.push('', `### ${LABEL[p]}: ${usd(report.cost.perProvider[p] ?? 0)} per month`, '', lineTable(report.cost.lines.filter((l) => l.provider === p), sourceIndex));
  }
  out.push('', '### Prices used', '', priceList(report, sourceIndex), '');
  out.push(recoverySection(report.recovery), '');
  out.push('## Topology', '', `Generated from the plan. Solid arrows carry data; dashed arrows are keys (encryption) and identities (who assumes what). SVG rendered with Graphviz \`dot\`: [${svgFileName}](${svgFileName}).`, '',
    '```mermaid', report.mermaid.trimEnd(), '```', '');
  out.push('## Volumes used', '', '```json', JSON.stringify(report.volumes, null, 2), '```', '');
  return out.join('\n');
}

/** plan-report.json: the report without the rendered text blocks duplicated. */
export function renderJson(report: PlanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
