/**
 * Checks of `system`, `primary` and `residency`.
 */
import { JURISDICTIONS } from '../residency';
import { AWS_REGION_RE, checkNetwork, type IssueCollector } from './collector';

const SYSTEM_RE = /^[a-z][a-z0-9-]*[a-z0-9]$/;

type Fields = Record<string, unknown>;

/** `system`; returns whether it is valid (names can be derived from it). */
export function checkSystem(c: IssueCollector, plan: Fields): boolean {
  if (!c.string('system', plan.system, 'name the system, e.g. "acme-cc".')) return false;
  const s = plan.system;
  if (!SYSTEM_RE.test(s) || s.length < 3 || s.length > 24) {
    c.error('system', s, 'must be 3-24 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit.', 'choose a short name such as "acme-cc".');
    return false;
  }
  return true;
}

/** `primary`; returns whether account and region are valid. */
export function checkPrimary(c: IssueCollector, plan: Fields): boolean {
  if (!c.object('primary', plan.primary, 'give primary: { account, region }.')) return false;
  const p = plan.primary;
  c.unknownKeys('primary', p, ['account', 'region', 'jobsNetwork']);
  if (p.jobsNetwork !== undefined) checkNetwork(c, 'primary.jobsNetwork', p.jobsNetwork, 'the primary\'s Fargate jobs');
  let ok = true;
  if (typeof p.account !== 'string' || !/^\d{12}$/.test(p.account)) {
    c.error('primary.account', p.account, 'is not a 12-digit AWS account ID.', 'give the account ID as a string of 12 digits, e.g. "123456789012".');
    ok = false;
  }
  if (typeof p.region !== 'string' || !AWS_REGION_RE.test(p.region)) {
    c.error('primary.region', p.region, 'is not an AWS region.', 'give a region such as "eu-central-1".');
    ok = false;
  }
  return ok;
}

/** `residency`; returns the allowed list when one is given and valid. */
export function checkResidency(c: IssueCollector, plan: Fields): readonly string[] | undefined {
  const residency = plan.residency;
  if (!c.object('residency', residency, 'give residency: { allowed: ["eu"] }, or leave it out.', true)) return undefined;
  c.unknownKeys('residency', residency, ['allowed']);
  const list = residency.allowed;
  if (!Array.isArray(list) || list.length === 0 || list.some((e) => typeof e !== 'string' || e === '')) {
    c.error('residency.allowed', list, 'must be a non-empty list of jurisdictions or region names.', `use jurisdictions (${Object.keys(JURISDICTIONS).join(', ')}) and/or exact region names.`);
    return undefined;
  }
  return list as string[];
}
