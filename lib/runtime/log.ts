/**
 * Structured log lines (one JSON object per line on stdout) that the alerts key on, and human
 * progress on stderr. The contract (event names, fields, reason codes, alert conditions) is in
 * docs/runtime.md, section "Log lines and alert conditions".
 */
import { RuntimeError, oneLine } from './errors';

/** Events that are a job's ONE result line (`result`: success | failure). */
export const RESULT_EVENTS = [
  'counterparty.verify',
  'counterparty.restore',
  'counterparty.copy',
  'counterparty.status',
  'counterparty.exit-bundle',
  'counterparty.mirror',
  'counterparty.prune',
  'counterparty.reload',
  'counterparty.export',
  'counterparty.sync',
  'counterparty.manifest',
  'counterparty.job',
] as const;
export type ResultEvent = (typeof RESULT_EVENTS)[number];

/** Detail lines (several per run; never counted as a result). */
export type DetailEvent = 'counterparty.verify.night';

export type LogEvent = ResultEvent | DetailEvent;

/** The `reason` of a failure line (docs/runtime.md lists when each applies). */
export const REASONS = [
  'verification-failed',
  'incomplete-night',
  'empty-dataset',
  'count-mismatch',
  'rollback',
  'older-night',
  'not-verified',
  'record-write-failed',
  'restore-failed',
  'copy-failed',
  'federation',
  'not-ready',
  'cancelled',
  'target-not-empty',
  'error',
] as const;
export type Reason = (typeof REASONS)[number];

/**
 * A failure whose reason is known: thrown by a job, turned into its failure line by {@link runJob}.
 * `fields` are added to the line (e.g. the freshness fields).
 */
export class JobFailure extends RuntimeError {
  constructor(readonly reason: Reason, message: string, readonly fields: Record<string, unknown> = {}, exitCode = 2) {
    super(message, exitCode);
    this.name = 'JobFailure';
  }
}

export interface LogSink {
  line(text: string): void;
}

let sink: LogSink = { line: (text) => process.stdout.write(`${text}\n`) };
/** Where runJob writes the one-line error for a person (stderr). */
let errorSink: LogSink = { line: (text) => process.stderr.write(`${text}\n`) };

/** Redirects the one-line errors runJob writes for a person (tests). */
export function setErrorSink(next: LogSink): LogSink {
  const prev = errorSink;
  errorSink = next;
  return prev;
}

/** Result lines written so far in this process, per event, and the last result. */
const results = new Map<string, number>();
const lastResult = new Map<string, string>();

/** Redirects structured lines (tests capture them; the drill keeps them out of its progress output). */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

function isResultEvent(event: string): event is ResultEvent {
  return (RESULT_EVENTS as readonly string[]).includes(event);
}

/** Writes exactly one JSON line: `{"event": ..., ...fields, "at": ...}`. */
export function logEvent(event: LogEvent, fields: Record<string, unknown>): string {
  const text = JSON.stringify({ event, ...fields, at: fields.at ?? new Date().toISOString() });
  if (isResultEvent(event)) {
    results.set(event, (results.get(event) ?? 0) + 1);
    lastResult.set(event, String(fields.result));
  }
  sink.line(text);
  return text;
}

/** The failure line for an error, with its reason (JobFailure's, `cancelled` for an abort, else `error`). */
export function failureFields(err: unknown): { result: 'failure'; reason: Reason; error: string } & Record<string, unknown> {
  if (err instanceof JobFailure) return { ...err.fields, result: 'failure', reason: err.reason, error: err.message };
  const name = (err as { name?: string })?.name;
  if (name === 'AbortError' || (err as { code?: string })?.code === 'ABORT_ERR') return { result: 'failure', reason: 'cancelled', error: oneLine(err) };
  return { result: 'failure', reason: 'error', error: oneLine(err) };
}

/**
 * Runs one job so that it writes exactly one `event` result line and its exit code agrees with it:
 * - `fn` writes its own result line (success or failure) → exit 0 exactly when it said success;
 * - `fn` throws before writing one → a failure line with the reason, exit non-zero;
 * - `fn` returns without writing one → a failure line (`error`: no result), exit 1.
 * `extra` (e.g. the freshness fields) is evaluated, best effort, only for a failure line written here.
 */
export async function runJob(event: ResultEvent, fn: () => Promise<number | void>, extra?: () => Promise<Record<string, unknown>>): Promise<number> {
  const before = results.get(event) ?? 0;
  const wrote = (): boolean => (results.get(event) ?? 0) > before;
  let code: number;
  try {
    code = (await fn()) ?? 0;
  } catch (err) {
    if (!wrote()) {
      let more: Record<string, unknown> = {};
      try { more = extra ? await extra() : {}; } catch { /* the failure line goes out without them */ }
      logEvent(event, { ...more, ...failureFields(err) });
    }
    errorSink.line(`${event.replace(/^counterparty\./, '')}: ${oneLine(err)}`);
    const exit = err instanceof RuntimeError ? err.exitCode : 1;
    return exit === 0 ? 1 : exit;
  }
  if (!wrote()) {
    logEvent(event, { result: 'failure', reason: 'error', error: `${event}: the job ended without a result line` });
    return 1;
  }
  if (lastResult.get(event) !== 'success') return code === 0 ? 2 : code;
  return code;
}

/** How many result lines `event` has written in this process (tests). */
export function resultLinesWritten(event: ResultEvent): number {
  return results.get(event) ?? 0;
}

/** Human progress on stderr (never parsed). */
export function progress(message: string): void {
  if (process.env.CP_QUIET === '1') return;
  process.stderr.write(`${message}\n`);
}
