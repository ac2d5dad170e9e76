/**
 * Schedule derivations shared by both engines: the primary's nightly
 * schedule in each AWS dialect, and the counterparties' copy and verify
 * times, which must fall after the primary's export window whatever the
 * daylight-saving state of the plan's time zone.
 */
import { parseCron, toAwsCronExpression, type ParsedCron } from './cron';
import { DEFAULTS, type ProtectionPlan } from './plan';

/** Minutes the verifier waits after the copy starts, on counterparties that chain by time. */
export const VERIFY_AFTER_COPY_MINUTES = 60;

export interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
}

export interface CounterpartySchedule {
  /** When the nightly copy starts, in UTC. */
  readonly copyUtc: TimeOfDay;
  /** The copy time as a UTC 5-field cron (same days as the primary; days may shift near midnight, see README). */
  readonly copyCronUtc: string;
  /** When the verifier starts, in UTC (copy + {@link VERIFY_AFTER_COPY_MINUTES}). */
  readonly verifyUtc: TimeOfDay;
  readonly verifyCronUtc: string;
}

/** Offset of `timeZone` from UTC at `at`, in minutes (positive east of Greenwich). */
export function utcOffsetMinutes(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function planCron(plan: Pick<ProtectionPlan, 'schedule'>): ParsedCron {
  return parseCron(plan.schedule?.cron ?? DEFAULTS.cron);
}

/** The primary's schedule in AWS's 6-field dialect, e.g. `cron(0 2 * * ? *)` (read in the plan's time zone). */
export function awsScheduleExpression(plan: Pick<ProtectionPlan, 'schedule'>): string {
  return toAwsCronExpression(planCron(plan));
}

function addMinutes(t: TimeOfDay, minutes: number): TimeOfDay {
  const total = (((t.hour * 60 + t.minute + minutes) % 1440) + 1440) % 1440;
  return { hour: Math.floor(total / 60), minute: total % 60 };
}

/**
 * The counterparties' copy and verify times. The export starts at the plan's
 * local time; the copy starts `exportWindowHours` later. Where the time zone
 * observes daylight saving, the later of the two UTC instants is used, so
 * the copy never starts inside the export window.
 */
export function counterpartySchedule(plan: Pick<ProtectionPlan, 'schedule'>): CounterpartySchedule {
  const cron = planCron(plan);
  const timeZone = plan.schedule?.timeZone ?? DEFAULTS.timeZone;
  const windowHours = plan.schedule?.exportWindowHours ?? DEFAULTS.exportWindowHours;
  const local: TimeOfDay = { hour: cron.hour.values[0], minute: cron.minute.values[0] };
  const year = 2026;
  const offsets = [new Date(Date.UTC(year, 0, 15)), new Date(Date.UTC(year, 6, 15))].map((d) => utcOffsetMinutes(timeZone, d));
  const smallestOffset = Math.min(...offsets);
  const copyUtc = addMinutes(local, -smallestOffset + windowHours * 60);
  const verifyUtc = addMinutes(copyUtc, VERIFY_AFTER_COPY_MINUTES);
  const days = cron.expression.split(' ').slice(2).join(' ');
  return {
    copyUtc,
    copyCronUtc: `${copyUtc.minute} ${copyUtc.hour} ${days}`,
    verifyUtc,
    verifyCronUtc: `${verifyUtc.minute} ${verifyUtc.hour} ${days}`,
  };
}

/**
 * The longest gap, in hours, between two firings of the schedule (24 for a
 * daily schedule; 72 for Monday-Friday). Computed by walking a year of days.
 */
export function longestGapHours(cron: ParsedCron): number {
  const fired: number[] = [];
  const start = Date.UTC(2026, 0, 1);
  for (let d = 0; d < 800; d++) {
    const day = new Date(start + d * 86_400_000);
    const domOk = cron.dayOfMonth.values.includes(day.getUTCDate());
    const dowOk = cron.dayOfWeek.values.includes(day.getUTCDay());
    const monthOk = cron.month.values.includes(day.getUTCMonth() + 1);
    // Standard cron: when both day fields are restricted, either matches.
    const dayOk = cron.dayOfMonth.any ? dowOk : cron.dayOfWeek.any ? domOk : domOk || dowOk;
    if (monthOk && dayOk) fired.push(d);
  }
  if (fired.length < 2) return Number.POSITIVE_INFINITY;
  let gap = 0;
  for (let i = 1; i < fired.length; i++) gap = Math.max(gap, fired[i] - fired[i - 1]);
  return gap * 24;
}
