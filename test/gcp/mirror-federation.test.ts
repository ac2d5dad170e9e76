/**
 * The GCP image mirror's keyless path, checked against the documented claim layouts rather than the same
 * derivation on both sides: a decoded Google service-account ID token (fixture) is evaluated the way AWS
 * documents its `accounts.google.com` condition keys (`:aud` is the token's `azp` when present, else `aud`;
 * `:oaud` is `aud`; `:sub` is `sub`; "IAM and AWS STS condition context keys"), against the trust conditions
 * of the naming contract, with the audience the synthesized mirror job actually requests.
 */
import * as fs from 'fs';
import * as path from 'path';
import { naming, resolvePlan } from '../../lib/core';
import { referencePlan } from '../../stacks/reference-plan';
import { resources, synthStack } from './helpers';

type Claims = Record<string, unknown>;
const token: Claims = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/google-sa-id-token.json'), 'utf8'));

/** The request context AWS builds from a Google ID token (per AWS's list of web identity federation keys). */
function awsGoogleContext(claims: Claims): Record<string, unknown> {
  return {
    'accounts.google.com:aud': claims.azp ?? claims.aud,
    'accounts.google.com:oaud': claims.aud,
    'accounts.google.com:sub': claims.sub,
  };
}

/** StringEquals: every key equals exactly. */
function stringEquals(conditions: Record<string, string>, context: Record<string, unknown>): string[] {
  return Object.entries(conditions).filter(([k, v]) => context[k] !== v).map(([k, v]) => `${k}: token gives ${JSON.stringify(context[k])}, role wants ${JSON.stringify(v)}`);
}

const plan = resolvePlan(referencePlan);
const subject = referencePlan.counterparties.gcp!.imageMirrorSubjectId!;
const { json } = synthStack();
const mirrorEnv = Object.fromEntries(resources(json, 'google_cloud_run_v2_job').find((j) => j.name === 'acme-cc-mirror')!
  .template.template.containers[0].env.map((e: any) => [e.name, e.value]));

test('the fixture is a service-account token: issuer accounts.google.com, azp and sub the same numeric ID', () => {
  expect(token.iss).toBe('https://accounts.google.com');
  expect(token.azp).toBe(token.sub);
  expect(String(token.sub)).toMatch(/^\d{21}$/);
});

test('the token the mirror job requests satisfies the role\'s trust conditions (and the job assumes that role)', () => {
  expect(mirrorEnv.CP_MIRROR_TOKEN_AUDIENCE).toBe(token.aud);
  expect(mirrorEnv.AWS_ROLE_ARN).toBe(naming.imageMirrorRoleArn(plan, 'gcp'));
  expect(stringEquals(naming.gcpImageMirrorTrustConditions(plan, subject), awsGoogleContext(token))).toEqual([]);
});

test.each([
  ['another service account of the project', { azp: '104857600000000000002', sub: '104857600000000000002' }, ['accounts.google.com:aud', 'accounts.google.com:sub']],
  ['a token requested for another audience', { aud: 'https://example.com' }, ['accounts.google.com:oaud']],
  ['the Storage Transfer identity (a different subject)', { azp: '101234567890123456789', sub: '101234567890123456789' }, ['accounts.google.com:aud', 'accounts.google.com:sub']],
])('refused: %s', (_what, patch, failing) => {
  const mismatches = stringEquals(naming.gcpImageMirrorTrustConditions(plan, subject), awsGoogleContext({ ...token, ...patch }));
  expect(mismatches.map((m) => m.split(':').slice(0, 2).join(':'))).toEqual(failing);
});

test('a condition on :aud alone would be wrong for these tokens: AWS compares it with azp, not with the requested audience', () => {
  const naive = { 'accounts.google.com:aud': String(token.aud) };
  expect(stringEquals(naive, awsGoogleContext(token))).toHaveLength(1);
});
