/**
 * Errors the runtime reports to a person: the jobs CLI and the exit bundle print `message` on one
 * line (never a stack trace) and exit with `exitCode`.
 */
export class RuntimeError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** A manifest that can't be parsed or breaks the v1 format. */
export class ManifestError extends RuntimeError {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** One line, no stack: what the CLIs print for any error. */
export function oneLine(err: unknown): string {
  if (err instanceof Error) {
    const name = (err as { name?: string }).name;
    const code = (err as { code?: string }).code;
    let msg = err.message || name || 'error';
    // Network errors from the SDKs carry the useful part in `code` (ECONNREFUSED, ENOTFOUND, ...).
    if (code && !msg.includes(code)) msg = `${msg} (${code})`;
    if (err instanceof AggregateError && err.errors.length && !err.message) msg = err.errors.map((e) => oneLine(e)).join('; ');
    if (name && !(err instanceof RuntimeError) && name !== 'Error' && !msg.startsWith(name)) msg = `${name}: ${msg}`;
    return msg.replace(/\s*\n\s*/g, ' ').trim();
  }
  return String(err).replace(/\s*\n\s*/g, ' ').trim();
}
