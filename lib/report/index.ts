/**
 * Plan report: what a protection plan costs per month, how fast it recovers,
 * and what it looks like. `headlineMonthlyEstimate` is the synth-time entry
 * point (pure, no cdk/cdktf imports); `buildReport` is what
 * `npm run plan-report` writes. See docs/plan-report.md.
 */
export { headlineMonthlyEstimate, estimateResolved, sensitivity, cents, type CostEstimate, type HeadlineEstimate, type LineItem, type PriceRef, type Sensitivity } from './cost';
export { priceTable, priceTableAgeDays, priceTableAgeWarning, regionPrices, tieredCost, PRICE_TABLE_MAX_AGE_DAYS, type PriceTable, type PriceEntry, type Provider } from './prices';
export { quantities, nightsPerYear, DAYS_PER_MONTH, HOURS_PER_MONTH, type Quantities } from './model';
export { estimateRecovery, type RecoveryEstimate, type CounterpartyRecovery, type Phase } from './recovery';
export { buildTopology, toMermaid, toDot, type Topology } from './topology';
export { referenceVolumes, validateVolumes, scaleData, VolumesError, type Volumes } from './volumes';
export { buildReport, renderMarkdown, renderJson, summaryTable, type PlanReport, type ReportInput } from './report';
