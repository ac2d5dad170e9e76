/**
 * The Azure jobs' federation self-check (docs/azure.md, "Federation that checks itself").
 *
 * Before the copy (or the image mirror) presents its Entra token to AWS STS, the job decodes its OWN
 * token and compares `iss`, `aud` and `sub` with what the AWS role trusts, which the stack puts in
 * the job's environment from the same naming contract the AWS stack uses:
 *
 * - `CP_TRUSTED_ISSUER`   the IAM OIDC provider's URL (`https://sts.windows.net/<tenant>/`)
 * - `CP_TRUSTED_AUDIENCE` the provider's client ID and the role's `<issuer>:aud` condition
 * - `CP_TRUSTED_SUBJECT`  the role's `<issuer>:sub` condition (the plan's principal ID of this identity)
 *
 * No signature check: the token comes straight from the managed identity endpoint and is only read
 * here, never trusted for anything. A mismatch would otherwise surface as STS's opaque
 * `InvalidIdentityToken`/`AccessDenied` deep inside rclone or skopeo; here it is one structured
 * failure line naming both values, and a non-zero exit.
 */
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { RuntimeError, oneLine } from './errors';
import { logEvent, type LogEvent } from './log';

/** What the AWS role trusts. */
export interface TrustedFederation {
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
}

/** One claim that differs from what AWS trusts. */
export interface ClaimMismatch {
  readonly claim: 'iss' | 'aud' | 'sub';
  /** The value in the job's own token (`(absent)` when the claim is missing). */
  readonly token: string;
  /** The value the AWS role trusts (`(not set)` when the environment gives none). */
  readonly trusted: string;
}

export const FEDERATION_ENV = {
  issuer: 'CP_TRUSTED_ISSUER',
  audience: 'CP_TRUSTED_AUDIENCE',
  subject: 'CP_TRUSTED_SUBJECT',
} as const;

/** Decodes a JWT's payload (base64url JSON). Throws RuntimeError when it is not a JWT. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) throw new RuntimeError(`federation: the token is not a JWT (${parts.length} dot-separated parts, expected 3)`);
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch (e) {
    throw new RuntimeError(`federation: the token's payload is not base64url JSON (${oneLine(e)})`);
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new RuntimeError('federation: the token\'s payload is not a JSON object');
  return claims as Record<string, unknown>;
}

/** What AWS trusts, from the job's environment. Empty values are kept (they are reported as `(not set)`). */
export function trustedFederationFromEnv(env: NodeJS.ProcessEnv): TrustedFederation {
  return {
    issuer: env[FEDERATION_ENV.issuer] ?? '',
    audience: env[FEDERATION_ENV.audience] ?? '',
    subject: env[FEDERATION_ENV.subject] ?? '',
  };
}

function claimText(value: unknown): string {
  if (value === undefined || value === null) return '(absent)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The claims of `claims` that differ from `trusted` (exact, case-sensitive string match, as IAM's StringEquals). */
export function federationMismatches(claims: Record<string, unknown>, trusted: TrustedFederation): ClaimMismatch[] {
  const pairs: [ClaimMismatch['claim'], string][] = [['iss', trusted.issuer], ['aud', trusted.audience], ['sub', trusted.subject]];
  return pairs
    .filter(([claim, want]) => !want || claims[claim] !== want)
    .map(([claim, want]) => ({ claim, token: claimText(claims[claim]), trusted: want || '(not set)' }));
}

/** `iss: token "<a>" but AWS trusts "<b>"; ...` (the `ver` claim is added when the issuer differs: v2.0 tokens are the usual cause). */
export function describeMismatches(mismatches: readonly ClaimMismatch[], claims: Record<string, unknown>): string {
  const parts = mismatches.map((m) => `${m.claim}: token ${JSON.stringify(m.token)} but AWS trusts ${JSON.stringify(m.trusted)}`);
  const hint = mismatches.some((m) => m.claim === 'iss') && claims.ver !== undefined ? ` (token ver ${claimText(claims.ver)}; AWS trusts v1.0 tokens of the app registration, accessTokenAcceptedVersion 1)` : '';
  return `${parts.join('; ')}${hint}`;
}

export interface FederationSelfCheckOptions {
  /** The event of the job's one result line (`counterparty.copy`, `counterparty.mirror`). */
  readonly event: LogEvent;
  /** The audience the job requests its token for (`CP_AZURE_TOKEN_AUDIENCE`). */
  readonly audience: string;
  /** What AWS trusts. */
  readonly trusted: TrustedFederation;
  /** User-assigned identity's client ID (`AZURE_CLIENT_ID`). */
  readonly clientId?: string;
  /** @default ManagedIdentityCredential({ clientId }) */
  readonly credential?: TokenCredential;
}

export interface FederationSelfCheckResult {
  readonly ok: boolean;
  readonly mismatches: readonly ClaimMismatch[];
  /** The failure line written (only when not ok). */
  readonly logLine?: string;
}

/**
 * Gets the job's own token, compares it with what AWS trusts and, on any mismatch or error, writes
 * the job's ONE result line (`result: failure`, `reason: federation`), naming both values.
 * The caller exits non-zero when `ok` is false and must not write another result line.
 */
export async function federationSelfCheck(opts: FederationSelfCheckOptions): Promise<FederationSelfCheckResult> {
  const scope = opts.audience.endsWith('/.default') ? opts.audience : `${opts.audience}/.default`;
  let claims: Record<string, unknown>;
  try {
    if (!opts.audience) throw new RuntimeError('CP_AZURE_TOKEN_AUDIENCE is not set');
    const credential = opts.credential ?? new ManagedIdentityCredential({ clientId: opts.clientId });
    const token = await credential.getToken(scope);
    if (!token?.token) throw new RuntimeError(`the managed identity returned no token for ${scope}`);
    claims = decodeJwtClaims(token.token);
  } catch (e) {
    const logLine = logEvent(opts.event, { result: 'failure', reason: 'federation', error: `federation: could not read the job's own token for ${scope}: ${oneLine(e)}` });
    return { ok: false, mismatches: [], logLine };
  }
  const mismatches = federationMismatches(claims, opts.trusted);
  if (mismatches.length === 0) return { ok: true, mismatches };
  const logLine = logEvent(opts.event, {
    result: 'failure',
    reason: 'federation',
    error: `federation: the job's token does not match what the AWS role trusts: ${describeMismatches(mismatches, claims)}`,
    mismatches,
  });
  return { ok: false, mismatches, logLine };
}
