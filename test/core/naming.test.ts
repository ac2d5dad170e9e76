import { counterpartySchedule, awsScheduleExpression, longestGapHours, parseCron, naming, utcOffsetMinutes } from '../../lib/core';
import { referencePlan } from '../../stacks/reference-plan';

describe('naming contract', () => {
  test('cross-engine names are derived from the plan alone', () => {
    expect(naming.exportBucketName(referencePlan)).toBe('acme-cc-exports-111122223333-eu-central-1');
    expect(naming.accessLogBucketName(referencePlan)).toBe('acme-cc-access-logs-111122223333-eu-central-1');
    expect(naming.gcpReaderRoleArn(referencePlan)).toBe('arn:aws:iam::111122223333:role/counterparty/acme-cc-gcp-reader');
    expect(naming.azureReaderRoleArn(referencePlan)).toBe('arn:aws:iam::111122223333:role/counterparty/acme-cc-azure-reader');
    expect(naming.exportKeyAlias(referencePlan)).toBe('alias/acme-cc/exports');
    expect(naming.backupVaultKeyAlias(referencePlan)).toBe('alias/acme-cc/backup-vault');
    expect(naming.gcsVaultBucketName(referencePlan, 'acme-cc-dr')).toBe('acme-cc-vault-acme-cc-dr');
    expect(naming.azureStorageAccountName(referencePlan)).toBe('acmeccvault');
    expect(naming.azureOidcIssuer('55555555-6666-7777-8888-999999999999')).toBe('https://sts.windows.net/55555555-6666-7777-8888-999999999999/');
  });

  test('the per-night layout', () => {
    expect(naming.nightId(new Date('2026-11-22T02:00:05Z'))).toBe('2026-11-22');
    expect(naming.nightPrefix('2026-11-22')).toBe('nights/2026-11-22/');
    expect(naming.manifestKey('2026-11-22')).toBe('nights/2026-11-22/manifest.json');
    expect(naming.postgresDumpKey('2026-11-22', 'crm')).toBe('nights/2026-11-22/crm/dump.pgdump');
    expect(naming.datasetPrefix('2026-11-22', { kind: 's3Bucket', name: 'recordings' })).toBe('nights/2026-11-22/recordings/');
    expect(naming.datasetPrefix('2026-11-22', { kind: 'dynamoDbTable', name: 'contacts' })).toBe('nights/2026-11-22/contacts/');
    expect(naming.verificationRecordKey('2026-11-22')).toBe('verifications/2026-11-22.json');
    expect(() => naming.manifestKey('2026-13-01')).toThrow(/not a night ID/);
    expect(() => naming.nightPrefix('../etc')).toThrow(/not a night ID/);
  });
});

describe('schedules', () => {
  test('AWS dialect: day-of-week shifts to 1-7 and one day field is "?"', () => {
    expect(awsScheduleExpression({ schedule: { cron: '0 2 * * *' } })).toBe('cron(0 2 * * ? *)');
    expect(awsScheduleExpression({ schedule: { cron: '30 1 * * 1-5' } })).toBe('cron(30 1 ? * 2-6 *)');
    expect(awsScheduleExpression({ schedule: { cron: '0 3 1 * *' } })).toBe('cron(0 3 1 * ? *)');
  });

  test('counterparty copy starts after the export window, in UTC', () => {
    expect(counterpartySchedule({ schedule: { cron: '0 2 * * *', timeZone: 'UTC', exportWindowHours: 3 } }).copyCronUtc).toBe('0 5 * * *');
    expect(counterpartySchedule({}).verifyCronUtc).toBe('0 6 * * *');
  });

  test('with daylight saving the later UTC instant is used', () => {
    expect(utcOffsetMinutes('Europe/Berlin', new Date(Date.UTC(2026, 0, 15)))).toBe(60);
    expect(utcOffsetMinutes('Europe/Berlin', new Date(Date.UTC(2026, 6, 15)))).toBe(120);
    // 02:00 Berlin is 01:00 UTC in winter, 00:00 UTC in summer; +3 h window: 04:00 UTC.
    expect(counterpartySchedule({ schedule: { cron: '0 2 * * *', timeZone: 'Europe/Berlin' } }).copyUtc).toEqual({ hour: 4, minute: 0 });
  });

  test('copy time wraps past midnight', () => {
    expect(counterpartySchedule({ schedule: { cron: '30 22 * * *', exportWindowHours: 4 } }).copyUtc).toEqual({ hour: 2, minute: 30 });
  });

  test('longest gap between firings', () => {
    expect(longestGapHours(parseCron('0 2 * * *'))).toBe(24);
    expect(longestGapHours(parseCron('0 2 * * 1-5'))).toBe(72);
    expect(longestGapHours(parseCron('0 2 1 * *'))).toBe(31 * 24);
  });
});
