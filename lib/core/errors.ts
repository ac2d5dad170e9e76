/**
 * One problem found in a protection plan. Every problem names the field (a
 * dotted path into the plan), the offending value and how to fix it.
 */
export interface PlanIssue {
  /** Dotted path of the field, e.g. `counterparties.gcp.region`. */
  readonly field: string;
  /** The value that was rejected, as given (or as derived by the naming contract). */
  readonly value: unknown;
  /** What is wrong with it. */
  readonly problem: string;
  /** What to do instead. */
  readonly fix: string;
  /** Errors stop synthesis; warnings are reported and synthesis goes on. */
  readonly severity: 'error' | 'warning';
}

/** Renders a value for an error message without `[object Object]` or `undefined` noise. */
export function describeValue(value: unknown): string {
  if (value === undefined) return '(not set)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function formatIssue(issue: PlanIssue): string {
  return `${issue.field} = ${describeValue(issue.value)}: ${issue.problem} Fix: ${issue.fix}`;
}

/**
 * Thrown at synth time when a protection plan is invalid. The message lists
 * every error at once, one per line, so a user fixes them in one pass.
 */
export class PlanValidationError extends Error {
  public readonly issues: readonly PlanIssue[];

  constructor(system: string, issues: readonly PlanIssue[]) {
    const lines = issues.map((i) => `  - ${formatIssue(i)}`);
    super(`Counterparty: protection plan '${system}' is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'PlanValidationError';
    this.issues = issues;
  }
}
