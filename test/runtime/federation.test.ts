/**
 * The Azure jobs' federation self-check (lib/runtime/federation.ts) against sample tokens laid out
 * as Microsoft documents them (test/cross/fixtures/entra-access-token-claims.json), and through
 * the jobs CLI's `copy` command: a mismatch is one structured failure line naming both values and
 * exit code 2, before any copy starts.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { decodeJwtClaims, federationMismatches, federationSelfCheck, trustedFederationFromEnv } from '../../lib/runtime/federation';
import { runCommand } from '../../lib/runtime/jobs';
import { setLogSink } from '../../lib/runtime/log';
import { sampleToken } from '../cross/entra-token';

const tenantId = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const objectId = '1111aaaa-3333-4444-5555-6666bbbb8888';
const values = {
  tenantId,
  applicationIdUri: 'api://acme-cc-aws-federation',
  identityClientId: '99998888-7777-4666-9555-444433332222',
  identityObjectId: objectId,
  appRoleValue: 'AssumeRoleWithWebIdentity',
  subscriptionId: '12345678-1234-1234-1234-123456789abc',
  resourceGroup: 'rg-acme-cc-counterparty',
  identityName: 'id-acme-cc-jobs',
  tokenExchangeAppClientId: 'fb60f99c-7a34-4190-8149-302f77469936',
};
const trusted = { issuer: `https://sts.windows.net/${tenantId}/`, audience: 'api://acme-cc-aws-federation', subject: objectId };

function credentialFor(token: string, seen: string[] = []): TokenCredential {
  return { getToken: async (scope: string | string[]): Promise<AccessToken> => { seen.push(String(scope)); return { token, expiresOnTimestamp: Date.now() + 3_600_000 }; } };
}

let lines: string[];
let restore: ReturnType<typeof setLogSink>;
beforeEach(() => { lines = []; restore = setLogSink({ line: (t) => lines.push(t) }); });
afterEach(() => { setLogSink(restore); });

describe('decoding and comparing the job\'s own token', () => {
  test('a documented v1 app-only token for the Application ID URI matches what AWS trusts', () => {
    const claims = decodeJwtClaims(sampleToken('v1AppOnlyTokenForAppIdUri', values));
    expect(claims).toMatchObject({ iss: trusted.issuer, aud: trusted.audience, sub: objectId, ver: '1.0' });
    expect(federationMismatches(claims, trusted)).toEqual([]);
  });

  test('a token for api://AzureADTokenExchange (v2.0 issuer, GUID audience) matches neither iss nor aud', () => {
    const claims = decodeJwtClaims(sampleToken('v2TokenExchangeToken', values));
    expect(federationMismatches(claims, trusted)).toEqual([
      { claim: 'iss', token: `https://login.microsoftonline.com/${tenantId}/v2.0`, trusted: trusted.issuer },
      { claim: 'aud', token: values.tokenExchangeAppClientId, trusted: trusted.audience },
    ]);
  });

  test('a trusted value that is not set is a mismatch, never a pass', () => {
    const claims = decodeJwtClaims(sampleToken('v1AppOnlyTokenForAppIdUri', values));
    expect(federationMismatches(claims, { ...trusted, subject: '' })).toEqual([{ claim: 'sub', token: objectId, trusted: '(not set)' }]);
    expect(trustedFederationFromEnv({})).toEqual({ issuer: '', audience: '', subject: '' });
  });

  test('comparison is exact: a trailing slash or case change on the issuer is a mismatch (IAM StringEquals)', () => {
    const claims = decodeJwtClaims(sampleToken('v1AppOnlyTokenForAppIdUri', values));
    expect(federationMismatches(claims, { ...trusted, issuer: trusted.issuer.slice(0, -1) })).toHaveLength(1);
    expect(federationMismatches(claims, { ...trusted, subject: objectId.toUpperCase() })).toHaveLength(1);
  });

  test('not a JWT: a one-line error', () => {
    expect(() => decodeJwtClaims('abc')).toThrow(/not a JWT/);
    expect(() => decodeJwtClaims('a.!!!.c')).toThrow(/not base64url JSON|not a JSON object/);
  });
});

describe('federationSelfCheck', () => {
  test('ok: asks for <audience>/.default and writes nothing', async () => {
    const seen: string[] = [];
    const r = await federationSelfCheck({ event: 'counterparty.copy', audience: trusted.audience, trusted, credential: credentialFor(sampleToken('v1AppOnlyTokenForAppIdUri', values), seen) });
    expect(r.ok).toBe(true);
    expect(seen).toEqual(['api://acme-cc-aws-federation/.default']);
    expect(lines).toEqual([]);
  });

  test('mismatch: ONE failure line that names the token value and the trusted value', async () => {
    const r = await federationSelfCheck({ event: 'counterparty.copy', audience: trusted.audience, trusted: { ...trusted, subject: '00000000-0000-4000-8000-000000000000' }, credential: credentialFor(sampleToken('v1AppOnlyTokenForAppIdUri', values)) });
    expect(r.ok).toBe(false);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ event: 'counterparty.copy', result: 'failure', reason: 'federation' });
    expect(line.error).toContain(`sub: token "${objectId}" but AWS trusts "00000000-0000-4000-8000-000000000000"`);
  });

  test('the v2.0 issuer is explained in the failure line', async () => {
    await federationSelfCheck({ event: 'counterparty.copy', audience: trusted.audience, trusted, credential: credentialFor(sampleToken('v2TokenExchangeToken', values)) });
    expect(JSON.parse(lines[0]).error).toMatch(/iss: token "https:\/\/login\.microsoftonline\.com\/.*\/v2\.0" but AWS trusts "https:\/\/sts\.windows\.net\/.*\/".*token ver 2\.0/);
  });

  test('no token from the identity endpoint: one failure line, not a throw', async () => {
    const failing: TokenCredential = { getToken: async () => { throw new Error('ManagedIdentityCredential: no identity endpoint'); } };
    const r = await federationSelfCheck({ event: 'counterparty.copy', audience: trusted.audience, trusted, credential: failing });
    expect(r.ok).toBe(false);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ result: 'failure', reason: 'federation', error: expect.stringContaining('no identity endpoint') });
  });
});

describe('the copy command checks federation before copying', () => {
  test('a mismatch exits 2 with one failure line, and rclone is never started', async () => {
    // No managed identity endpoint here: the self-check can't get a token, so it must fail closed
    // (before rclone, which would otherwise report a missing binary or an S3 error instead).
    const code = await runCommand('copy', {
      CP_STORE: 'azblob://acmeccvault/exports', CP_SOURCE_BUCKET: 'b', AWS_REGION: 'eu-central-1', AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/counterparty/x',
      CP_AZURE_TOKEN_AUDIENCE: trusted.audience, CP_TRUSTED_ISSUER: trusted.issuer, CP_TRUSTED_AUDIENCE: trusted.audience, CP_TRUSTED_SUBJECT: objectId,
      AZURE_CLIENT_ID: values.identityClientId, IDENTITY_ENDPOINT: 'http://127.0.0.1:9/msi/token', IDENTITY_HEADER: 'x',
    });
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ event: 'counterparty.copy', result: 'failure', reason: 'federation' });
  }, 30_000);
});
