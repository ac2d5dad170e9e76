import { Testing, TerraformStack } from 'cdktf';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account';
import { PlanValidationError, naming } from '../../lib/core';
import {
  AzureCounterparty, CounterpartyAlerts, CounterpartyKeyVault, ImmutableStorageAccount, NightlyCopyJob, StandbyApplication, StandbyDatabase,
  type ImmutableStorageAccountProps,
} from '../../lib/azure';
import { referencePlan, withAzure } from './helpers';

Testing.setupJest();

const storageProps: ImmutableStorageAccountProps = {
  name: 'acmeccvault',
  resourceGroupName: 'rg',
  location: 'westeurope',
  residency: ['eu'],
  retentionDays: 35,
  encryptionKey: { keyVaultId: '/kv', keyName: 'cmk', identityId: '/id' },
};

function storage(overrides: Partial<ImmutableStorageAccountProps>): () => void {
  return () => new ImmutableStorageAccount(new TerraformStack(Testing.app(), 'stack'), 'Vault', { ...storageProps, ...overrides });
}

describe('ImmutableStorageAccount used alone', () => {
  test('valid props synthesize (Unlocked by default)', () => {
    const out = Testing.synthScope((scope) => { new ImmutableStorageAccount(scope, 'Vault', storageProps); });
    expect(out).toHaveResourceWithProperties(StorageAccount, {
      name: 'acmeccvault',
      immutability_policy: { state: 'Unlocked', period_since_creation_in_days: 35, allow_protected_append_writes: false },
    });
  });

  test('a location outside residency names the path, the prop, the value and the fix', () => {
    expect(storage({ location: 'eastus' })).toThrow(/^stack\/Vault: location = "eastus": is outside the residency \(eu\)\. Fix: use one of: westeurope, .*germanywestcentral/);
  });

  test('a lock without the opt-in is refused; with it, Locked', () => {
    expect(storage({ lock: true })).toThrow(/^stack\/Vault: lock = true: locks the immutability policy irreversibly.*Fix: set acknowledgeLockIsIrreversible: true/);
    const out = Testing.synthScope((scope) => { new ImmutableStorageAccount(scope, 'Vault', { ...storageProps, lock: true, acknowledgeLockIsIrreversible: true }); });
    expect(out).toHaveResourceWithProperties(StorageAccount, { immutability_policy: { state: 'Locked', period_since_creation_in_days: 35, allow_protected_append_writes: false } });
  });

  test.each([0, 1.5, -3, 146001])('retention %p days, which Azure cannot express, is refused', (days) => {
    expect(storage({ retentionDays: days })).toThrow(new RegExp(`^stack/Vault: retentionDays = ${String(days).replace('.', '\\.')}: is not a retention Azure immutability policies can express\\. Fix: use a whole number of days from 1 to 146000\\.`));
  });

  test('the largest expressible retention is accepted (soft delete capped at 365)', () => {
    const out = Testing.synthScope((scope) => { new ImmutableStorageAccount(scope, 'Vault', { ...storageProps, retentionDays: 146000 }); });
    const account = Object.values(JSON.parse(out).resource.azurerm_storage_account)[0] as { immutability_policy: { period_since_creation_in_days: number }; blob_properties: { delete_retention_policy: { days: number } } };
    expect(account.immutability_policy.period_since_creation_in_days).toBe(146000);
    expect(account.blob_properties.delete_retention_policy.days).toBe(365);
  });

  test.each([
    ['Acme-Vault', /is not valid; it must be 3-24 lowercase letters and digits/],
    ['ab', /is 2 characters; it must be 3-24 lowercase letters and digits/],
    [naming.azureStorageAccountName({ system: 'contact-centre-production-eu' }), /"contactcentreproductioneuvault" is 30 characters/],
  ])('storage account name %p breaks the rules', (name, pattern) => {
    expect(storage({ name })).toThrow(/^stack\/Vault: name = /);
    expect(storage({ name })).toThrow(pattern);
  });
});

