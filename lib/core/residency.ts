/**
 * Data-residency jurisdictions and the regions of each provider that fall
 * inside them. A plan's `residency.allowed` lists jurisdictions (`eu`) and/or
 * exact region names (`europe-west3`); every region the plan uses must match.
 */

export type Provider = 'aws' | 'gcp' | 'azure';

/** The jurisdictions Counterparty knows, with each provider's regions in them. */
export const JURISDICTIONS: Readonly<Record<string, Readonly<Record<Provider, readonly string[]>>>> = {
  eu: {
    aws: ['eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1'],
    gcp: [
      'europe-west1', 'europe-west3', 'europe-west4', 'europe-west8', 'europe-west9', 'europe-west10', 'europe-west12',
      'europe-central2', 'europe-north1', 'europe-southwest1', 'eu', 'eur4', 'eur5', 'eur7', 'eur8',
    ],
    azure: [
      'westeurope', 'northeurope', 'francecentral', 'francesouth', 'germanywestcentral', 'germanynorth', 'swedencentral',
      'swedensouth', 'italynorth', 'polandcentral', 'spaincentral', 'austriaeast',
    ],
  },
  uk: {
    aws: ['eu-west-2'],
    gcp: ['europe-west2'],
    azure: ['uksouth', 'ukwest'],
  },
  ch: {
    aws: ['eu-central-2'],
    gcp: ['europe-west6'],
    azure: ['switzerlandnorth', 'switzerlandwest'],
  },
  us: {
    aws: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'],
    gcp: ['us', 'nam4', 'us-central1', 'us-east1', 'us-east4', 'us-east5', 'us-south1', 'us-west1', 'us-west2', 'us-west3', 'us-west4'],
    azure: ['eastus', 'eastus2', 'centralus', 'northcentralus', 'southcentralus', 'westcentralus', 'westus', 'westus2', 'westus3'],
  },
  ca: {
    aws: ['ca-central-1', 'ca-west-1'],
    gcp: ['northamerica-northeast1', 'northamerica-northeast2'],
    azure: ['canadacentral', 'canadaeast'],
  },
  au: {
    aws: ['ap-southeast-2', 'ap-southeast-4'],
    gcp: ['australia-southeast1', 'australia-southeast2'],
    azure: ['australiaeast', 'australiasoutheast', 'australiacentral'],
  },
};

/** True when `region` of `provider` is allowed by any entry of `allowed`. */
export function regionAllowed(provider: Provider, region: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    const jurisdiction = JURISDICTIONS[entry.toLowerCase()];
    if (jurisdiction) return jurisdiction[provider].includes(region);
    return entry === region;
  });
}

/** The regions of `provider` that `allowed` permits, for error messages. */
export function allowedRegions(provider: Provider, allowed: readonly string[]): string[] {
  const out = new Set<string>();
  for (const entry of allowed) {
    const jurisdiction = JURISDICTIONS[entry.toLowerCase()];
    if (jurisdiction) jurisdiction[provider].forEach((r) => out.add(r));
    else out.add(entry);
  }
  return [...out];
}
