/**
 * The issue collector every plan check reports into, and the checks shared by several sections.
 * Every problem names the field, the value and the fix.
 */
import { type PlanIssue } from '../errors';
import * as naming from '../naming';
import { allowedRegions, regionAllowed, type Provider } from '../residency';
import { isToken } from './tokens';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const AWS_REGION_RE = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
export const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\/(\d|[12]\d|3[0-2]))?$/;

export class IssueCollector {
  public readonly issues: PlanIssue[] = [];
  error(field: string, value: unknown, problem: string, fix: string): void {
    this.issues.push({ field, value, problem, fix, severity: 'error' });
  }
  warn(field: string, value: unknown, problem: string, fix: string): void {
    this.issues.push({ field, value, problem, fix, severity: 'warning' });
  }
  /** Checks `value` is a non-empty string; reports and returns false otherwise. */
  string(field: string, value: unknown, fix: string): value is string {
    if (typeof value === 'string' && value.trim() !== '') return true;
    this.error(field, value, value === undefined ? 'is required.' : 'must be a non-empty string.', fix);
    return false;
  }
  object(field: string, value: unknown, fix: string, optional = false): value is Record<string, unknown> {
    if (value === undefined && optional) return false;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    this.error(field, value, value === undefined ? 'is required.' : 'must be an object.', fix);
    return false;
  }
  /** Optional whole number in [min, max]; returns the value or undefined. */
  integer(field: string, value: unknown, min: number, max: number, fix: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.error(field, value, `must be a whole number from ${min} to ${max}.`, fix);
      return undefined;
    }
    return value;
  }
  boolean(field: string, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.error(field, value, 'must be true or false.', `set ${field} to true or false (a boolean, not a string).`);
      return undefined;
    }
    return value;
  }
  unknownKeys(field: string, value: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const name = /^[A-Za-z_$][\w$]*$/.test(key) ? (field ? `${field}.${key}` : key) : `${field}[${JSON.stringify(key)}]`;
        this.error(name, value[key], 'is not a field Counterparty knows.', `remove it, or check its spelling against: ${known.join(', ')}.`);
      }
    }
  }
  name(field: string, derived: string, rule: naming.NameRule, fix: string): void {
    const violation = naming.nameRuleViolation(derived, rule);
    if (violation) this.error(field, derived, `derives ${violation}.`, fix);
  }
}

export function checkRegion(c: IssueCollector, provider: Provider, field: string, region: string, allowed: readonly string[] | undefined): void {
  if (!allowed) return;
  if (!regionAllowed(provider, region, allowed)) {
    c.error(field, region, `is outside the plan's residency (${allowed.join(', ')}).`,
      `use one of: ${allowedRegions(provider, allowed).join(', ')}; or change residency.allowed if the data may live there.`);
  }
}

export function checkNetwork(c: IssueCollector, f: string, n: unknown, what: string): void {
  if (!c.object(f, n, `give vpcId, subnetIds and securityGroupIds for ${what}.`)) return;
  c.unknownKeys(f, n, ['vpcId', 'subnetIds', 'securityGroupIds', 'availabilityZones']);
  // The network is read by the AWS half only: CDK tokens (vpc.vpcId, subnet.subnetId) are accepted (validation/tokens.ts).
  if (typeof n.vpcId !== 'string' || !(isToken(n.vpcId) || /^vpc-[0-9a-f]{8,17}$/.test(n.vpcId))) c.error(`${f}.vpcId`, n.vpcId, 'is not a VPC ID.', 'give vpc-xxxxxxxx, or the VPC construct\'s vpcId.');
  for (const [key, prefix] of [['subnetIds', 'subnet'], ['securityGroupIds', 'sg']] as const) {
    const list = n[key];
    if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || !(isToken(s) || new RegExp(`^${prefix}-[0-9a-f]{8,17}$`).test(s)))) {
      c.error(`${f}.${key}`, list, `must be a non-empty list of ${prefix}-xxxxxxxx IDs.`, `list the ${key === 'subnetIds' ? 'private subnets' : 'security groups'} ${what} uses.`);
    }
  }
  const azs = n.availabilityZones;
  if (azs !== undefined && (!Array.isArray(azs) || azs.length === 0 || azs.some((z) => typeof z !== 'string' || !(isToken(z) || /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/.test(z))))) {
    c.error(`${f}.availabilityZones`, azs, 'must be a non-empty list of availability zone names.', 'give e.g. ["eu-central-1a", "eu-central-1b"], or leave it out.');
  }
}