describe('AzureCounterparty refuses bad plans', () => {
  const make = (plan: typeof referencePlan) => () => new AzureCounterparty(new TerraformStack(Testing.app(), 'stack'), 'Counterparty', { plan });

  test('no Azure counterparty', () => {
    const { azure: _none, ...cp } = referencePlan.counterparties;
    expect(make({ ...referencePlan, counterparties: cp })).toThrow(/^stack\/Counterparty: plan\.counterparties\.azure = \(not set\).*Fix: add counterparties\.azure/);
  });

  test('location outside the plan\'s residency', () => {
    expect(make(withAzure({ location: 'eastus' }))).toThrow(PlanValidationError);
    expect(make(withAzure({ location: 'eastus' }))).toThrow(/counterparties\.azure\.location = "eastus": is outside the plan's residency/);
  });

  test('lock without the opt-in', () => {
    expect(make({ ...referencePlan, immutability: { lock: true } })).toThrow(/immutability\.lock = true: .*not explicitly opted into/);
  });

  test('a system whose derived storage account name breaks the rules', () => {
    expect(make({ ...referencePlan, system: 'contact-centre-prod-eu1' })).toThrow(/system = "contactcentreprodeu1vault": derives Azure storage account name "contactcentreprodeu1vault" is 25 characters/);
  });

  test('RPO + grace beyond what an Azure log alert can look back', () => {
    expect(make({ ...referencePlan, rpoHours: 72 })).toThrow(/^stack\/Counterparty\/Alerts: staleAfterHours = 78: .*Fix: lower rpoHours \+ alarmGraceHours to at most 48/);
  });
});

describe('other constructs used alone validate their props', () => {
  const stack = () => new TerraformStack(Testing.app(), 'stack');

  test('Key Vault: bad name, bad retention, expiry before rotation', () => {
    const base = { name: 'kv-acme-cc', resourceGroupName: 'rg', location: 'westeurope', tenantId: 't' };
    expect(() => new CounterpartyKeyVault(stack(), 'Kv', { ...base, name: 'kv--bad' })).toThrow(/^stack\/Kv: name = "kv--bad": Azure Key Vault name/);
    expect(() => new CounterpartyKeyVault(stack(), 'Kv', { ...base, softDeleteRetentionDays: 3 })).toThrow(/^stack\/Kv: softDeleteRetentionDays = 3: .*Fix: use a whole number of days from 7 to 90/);
    expect(() => new CounterpartyKeyVault(stack(), 'Kv', { ...base, rotateAfter: 'P1Y', expireAfter: 'P1Y' })).toThrow(/^stack\/Kv: expireAfter = "P1Y"/);
  });

  test('copy job: the role ARN and the cron must be real', () => {
    const base = {
      name: 'caj-copy', resourceGroupName: 'rg', location: 'westeurope', environmentId: '/env', identity: { id: '/id', clientId: 'c' },
      registryServer: 'r.azurecr.io', image: 'r.azurecr.io/jobs:1', cronExpression: '0 5 * * *', store: 'azblob://acmeccvault/exports',
      sourceBucket: 'b', sourceRegion: 'eu-central-1', roleArn: 'arn:aws:iam::111122223333:role/counterparty/x', tokenAudience: 'api://AzureADTokenExchange',
    };
    expect(() => new NightlyCopyJob(stack(), 'Copy', { ...base, roleArn: 'my-role' })).toThrow(/^stack\/Copy: roleArn = "my-role": is not an IAM role ARN\. Fix: give naming\.azureReaderRoleArn\(plan\)/);
    expect(() => new NightlyCopyJob(stack(), 'Copy', { ...base, cronExpression: '0 5 * *' })).toThrow(/^stack\/Copy: cronExpression = "0 5 \* \*": .*expected 5 fields/);
    expect(() => new NightlyCopyJob(stack(), 'Copy', { ...base, cronExpression: '*/15 * * * *' })).toThrow(/fires more than once a day/);
    expect(() => new NightlyCopyJob(stack(), 'Copy', { ...base, store: 's3://b' })).toThrow(/^stack\/Copy: store = "s3:\/\/b": is not an azblob:\/\/ store URL/);
  });

  test('standby database: geo-redundant backups with a CMK need the paired-region key', () => {
    const base = { name: 'psql-x', resourceGroupName: 'rg', location: 'westeurope', keyVaultId: '/kv', encryption: { keyVaultKeyId: 'k', identityId: '/id' } };
    expect(() => new StandbyDatabase(stack(), 'Db', { ...base, geoRedundantBackup: true })).toThrow(/^stack\/Db: geoRedundantBackup = true: .*Fix: give geoBackupKeyVaultKeyId and geoBackupIdentityId/);
    expect(() => new StandbyDatabase(stack(), 'Db', { ...base, backupRetentionDays: 60 })).toThrow(/^stack\/Db: backupRetentionDays = 60/);
  });

  test('standby application: an active failover with zero replicas is refused', () => {
    const base = { name: 'ca-app', resourceGroupName: 'rg', environmentId: '/env', identityId: '/id', registryServer: 'r.azurecr.io', image: 'r.azurecr.io/app:1', mode: 'active' as const };
    expect(() => new StandbyApplication(stack(), 'App', { ...base, activeMinReplicas: 0 })).toThrow(/^stack\/App: activeMinReplicas = 0: must be a whole number of at least 1/);
  });

  test('alerts: a bad e-mail is refused', () => {
    expect(() => new CounterpartyAlerts(stack(), 'Alerts', { namePrefix: 'x', resourceGroupName: 'rg', location: 'westeurope', workspaceId: '/ws', staleAfterHours: 30, emails: ['nope'] }))
      .toThrow(/^stack\/Alerts: emails\[0\] = "nope": is not an e-mail address/);
  });
});
