/**
 * Structured log lines (one JSON object per line on stdout) that the alerts key on, and human
 * progress on stderr. See docs/ARCHITECTURE.md for the event names.
 */
export type LogEvent =
  | 'counterparty.verify'
  | 'counterparty.restore'
  | 'counterparty.copy'
  | 'counterparty.export'
  | 'counterparty.sync'
  | 'counterparty.manifest';

export interface LogSink {
  line(text: string): void;
}

let sink: LogSink = { line: (text) => process.stdout.write(`${text}\n`) };

/** Redirects structured lines (tests capture them; the drill keeps them out of its progress output). */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

/** Writes exactly one JSON line: `{"event": ..., ...fields}`. */
export function logEvent(event: LogEvent, fields: Record<string, unknown>): string {
  const text = JSON.stringify({ event, ...fields });
  sink.line(text);
  return text;
}

/** Human progress on stderr (never parsed). */
export function progress(message: string): void {
  if (process.env.CP_QUIET === '1') return;
  process.stderr.write(`${message}\n`);
}
