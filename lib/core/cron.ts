/**
 * A small, strict parser for the standard 5-field cron expression
 * (`minute hour day-of-month month day-of-week`), as used by the plan's
 * nightly schedule. It exists so that a bad expression is refused at synth
 * time with a message naming the field, rather than by a cloud API at deploy
 * time, and so that both engines derive their schedules from one parse.
 */

import { describeValue } from './errors';

export interface CronField {
  /** The field's values, sorted and de-duplicated. */
  readonly values: readonly number[];
  /** True when the field was `*` (every value). */
  readonly any: boolean;
}

export interface ParsedCron {
  readonly expression: string;
  readonly minute: CronField;
  readonly hour: CronField;
  readonly dayOfMonth: CronField;
  readonly month: CronField;
  readonly dayOfWeek: CronField;
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 6 },
] as const;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export class CronSyntaxError extends Error {
  constructor(expression: unknown, detail: string) {
    super(`invalid cron expression ${describeValue(expression)}: ${detail}`);
    this.name = 'CronSyntaxError';
  }
}

function parseNumber(token: string, index: number, expression: string): number {
  const field = FIELDS[index];
  const upper = token.toUpperCase();
  if (index === 3 && MONTHS.includes(upper)) return MONTHS.indexOf(upper) + 1;
  if (index === 4 && DAYS.includes(upper)) return DAYS.indexOf(upper);
  if (!/^\d+$/.test(token)) {
    throw new CronSyntaxError(expression, `${field.name} field has ${JSON.stringify(token)}, which is not a number`);
  }
  let n = Number(token);
  if (index === 4 && n === 7) n = 0; // 7 is Sunday too
  if (n < field.min || n > field.max) {
    throw new CronSyntaxError(expression, `${field.name} value ${n} is outside ${field.min}-${field.max}`);
  }
  return n;
}

function parseField(text: string, index: number, expression: string): CronField {
  const field = FIELDS[index];
  const values = new Set<number>();
  let any = false;
  for (const part of text.split(',')) {
    if (part === '') throw new CronSyntaxError(expression, `${field.name} field has an empty list item`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new CronSyntaxError(expression, `${field.name} field ${JSON.stringify(part)} has more than one '/'`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        throw new CronSyntaxError(expression, `${field.name} step ${JSON.stringify(stepText)} must be a positive whole number`);
      }
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = field.min;
      hi = index === 4 ? 6 : field.max;
      if (stepText === undefined) any = true;
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined) throw new CronSyntaxError(expression, `${field.name} range ${JSON.stringify(range)} is malformed`);
      lo = parseNumber(a, index, expression);
      hi = parseNumber(b, index, expression);
      if (lo > hi) throw new CronSyntaxError(expression, `${field.name} range ${JSON.stringify(range)} runs backwards`);
    } else {
      lo = parseNumber(range, index, expression);
      hi = stepText === undefined ? lo : (index === 4 ? 6 : field.max);
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values: [...values].sort((a, b) => a - b), any };
}

/** Parses a 5-field cron expression, throwing {@link CronSyntaxError} with the offending field. */
export function parseCron(expression: string): ParsedCron {
  if (typeof expression !== 'string') throw new CronSyntaxError(expression, 'it must be a string');
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronSyntaxError(expression, `expected 5 fields (minute hour day-of-month month day-of-week), found ${parts.length}`);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((p, i) => parseField(p, i, expression));
  return { expression: parts.join(' '), minute, hour, dayOfMonth, month, dayOfWeek };
}

/**
 * Renders a parsed 5-field cron in AWS's 6-field dialect
 * (`cron(min hour dom month dow year)`), where exactly one of
 * day-of-month and day-of-week must be `?`.
 */
export function toAwsCronExpression(cron: ParsedCron): string {
  const [minute, hour, dom, month, dow] = cron.expression.split(' ');
  // AWS numbers days 1-7 from Sunday; standard cron numbers them 0-6.
  const awsDow = dow.replace(/\d+/g, (d) => String((Number(d) % 7) + 1));
  const day = cron.dayOfWeek.any ? dom : cron.dayOfMonth.any ? '?' : dom;
  const weekDay = cron.dayOfWeek.any ? '?' : awsDow;
  return `cron(${minute} ${hour} ${day} ${month} ${weekDay} *)`;
}
