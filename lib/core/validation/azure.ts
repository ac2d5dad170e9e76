/**
 * Checks of `counterparties.azure`.
 */
import * as naming from '../naming';
import { CIDR_RE, checkRegion, UUID_RE, type IssueCollector } from './collector';

const AZURE_LOCATION_RE = /^[a-z][a-z0-9]+$/;

/** The fields of `counterparties.azure` (add new ones here). */
export const AZURE_FIELDS = ['subscriptionId', 'tenantId', 'location', 'copyIdentityPrincipalId', 'tokenAudience', 'allowedIpRanges', 'mode',
  'mirrorIdentityPrincipalId', 'federationApplicationClientId', 'applicationAllowedIpRanges', 'applicationPublicIngress', 'bootstrap'];

type Fields = Record<string, unknown>;

function checkCidrList(c: IssueCollector, field: string, list: unknown): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    c.error(field, list, 'must be a list of CIDR ranges.', 'give e.g. ["203.0.113.0/24"], or leave it out.');
    return;
  }
  list.forEach((r, i) => {
    const m = typeof r === 'string' ? CIDR_RE.exec(r) : null;
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) c.error(`${field}[${i}]`, r, 'is not an IPv4 address or CIDR range.', 'give e.g. "203.0.113.0/24".');
  });
}

export function checkAzureCounterparty(c: IssueCollector, a: Fields, allowed: readonly string[] | undefined): void {
  c.unknownKeys('counterparties.azure', a, AZURE_FIELDS);
  for (const key of ['subscriptionId', 'tenantId'] as const) {
    if (typeof a[key] !== 'string' || !UUID_RE.test(a[key] as string)) c.error(`counterparties.azure.${key}`, a[key], 'is not a UUID.', `give the ${key === 'tenantId' ? 'Entra tenant' : 'subscription'} ID.`);
  }
  if (typeof a.location !== 'string' || !AZURE_LOCATION_RE.test(a.location)) {
    c.error('counterparties.azure.location', a.location, 'is not an Azure location name.', 'give a location such as "westeurope" (lowercase, no spaces).');
  } else checkRegion(c, 'azure', 'counterparties.azure.location', a.location, allowed);
  if (a.copyIdentityPrincipalId === undefined) {
    c.warn('counterparties.azure.copyIdentityPrincipalId', undefined, 'is not set, so the AWS reader role for Azure is not created and the nightly copy will fail until it is.',
      'deploy the Azure stack, copy its output copy_identity_principal_id here, and deploy the AWS stack again.');
  } else if (typeof a.copyIdentityPrincipalId !== 'string' || !UUID_RE.test(a.copyIdentityPrincipalId)) {
    c.error('counterparties.azure.copyIdentityPrincipalId', a.copyIdentityPrincipalId, 'is not a UUID.', 'copy the Azure stack output copy_identity_principal_id.');
  }
  if (a.tokenAudience !== undefined && (typeof a.tokenAudience !== 'string' || a.tokenAudience === '')) c.error('counterparties.azure.tokenAudience', a.tokenAudience, 'must be a non-empty string.', 'leave it out for api://<system>-aws-federation.');
  else if (a.tokenAudience === naming.AZURE_TOKEN_EXCHANGE_AUDIENCE) {
    c.error('counterparties.azure.tokenAudience', a.tokenAudience, 'is Microsoft\'s reserved token-exchange audience: its tokens have the v2.0 issuer and a GUID aud, which the AWS role does not trust.', 'leave it out (api://<system>-aws-federation, the Application ID URI of the app registration the Azure stack creates), or give your app registration\'s Application ID URI.');
  } else if (typeof a.tokenAudience === 'string' && (!/^(api|https):\/\/\S+$/.test(a.tokenAudience) || a.tokenAudience.endsWith('/'))) {
    c.error('counterparties.azure.tokenAudience', a.tokenAudience, 'is not an Application ID URI.', 'give api://<name> (or a verified-domain https:// URI) without a trailing slash, or leave it out.');
  }
  checkCidrList(c, 'counterparties.azure.allowedIpRanges', a.allowedIpRanges);
  checkCidrList(c, 'counterparties.azure.applicationAllowedIpRanges', a.applicationAllowedIpRanges);
  for (const key of ['mirrorIdentityPrincipalId', 'federationApplicationClientId'] as const) {
    if (a[key] !== undefined && (typeof a[key] !== 'string' || !UUID_RE.test(a[key] as string))) {
      c.error(`counterparties.azure.${key}`, a[key], 'is not a UUID.', key === 'mirrorIdentityPrincipalId' ? 'copy the Azure stack output mirror_identity_principal_id.' : 'give the Application (client) ID of the app registration.');
    }
  }
  const ranges = (a.applicationAllowedIpRanges ?? a.allowedIpRanges) as unknown;
  if (a.mode === 'active' && a.applicationPublicIngress !== true && (!Array.isArray(ranges) || ranges.length === 0)) {
    c.error('counterparties.azure.applicationAllowedIpRanges', a.applicationAllowedIpRanges, 'is empty while mode is "active": the application would take traffic from the whole internet.',
      'give the ranges that may reach it (or allowedIpRanges), or set applicationPublicIngress: true once authentication is in front of it.');
  }
  if (a.bootstrap !== undefined && typeof a.bootstrap !== 'boolean') c.error('counterparties.azure.bootstrap', a.bootstrap, 'must be true or false.', 'set true only for the first deploy with an empty registry.');
  if (a.applicationPublicIngress !== undefined && typeof a.applicationPublicIngress !== 'boolean') c.error('counterparties.azure.applicationPublicIngress', a.applicationPublicIngress, 'must be true or false.', 'leave it out (false) to serve only applicationAllowedIpRanges.');
  if (a.mode !== undefined && a.mode !== 'standby' && a.mode !== 'active') c.error('counterparties.azure.mode', a.mode, 'is not a mode.', 'use "standby" (default) or "active" (failover).');
}
