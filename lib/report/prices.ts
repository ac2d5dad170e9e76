/**
 * The dated price table (lib/report/price-table.json) and the lookups the estimate
 * makes into it. Every figure carries its source page; the table carries the
 * date it was compiled, and a report warns when that date is old.
 */
import table from './price-table.json';

export type Provider = 'aws' | 'gcp' | 'azure';

export interface PriceEntry {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** True when the figure was read on the stored copy of `source`; false: see `note`. */
  readonly onStoredPage: boolean;
  readonly note?: string;
  readonly freeGb?: number;
}

export interface EgressTier {
  /** Cumulative upper bound of the tier in GB per month; `null` for the last tier. */
  readonly upToGb: number | null;
  readonly usd: number;
}

export interface EgressEntry extends Omit<PriceEntry, 'usd'> {
  readonly tiers: readonly EgressTier[];
}

export interface PriceTable {
  /** ISO date (YYYY-MM-DD) the table was compiled. */
  readonly date: string;
  readonly currency: 'USD';
  readonly about: string;
  readonly aws: Readonly<Record<string, Readonly<Record<string, PriceEntry | EgressEntry>>>>;
  readonly gcp: Readonly<Record<string, Readonly<Record<string, PriceEntry>>>>;
  readonly azure: Readonly<Record<string, Readonly<Record<string, PriceEntry>>>>;
}

/** The price table shipped with this version. */
export const priceTable: PriceTable = table as PriceTable;

/** A price table is old after this many days; the report then warns. */
export const PRICE_TABLE_MAX_AGE_DAYS = 180;

/** The prices of one provider in one region, and whether the region had to be substituted. */
export interface RegionPrices {
  readonly provider: Provider;
  /** The region the plan asked for. */
  readonly requested: string;
  /** The region whose prices are used (the requested one when the table has it). */
  readonly used: string;
  readonly entries: Readonly<Record<string, PriceEntry | EgressEntry>>;
}

/**
 * The table's prices for `region`. When the table has no figures for that
 * region, the provider's first region is used and the result says so (the
 * report prints a warning): a synth-time annotation must never fail for a
 * region the table lacks.
 */
export function regionPrices(prices: PriceTable, provider: Provider, region: string): RegionPrices {
  const regions = prices[provider];
  const exact = regions[region];
  if (exact) return { provider, requested: region, used: region, entries: exact };
  const [fallback] = Object.keys(regions);
  if (!fallback) throw new Error(`price table of ${prices.date} has no ${provider} prices at all; add a region to lib/report/price-table.json`);
  return { provider, requested: region, used: fallback, entries: regions[fallback] };
}

export function price(r: RegionPrices, key: string): PriceEntry {
  const entry = r.entries[key];
  if (!entry || typeof (entry as PriceEntry).usd !== 'number') {
    throw new Error(`price table: ${r.provider} ${r.used} has no figure "${key}"; add it to lib/report/price-table.json with its source page`);
  }
  return entry as PriceEntry;
}

export function egress(r: RegionPrices, key: string): EgressEntry {
  const entry = r.entries[key] as EgressEntry | undefined;
  if (!entry || !Array.isArray(entry.tiers)) throw new Error(`price table: ${r.provider} ${r.used} has no tiered figure "${key}"`);
  return entry;
}

/** The cost of `gb` GB in one month under tiered per-GB prices. */
export function tieredCost(tiers: readonly EgressTier[], gb: number): number {
  let cost = 0;
  let floor = 0;
  for (const tier of tiers) {
    const ceiling = tier.upToGb ?? Number.POSITIVE_INFINITY;
    const inTier = Math.max(0, Math.min(gb, ceiling) - floor);
    cost += inTier * tier.usd;
    floor = ceiling;
    if (gb <= ceiling) break;
  }
  return cost;
}

/** Whole days between the table's date and `now`. */
export function priceTableAgeDays(prices: PriceTable, now: Date): number {
  const compiled = Date.parse(`${prices.date}T00:00:00Z`);
  if (Number.isNaN(compiled)) throw new Error(`price table date "${prices.date}" is not YYYY-MM-DD; fix lib/report/price-table.json`);
  return Math.floor((now.getTime() - compiled) / 86_400_000);
}

/** A warning when the table is older than {@link PRICE_TABLE_MAX_AGE_DAYS} at `now`, else undefined. */
export function priceTableAgeWarning(prices: PriceTable, now: Date): string | undefined {
  const age = priceTableAgeDays(prices, now);
  if (age <= PRICE_TABLE_MAX_AGE_DAYS) return undefined;
  return `The price table is ${age} days old (compiled ${prices.date}; older than ${PRICE_TABLE_MAX_AGE_DAYS} days): list prices may have changed. Re-read each source page and update lib/report/price-table.json.`;
}
