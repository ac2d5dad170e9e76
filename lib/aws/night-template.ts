/**
 * Turns a naming-contract function of a night into a Step Functions
 * `States.Format` template, so that prefixes computed at run time (from the
 * night the execution receives) are still derived by `lib/core/naming.ts`,
 * never by hand.
 */
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

const SENTINEL = '1999-12-31';

/** `fn` applied to a sentinel night, with the night replaced by `{}`. Throws if the night does not appear exactly once. */
export function nightFormatTemplate(fn: (night: string) => string): string {
  const sample = fn(SENTINEL);
  const parts = sample.split(SENTINEL);
  if (parts.length !== 2) throw new Error(`naming function must embed the night exactly once; got ${JSON.stringify(sample)}`);
  if (/[{}'\\]/.test(sample.replace(SENTINEL, ''))) throw new Error(`naming output ${JSON.stringify(sample)} contains characters States.Format cannot hold`);
  return parts.join('{}');
}

/** A JSONPath string value: `fn(<the execution's night at path>)`, evaluated by Step Functions. */
export function nightFormat(fn: (night: string) => string, nightPath = '$.night'): string {
  return sfn.JsonPath.format(nightFormatTemplate(fn), sfn.JsonPath.stringAt(nightPath));
}

/** An IAM resource pattern for `fn` over every night (the night replaced by `*`). */
export function nightWildcard(fn: (night: string) => string): string {
  return nightFormatTemplate(fn).replace('{}', '*');
}
