/**
 * Small, test-only evaluators for the policy and pattern subsets the AWS constructs emit, so tests can
 * ask "may this principal do X on Y?" and "does this rule match this event?" instead of comparing JSON.
 *
 * - IAM: Allow/Deny statements with Action/NotAction globs, Resource/NotResource globs and the condition
 *   operators used here (StringLike, StringEquals, ArnEquals, ArnNotEquals, ArnLike, Bool, NumericLessThan), per "Policy
 *   evaluation logic" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 *   an explicit Deny wins, otherwise an Allow is needed.
 * - EventBridge: exact values, `prefix`, `anything-but` (value, list, `{ prefix }`), nested objects, arrays in
 *   the event (any element matches) and `$or`, per "Comparison operators for use in event patterns in Amazon
 *   EventBridge" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 *   A field missing from the event matches nothing, `anything-but` included.
 */

/** Resolves the CloudFormation intrinsics of a synthesized template to plain strings, with fake ARNs per logical ID. */
export function resolveCfn(value: unknown, names: (logicalId: string, attr?: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveCfn(v, names));
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') {
      const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-central-1', 'AWS::AccountId': '111122223333', 'AWS::URLSuffix': 'amazonaws.com' };
      return pseudo[v.Ref] ?? names(v.Ref);
    }
    if (Array.isArray(v['Fn::GetAtt'])) return names(...(v['Fn::GetAtt'] as [string, string]));
    if (Array.isArray(v['Fn::Join'])) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolveCfn(p, names)).join(sep);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveCfn(x, names)]));
  }
  return value;
}

const list = (x: unknown): string[] => (x === undefined ? [] : Array.isArray(x) ? x.map(String) : [String(x)]);
const glob = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.split('*').map((p) => p.split('?').map((q) => q.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('.')).join('.*')}$`, 'i').test(value);
// Resource ARNs are case-sensitive; actions are not.
const globCase = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.split('*').map((p) => p.split('?').map((q) => q.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('.')).join('.*')}$`).test(value);

export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: unknown; NotAction?: unknown; Resource?: unknown; NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function conditionHolds(cond: Statement['Condition'], ctx: Readonly<Record<string, string>>): boolean {
  for (const [op, entries] of Object.entries(cond ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = ctx[key];
      const values = list(expected);
      let ok: boolean;
      switch (op) {
        case 'StringEquals': case 'ArnEquals': ok = actual !== undefined && values.includes(actual); break;
        case 'StringLike': case 'ArnLike': ok = actual !== undefined && values.some((p) => globCase(p, actual)); break;
        case 'ArnNotEquals': case 'StringNotEquals': ok = actual === undefined || !values.includes(actual); break;
        case 'Bool': ok = actual !== undefined && values.includes(actual); break;
        case 'NumericLessThan': ok = actual !== undefined && values.some((v) => Number(actual) < Number(v)); break;
        default: throw new Error(`policy-eval: condition operator ${op} is not implemented`);
      }
      if (!ok) return false;
    }
  }
  return true;
}

function applies(st: Statement, req: IamRequest): boolean {
  const actionOk = st.Action !== undefined ? list(st.Action).some((a) => glob(a, req.action)) : !list(st.NotAction).some((a) => glob(a, req.action));
  const resourceOk = st.Resource !== undefined ? list(st.Resource).some((r) => globCase(r, req.resource)) : !list(st.NotResource).some((r) => globCase(r, req.resource));
  return actionOk && resourceOk && conditionHolds(st.Condition, req.context ?? {});
}

/** 'allow' | 'deny' (explicit) | 'implicit-deny' for one request against a set of (resolved) statements. */
export function evaluate(statements: readonly unknown[], req: IamRequest): 'allow' | 'deny' | 'implicit-deny' {
  const sts = statements as Statement[];
  if (sts.some((s) => s.Effect === 'Deny' && applies(s, req))) return 'deny';
  return sts.some((s) => s.Effect === 'Allow' && applies(s, req)) ? 'allow' : 'implicit-deny';
}

/** Whether an EventBridge pattern matches an event. */
export function eventMatches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(rule as Record<string, unknown>[]).some((alt) => eventMatches(alt, event))) return false;
      continue;
    }
    const value = event[key];
    if (Array.isArray(rule)) {
      if (value === undefined) return false;
      const values = Array.isArray(value) ? value : [value];
      if (!values.some((v) => rule.some((r) => leafMatches(r, v)))) return false;
    } else {
      if (value === undefined || value === null || typeof value !== 'object') return false;
      const values = Array.isArray(value) ? value : [value];
      if (!values.some((v) => eventMatches(rule as Record<string, unknown>, v as Record<string, unknown>))) return false;
    }
  }
  return true;
}

function leafMatches(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return rule === value;
  const r = rule as Record<string, unknown>;
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(String(r.prefix));
  if ('anything-but' in r) {
    const ab = r['anything-but'];
    if (ab !== null && typeof ab === 'object' && !Array.isArray(ab)) {
      const prefixes = list((ab as Record<string, unknown>).prefix);
      if (prefixes.length === 0) throw new Error('policy-eval: only anything-but { prefix } is implemented');
      return typeof value === 'string' && !prefixes.some((p) => value.startsWith(p));
    }
    return !(Array.isArray(ab) ? ab : [ab]).includes(value as never);
  }
  throw new Error(`policy-eval: pattern operator ${JSON.stringify(rule)} is not implemented`);
}
