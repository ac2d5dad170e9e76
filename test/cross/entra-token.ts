/**
 * Builds sample Entra access tokens from test/cross/fixtures/entra-access-token-claims.json (the
 * documented v1.0 / v2.0 claim layouts): fills the {placeholders}, then encodes header and payload
 * as a JWT with a dummy signature (the self-check reads its own token and never verifies it).
 */
import fixture from './fixtures/entra-access-token-claims.json';

export type TokenLayout = 'v1AppOnlyTokenForAppIdUri' | 'v2TokenExchangeToken';

function fill(value: unknown, values: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? (name === 'opaque' || name === 'kid' ? 'AbC123' : whole));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  return value;
}

/** The decoded payload of a sample token, with every placeholder filled from `values`. Throws if one is left. */
export function sampleClaims(layout: TokenLayout, values: Record<string, string>): Record<string, unknown> {
  const payload = fill(fixture[layout].payload, values) as Record<string, unknown>;
  const left = JSON.stringify(payload).match(/\{\w+\}/g);
  if (left) throw new Error(`sample token ${layout}: no value for ${[...new Set(left)].join(', ')}`);
  return payload;
}

/** The sample token as a compact JWT. */
export function sampleToken(layout: TokenLayout, values: Record<string, string>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc(fill(fixture[layout].header, values))}.${enc(sampleClaims(layout, values))}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;
}
