/**
 * Generated protection plans for the scaling benchmark: the reference
 * contact-centre plan with N datasets instead of four, in a fixed, realistic
 * mix (per 10 datasets: 4 s3Bucket, 3 dynamoDbTable, 2 postgres,
 * 1 connectInstance). Every name and field is valid under `resolvePlan`, and
 * every name the contract derives from them stays valid (dataset names ≤ 32,
 * bucket names ≤ 63 characters).
 *
 * Type-only import from lib/core: the baseline (bench/baseline-primary.ts)
 * reads the same plain object without any Counterparty code.
 */
import type { Dataset, ProtectionPlan } from '../../lib/core';
import { referencePlan } from '../../stacks/reference-plan';

const ACCOUNT = '111122223333';
const REGION = 'eu-central-1';

/** The kind of dataset i (0-based): a 10-slot cycle, so 10, 100 and 500 get exact proportions. */
export const KIND_CYCLE = ['s3Bucket', 'dynamoDbTable', 's3Bucket', 'postgres', 'dynamoDbTable', 's3Bucket', 'connectInstance', 'dynamoDbTable', 's3Bucket', 'postgres'] as const;

const S3_ROLES = ['recordings', 'transcripts', 'contact-lens', 'screen-recordings'];
const DDB_ROLES = ['contact-records', 'customer-profiles', 'callbacks'];

/** The network every postgres dataset (and so the Fargate jobs) uses: one VPC, two private subnets. */
const NETWORK = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
  securityGroupIds: ['sg-0a1b2c3d4e5f60003'],
  availabilityZones: ['eu-central-1a', 'eu-central-1b'],
};

function dataset(i: number, system: string): Dataset {
  const n = String(i).padStart(4, '0');
  const kind = KIND_CYCLE[i % KIND_CYCLE.length];
  switch (kind) {
    case 's3Bucket': {
      const role = S3_ROLES[i % S3_ROLES.length];
      // Every fourth bucket protects a prefix only (Contact Lens output under a folder).
      return { kind, name: `${role}-${n}`, bucketName: `${system}-${role}-${n}-${ACCOUNT}`, ...(i % 4 === 2 ? { prefix: 'Analysis/' } : {}) };
    }
    case 'dynamoDbTable': {
      const role = DDB_ROLES[i % DDB_ROLES.length];
      return { kind, name: `${role}-${n}`, tableName: `${system}-${role}-${n}`, pointInTimeRecovery: true };
    }
    case 'postgres':
      return {
        kind,
        name: `crm-${n}`,
        engine: i % 20 === 3 ? 'rds-postgresql' : 'aurora-postgresql',
        identifier: `${system}-crm-${n}`,
        endpoint: `${system}-crm-${n}.cluster-ro-abcdefghijkl.${REGION}.rds.amazonaws.com`,
        databaseName: `crm_${n}`,
        credentialsSecretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${system}/crm-${n}/backup-reader-AbCdEf`,
        network: NETWORK,
      };
    case 'connectInstance':
      return { kind, name: `connect-${n}`, instanceId: `9f2c1a3e-5b7d-4c1e-8a2b-${i.toString(16).padStart(12, '0')}` };
  }
}

/** The reference plan's shape with `count` generated datasets. */
export function generatedPlan(count: number): ProtectionPlan {
  if (!Number.isInteger(count) || count < 1 || count > 9999) throw new Error(`generatedPlan: count must be 1-9999, got ${count}`);
  const system = 'acme-cc';
  // Everything but the datasets is the reference plan's (a fixed cost, the same at every size).
  return {
    ...referencePlan,
    system,
    primary: { account: ACCOUNT, region: REGION },
    datasets: Array.from({ length: count }, (_, i) => dataset(i, system)),
    tags: { system, 'cost-centre': 'contact-centre' },
  };
}

/** How many datasets of each kind a generated plan of `count` has. */
export function kindMix(count: number): Record<string, number> {
  const mix: Record<string, number> = {};
  for (let i = 0; i < count; i++) mix[KIND_CYCLE[i % KIND_CYCLE.length]] = (mix[KIND_CYCLE[i % KIND_CYCLE.length]] ?? 0) + 1;
  return mix;
}
