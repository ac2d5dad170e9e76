/**
 * The reference contact-centre deployment's protection plan. Both the cdk app
 * (bin/primary.ts) and the cdktf app (bin/counterparty.ts) read this one file.
 *
 * Account, project, subscription and tenant IDs are placeholders: nothing here
 * needs credentials to synthesize. To deploy for real, copy this file, put in
 * your own IDs, and follow README "Deploying for real".
 */
import type { ProtectionPlan } from '../lib/core';

export const referencePlan: ProtectionPlan = {
  system: 'acme-cc',
  primary: { account: '111122223333', region: 'eu-central-1' },
  datasets: [
    { kind: 's3Bucket', name: 'recordings', bucketName: 'acme-cc-call-recordings-111122223333' },
    { kind: 'dynamoDbTable', name: 'contact-records', tableName: 'acme-cc-contact-records', pointInTimeRecovery: true },
    {
      kind: 'postgres',
      name: 'crm',
      engine: 'aurora-postgresql',
      identifier: 'acme-cc-crm',
      endpoint: 'acme-cc-crm.cluster-ro-abcdefghijkl.eu-central-1.rds.amazonaws.com',
      databaseName: 'crm',
      // the CRM uses pgcrypto: each counterparty allow-lists it (Azure azure.extensions) and the restore creates it
      extensions: ['pgcrypto'],
      credentialsSecretArn: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:acme-cc/crm/backup-reader-AbCdEf',
      network: {
        vpcId: 'vpc-0a1b2c3d4e5f60718',
        subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
        securityGroupIds: ['sg-0a1b2c3d4e5f60003'],
        availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      },
    },
    { kind: 'connectInstance', name: 'connect', instanceId: '9f2c1a3e-5b7d-4c1e-8a2b-0d3f4e5a6b7c' },
  ],
  schedule: { cron: '0 2 * * *', timeZone: 'UTC' },
  rpoHours: 24,
  retentionDays: 35,
  immutability: { mode: 'governance', lock: false },
  counterparties: {
    gcp: {
      projectId: 'acme-cc-dr',
      region: 'europe-west3',
      storageTransferSubjectId: '101234567890123456789',
      imageMirrorSubjectId: '104857600000000000001',
      network: 'projects/acme-cc-dr/global/networks/acme-cc-dr-vpc',
      mode: 'standby',
    },
    azure: {
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      tenantId: '55555555-6666-7777-8888-999999999999',
      location: 'germanywestcentral',
      copyIdentityPrincipalId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      mode: 'standby',
    },
  },
  residency: { allowed: ['eu'] },
  notifications: { emails: ['oncall@acme.example'] },
  images: { application: 'contact-centre-app:2.3.1', jobs: 'counterparty-jobs:0.1.0' },
  tags: { system: 'acme-cc', 'cost-centre': 'contact-centre' },
};
