/**
 * The cost estimate against figures recomputed by hand from the price table
 * file and the reference volumes (not through the module's own helpers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePlan, type ProtectionPlan } from '../../lib/core';
import {
  estimateResolved, headlineMonthlyEstimate, priceTable, priceTableAgeWarning, referenceVolumes, tieredCost, validateVolumes,
  type LineItem, type PriceTable, type Volumes,
} from '../../lib/report';
import { referencePlan } from '../../stacks/reference-plan';

const table = JSON.parse(readFileSync(join(__dirname, '../../lib/report/price-table.json'), 'utf8'));
const volumes = JSON.parse(readFileSync(join(__dirname, '../../lib/report/reference-volumes.json'), 'utf8'));
const aws = table.aws['eu-central-1'];
const gcp = table.gcp['europe-west3'];
const azure = table.azure['germanywestcentral'];
const toCents = (x: number) => Math.round(x * 100) / 100;

function lineOf(lines: readonly LineItem[], item: string): LineItem {
  const found = lines.find((l) => l.item === item);
  if (!found) throw new Error(`no line "${item}" in ${lines.map((l) => l.item).join(' / ')}`);
  return found;
}

describe('monthly cost, recomputed by hand', () => {
  const estimate = estimateResolved(resolvePlan(referencePlan));
  // The reference plan: daily at 02:00 UTC, retentionDays 35, one dataset of each kind, both counterparties.
  const retentionDays = 35;
  const nightsPerMonth = 365 / 12;
  const nightlyExportsGiB = volumes.dynamoDb.totalGiB + volumes.postgres.dumpGiB + volumes.connect.totalGiB;

  test('storage: the export bucket holds the recordings, their superseded blobs for 35 days and 35 nights of exports', () => {
    const storedGiB = volumes.recordings.totalGiB * (1 + volumes.dailyChangeRate * retentionDays) + nightlyExportsGiB * retentionDays;
    const byHand = toCents(storedGiB * aws.s3StandardGbMonth.usd);
    expect(byHand).toBe(166.64); // 6,801.75 GiB × $0.0245
    expect(lineOf(estimate.lines, 'Export bucket storage (S3 Standard, Object Lock)').monthlyUsd).toBe(byHand);
  });

  test('egress: each counterparty receives the changed recordings and every night\'s exports, at the first tier', () => {
    const recordingsGb = volumes.recordings.totalGiB * volumes.dailyChangeRate * nightsPerMonth;
    const exportsGb = nightlyExportsGiB * nightsPerMonth;
    const totalGb = 2 * (recordingsGb + exportsGb);
    expect(totalGb).toBeLessThan(aws.internetEgressTiers.tiers[0].upToGb); // all of it in the first tier
    const rate = aws.internetEgressTiers.tiers[0].usd;
    expect(lineOf(estimate.lines, 'Internet egress to GCP: recordings').monthlyUsd).toBe(toCents(recordingsGb * rate));
    expect(lineOf(estimate.lines, 'Internet egress to Azure: nightly exports').monthlyUsd).toBe(toCents(exportsGb * rate));
    expect(toCents(recordingsGb * rate)).toBe(54.75);
    expect(toCents(exportsGb * rate)).toBe(164.39);
  });

  test('standby: Cloud SQL db-custom-1-3840 and Flexible Server B1ms for 730 hours', () => {
    const cloudSql = toCents(730 * (1 * gcp.cloudSqlVcpuHour.usd + 3.75 * gcp.cloudSqlGbHour.usd));
    const flexible = toCents(730 * azure.flexibleServerB1msHour.usd);
    expect(cloudSql).toBe(49.31);
    expect(flexible).toBe(15.11);
    expect(lineOf(estimate.lines, 'Standby at rest: Cloud SQL db-custom-1-3840 (1 vCPU, 3.75 GB, zonal)').monthlyUsd).toBe(cloudSql);
    expect(lineOf(estimate.lines, 'Standby at rest: PostgreSQL Flexible Server B_Standard_B1ms').monthlyUsd).toBe(flexible);
  });

  test('the containers of a standby cost nothing at rest; an active counterparty pays for one instance', () => {
    expect(lineOf(estimate.lines, 'Standby at rest: Cloud Run service (application) at zero').monthlyUsd).toBe(0);
    const active = estimateResolved(resolvePlan({ ...referencePlan, counterparties: { ...referencePlan.counterparties, gcp: { ...referencePlan.counterparties.gcp!, mode: 'active' } } }));
    const line = lineOf(active.lines, 'Active: Cloud Run service (application), one instance always on (1 vCPU, 2 GiB)');
    expect(line.monthlyUsd).toBe(toCents(730 * 3600 * (gcp.cloudRunAlwaysOnVcpuSecond.usd + 2 * gcp.cloudRunJobGibSecond.usd)));
  });

  test('provider totals are the sums of their lines, and the total is the sum of the providers', () => {
    for (const provider of ['aws', 'gcp', 'azure'] as const) {
      const sum = estimate.lines.filter((l) => l.provider === provider).reduce((a, l) => a + l.monthlyUsd, 0);
      expect(estimate.perProvider[provider]).toBe(toCents(sum));
    }
    expect(estimate.totalUsd).toBe(toCents((estimate.perProvider.aws ?? 0) + (estimate.perProvider.gcp ?? 0) + (estimate.perProvider.azure ?? 0)));
  });

  test('every line names the source page of each price it uses', () => {
    for (const l of estimate.lines) {
      expect(l.prices.length).toBeGreaterThan(0);
      for (const p of l.prices) expect(p.source).toMatch(/^https:\/\//);
    }
  });
});

describe('egress follows the recordings volume', () => {
  const doubled: Volumes = { ...referenceVolumes, recordings: { objects: referenceVolumes.recordings.objects * 2, totalGiB: referenceVolumes.recordings.totalGiB * 2 } };

  test('doubling the recordings doubles the recordings egress line to each counterparty', () => {
    const plan = resolvePlan(referencePlan);
    const base = estimateResolved(plan, referenceVolumes);
    const twice = estimateResolved(plan, doubled);
    for (const item of ['Internet egress to GCP: recordings', 'Internet egress to Azure: recordings']) {
      expect(lineOf(twice.lines, item).monthlyUsd).toBeCloseTo(2 * lineOf(base.lines, item).monthlyUsd, 1);
      expect(lineOf(twice.lines, item).monthlyUsd).toBeGreaterThan(lineOf(base.lines, item).monthlyUsd * 1.99);
    }
  });

  test('for a plan that protects only recordings, doubling them doubles the whole egress', () => {
    const recordingsOnly: ProtectionPlan = { ...referencePlan, datasets: [referencePlan.datasets[0]], primary: { ...referencePlan.primary, jobsNetwork: { vpcId: 'vpc-0a1b2c3d4e5f60718', subnetIds: ['subnet-0a1b2c3d4e5f60001'], securityGroupIds: ['sg-0a1b2c3d4e5f60003'] } } };
    const plan = resolvePlan(recordingsOnly);
    const egress = (v: Volumes) => estimateResolved(plan, v).lines.filter((l) => l.category === 'egress').reduce((a, l) => a + l.monthlyUsd, 0);
    expect(egress(referenceVolumes)).toBeGreaterThan(0);
    expect(egress(doubled)).toBeCloseTo(2 * egress(referenceVolumes), 1);
  });

  test('past 10 TB a month the tiers lower the average rate (hand-computed tiers)', () => {
    const tiers = aws.internetEgressTiers.tiers;
    expect(tieredCost(tiers, 20_000)).toBeCloseTo(10_240 * 0.09 + 9_760 * 0.085, 6);
    expect(tieredCost(tiers, 200_000)).toBeCloseTo(10_240 * 0.09 + 40_960 * 0.085 + 102_400 * 0.07 + 46_400 * 0.05, 6);
  });
});

describe('the price table\'s age', () => {
  const compiled = Date.parse(`${priceTable.date}T00:00:00Z`);
  const daysLater = (n: number) => new Date(compiled + n * 86_400_000);

  test('no warning up to 180 days after the table\'s date', () => {
    expect(priceTableAgeWarning(priceTable, daysLater(0))).toBeUndefined();
    expect(priceTableAgeWarning(priceTable, daysLater(180))).toBeUndefined();
  });

  test('a warning naming the age, the date and the fix after 180 days', () => {
    const warning = priceTableAgeWarning(priceTable, daysLater(181));
    expect(warning).toContain('181 days old');
    expect(warning).toContain(priceTable.date);
    expect(warning).toContain('lib/report/price-table.json');
  });
});

describe('headlineMonthlyEstimate (for synth-time annotations)', () => {
  test('returns the total, the per-provider figures and one line of text', () => {
    const headline = headlineMonthlyEstimate(referencePlan);
    const full = estimateResolved(resolvePlan(referencePlan));
    expect(headline.totalUsd).toBe(full.totalUsd);
    expect(headline.perProvider).toEqual(full.perProvider);
    expect(headline.text).toContain(`$${full.totalUsd.toLocaleString('en-US', { minimumFractionDigits: 2 })}/month`);
    expect(headline.text).not.toContain('\n');
    expect(headline.perProviderText.gcp).toContain('GCP');
  });

  test('falls back to another region\'s prices with a warning rather than failing', () => {
    const plan = resolvePlan({ ...referencePlan, residency: undefined, primary: { ...referencePlan.primary, region: 'us-east-1' } });
    const e = estimateResolved(plan);
    expect(e.warnings.join(' ')).toContain('no aws prices for us-east-1');
    expect(e.totalUsd).toBeGreaterThan(0);
  });

  test('a price table without the figure a line needs is an error naming the figure', () => {
    const broken: PriceTable = JSON.parse(JSON.stringify(priceTable));
    delete (broken.aws['eu-central-1'] as Record<string, unknown>).s3StandardGbMonth;
    expect(() => estimateResolved(resolvePlan(referencePlan), referenceVolumes, broken)).toThrow(/s3StandardGbMonth/);
  });
});

describe('volumes', () => {
  test('every bad field is reported at once, with its value and the fix', () => {
    expect(() => validateVolumes({ ...volumes, dailyChangeRate: 3, recordings: { objects: -1, totalGiB: 'x' } }, 'v.json'))
      .toThrow(/v\.json: recordings\.objects is -1; give a non-negative number; recordings\.totalGiB is "x".*dailyChangeRate is 3; give a fraction/);
  });

  test('a zero throughput is refused (it would divide by zero)', () => {
    expect(() => validateVolumes({ ...volumes, assumptions: { ...volumes.assumptions, networkMiBps: 0 } })).toThrow(/networkMiBps is 0; give a positive number/);
  });

  test('retentionDays overrides the plan\'s retention', () => {
    const e = estimateResolved(resolvePlan(referencePlan), { ...referenceVolumes, retentionDays: 70 });
    expect(e.quantities.retentionDays).toBe(70);
    expect(e.quantities.retainedNights).toBe(70);
  });
});
