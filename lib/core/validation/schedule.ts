/**
 * Checks of `schedule`, `rpoHours`, `alarmGraceHours`, `retentionDays` and `verification`.
 */
import { CronSyntaxError, parseCron, type ParsedCron } from '../cron';
import { DEFAULTS, LIMITS } from '../plan';
import { isValidTimeZone, longestGapHours } from '../schedule';
import type { IssueCollector } from './collector';

type Fields = Record<string, unknown>;

/** `schedule`; returns the parsed cron (the given one, or the default) when it parses. */
export function checkSchedule(c: IssueCollector, plan: Fields): ParsedCron | undefined {
  let cron: ParsedCron | undefined;
  if (c.object('schedule', plan.schedule, 'give schedule: { cron, timeZone }, or leave it out for 02:00 UTC.', true)) {
    const s = plan.schedule;
    c.unknownKeys('schedule', s, ['cron', 'timeZone', 'exportWindowHours']);
    if (s.cron !== undefined) {
      try {
        cron = parseCron(s.cron as string);
      } catch (e) {
        const detail = e instanceof CronSyntaxError ? e.message : String(e);
        c.error('schedule.cron', s.cron, `is not a valid cron: ${detail}.`, 'use 5 fields "minute hour day-of-month month day-of-week", e.g. "0 2 * * *" for 02:00 daily.');
      }
    }
    if (s.timeZone !== undefined && (typeof s.timeZone !== 'string' || !isValidTimeZone(s.timeZone))) {
      c.error('schedule.timeZone', s.timeZone, 'is not an IANA time zone.', 'use a name such as "UTC" or "Europe/Berlin".');
    }
    c.integer('schedule.exportWindowHours', s.exportWindowHours, 1, 12, 'give the hours the export may take before counterparties copy (1-12).');
  }
  // A cron that failed to parse is reported above; otherwise check the given (or default) one is nightly.
  const cronGiven = typeof plan.schedule === 'object' && plan.schedule !== null && (plan.schedule as Fields).cron !== undefined;
  if (cron === undefined && cronGiven) return undefined;
  cron ??= parseCron(DEFAULTS.cron);
  if (cron.minute.values.length !== 1 || cron.hour.values.length !== 1) {
    c.error('schedule.cron', cron.expression, 'must fire at one fixed minute and hour of the day; the snapshot is nightly.', 'give a single minute and hour, e.g. "30 1 * * *".');
  }
  if (!cron.dayOfMonth.any && !cron.dayOfWeek.any) {
    c.error('schedule.cron', cron.expression, 'restricts both day-of-month and day-of-week, which AWS schedules cannot express.', 'set one of the two day fields to "*".');
  }
  return cron;
}

/** `rpoHours` (met by the schedule), `alarmGraceHours`, and `retentionDays` (at least the RPO, at most the providers' maximum). */
export function checkRpoAndRetention(c: IssueCollector, plan: Fields, cron: ParsedCron | undefined): void {
  const rpo = c.integer('rpoHours', plan.rpoHours, 1, 24 * 366, 'give the recovery point objective in whole hours, e.g. 24.') ?? (plan.rpoHours === undefined ? DEFAULTS.rpoHours : undefined);
  c.integer('alarmGraceHours', plan.alarmGraceHours, 0, 168, 'give the alarm grace period in whole hours (0-168).');
  if (rpo !== undefined && cron && cron.minute.values.length === 1 && cron.hour.values.length === 1) {
    const gap = longestGapHours(cron);
    if (gap > rpo) {
      c.error('rpoHours', rpo, `cannot be met: schedule "${cron.expression}" leaves up to ${gap} hours between nights.`, `run the schedule more often, or set rpoHours to at least ${gap}.`);
    }
  }
  const retention = plan.retentionDays;
  if (typeof retention !== 'number' || !Number.isInteger(retention) || retention < 1) {
    c.error('retentionDays', retention, 'must be a whole number of days, at least 1.', 'give how many days every copy is kept, e.g. 35.');
    return;
  }
  if (rpo !== undefined && retention * 24 < rpo) {
    c.error('retentionDays', retention, `is shorter than the RPO (${rpo} h): a night would expire before the next one exists.`, `set retentionDays to at least ${Math.ceil(rpo / 24)}.`);
  }
  if (retention > LIMITS.maxRetentionDays) {
    c.error('retentionDays', retention, `is over the provider maximum of ${LIMITS.maxRetentionDays} days (S3 Object Lock and Backup Vault Lock).`, `set retentionDays to ${LIMITS.maxRetentionDays} or less.`);
  }
}

/** `verification`: how the counterparties re-read old blobs (the scrub). */
export function checkVerification(c: IssueCollector, plan: Fields): void {
  if (!c.object('verification', plan.verification, 'give verification: { scrubCycleNights }, or leave it out.', true)) return;
  const v = plan.verification;
  c.unknownKeys('verification', v, ['scrubCycleNights']);
  const cycle = c.integer('verification.scrubCycleNights', v.scrubCycleNights, 1, LIMITS.maxScrubCycleNights,
    `give the number of nights in which every stored blob is re-read and re-hashed at least once (1-${LIMITS.maxScrubCycleNights}), e.g. 30.`);
  const retention = plan.retentionDays;
  if (cycle !== undefined && typeof retention === 'number' && Number.isInteger(retention) && retention >= 1 && cycle > retention) {
    c.warn('verification.scrubCycleNights', cycle, `is longer than retentionDays (${retention}): some blobs expire before the scrub has re-read them once.`,
      `set scrubCycleNights to at most ${retention}.`);
  }
}
