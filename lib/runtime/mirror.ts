/**
 * The image mirror: copies every image the plan names (`images.application`, `images.jobs`) from the
 * primary's ECR into a counterparty registry (Artifact Registry, ACR), BY DIGEST, with skopeo (Debian's
 * package; we never speak the registry protocol ourselves). It also keeps earlier releases: the
 * `keepReleases` newest version tags of each repository, plus the plan's own tag, so the standby can
 * roll back by changing one plan field.
 *
 * Rules (each one tested in test/runtime/mirror.test.ts):
 * - a tag already in the destination with the same digest is skipped (the nightly work follows the change);
 * - a tag already in the destination with a DIFFERENT digest is never overwritten: that release fails,
 *   the run ends `failure`, and the alert fires (a tag moved on the primary; publish a new tag instead);
 * - the copy is `docker://<src>/<repo>@sha256:<digest>` → `docker://<dst>/<repo>:<tag>` with
 *   `--all --preserve-digests`, and the destination digest is checked afterwards;
 * - the run ends with a presence check of the plan's images in the destination; any missing image is a
 *   failure, and the result line lists it (the counterparty's image-presence alert keys on it).
 *
 * Credentials: skopeo reads one containers-auth.json (mode 0600, in a temporary folder removed after
 * the run) holding the ECR password and the destination token. On GCP both come keyless from the
 * metadata server: a Google ID token, exchanged at AWS STS (AssumeRoleWithWebIdentity) for the
 * ECR-pull role, and an OAuth access token for Artifact Registry (docs/gcp.md "Image mirror").
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { TokenCredential } from '@azure/identity';
import { RuntimeError, oneLine } from './errors';
import { federationSelfCheck, trustedFederationFromEnv } from './federation';
import { logEvent, progress } from './log';

type Env = NodeJS.ProcessEnv;

/** How many releases of each image repository a counterparty keeps, when the plan does not say. */
export const DEFAULT_KEEP_RELEASES = 5;

/** One skopeo invocation's outcome. */
export interface SkopeoOutput {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs skopeo with argv (tests swap in a fake executable through `CP_SKOPEO`). */
export type Skopeo = (args: readonly string[]) => Promise<SkopeoOutput>;

/** skopeo itself could not be started: a broken image or configuration, not one image's problem. */
export class SkopeoUnavailableError extends RuntimeError {}

/**
 * The skopeo executable at `binary` (default `$CP_SKOPEO`, else `skopeo` on PATH), run with
 * `extraEnv` added to this process's environment (the mirror's temporary AWS credentials).
 */
export function skopeoAt(binary: string = process.env.CP_SKOPEO || 'skopeo', extraEnv: Record<string, string> = {}): Skopeo {
  return (args) => new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...extraEnv } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => { err += b.toString('utf8'); });
    child.on('error', (e) => reject(new SkopeoUnavailableError(`skopeo: cannot run ${binary}: ${oneLine(e)} (the jobs image installs Debian's skopeo; locally: apt-get install -y skopeo)`)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err.trim() }));
  });
}

/** `repo:tag` → `{ repository, tag }` (images in the plan carry no registry host). */
export function parseImage(image: string): { repository: string; tag: string } {
  const m = /^([a-z0-9]+(?:[._/-][a-z0-9]+)*):([\w][\w.-]{0,127})$/.exec(image);
  const first = image.split('/')[0];
  if (!m || (image.includes('/') && (first.includes('.') || first === 'localhost'))) {
    throw new RuntimeError(`image ${JSON.stringify(image)} is not <repository>:<tag> (no registry host, no digest)`);
  }
  return { repository: m[1], tag: m[2] };
}

/** The release tags look like versions: `1.2.3`, `v2.0`, `2.3.1-rc1`. Moving tags (`stable`, `latest`) are not releases. */
const VERSION_TAG = /^v?(\d+(?:\.\d+)*)(?:[-+][\w.-]+)?$/;

function compareVersions(a: string, b: string): number {
  const pa = VERSION_TAG.exec(a)![1].split('.').map(Number);
  const pb = VERSION_TAG.exec(b)![1].split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  // 2.0.0-rc1 sorts before 2.0.0; otherwise by text.
  const preA = a.includes('-') ? 0 : 1;
  const preB = b.includes('-') ? 0 : 1;
  return preA - preB || a.localeCompare(b);
}

/**
 * The tags to mirror for one repository: the `keep` newest release tags of the source, plus the plan's
 * tag (always, even when it is a moving tag or older than the newest `keep`). Newest first.
 */
export function selectReleases(sourceTags: readonly string[], planTag: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RuntimeError(`keepReleases must be a whole number, at least 1; got ${JSON.stringify(keep)}`);
  const releases = sourceTags.filter((t) => VERSION_TAG.test(t)).sort(compareVersions).reverse().slice(0, keep);
  return releases.includes(planTag) ? releases : [planTag, ...releases];
}

/** sha256 of the manifest bytes as the registry serves them: the image's digest. */
export function manifestDigest(raw: Buffer): string {
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

const NOT_FOUND = /manifest unknown|name unknown|not found|404|no such file|does not exist/i;

/** The digest at `ref` (any skopeo transport), or `undefined` when the registry says it is not there. */
export async function digestAt(skopeo: Skopeo, ref: string, authArgs: readonly string[] = []): Promise<string | undefined> {
  const r = await skopeo(['inspect', '--raw', ...authArgs, ref]);
  if (r.code === 0) return manifestDigest(r.stdout);
  if (NOT_FOUND.test(r.stderr)) return undefined;
  throw new RuntimeError(`skopeo inspect ${ref}: ${r.stderr || `exit ${r.code}`}`);
}

/** Copies `from` to `to` preserving digests (all platforms), and checks that `to` then has `expectDigest`. */
export async function copyImage(skopeo: Skopeo, from: string, to: string, expectDigest: string, authArgs: readonly string[] = []): Promise<void> {
  const r = await skopeo(['copy', '--all', '--preserve-digests', ...authArgs, from, to]);
  if (r.code !== 0) throw new RuntimeError(`skopeo copy ${from} → ${to}: ${r.stderr || `exit ${r.code}`}`);
  const landed = await digestAt(skopeo, to, authArgs);
  if (landed !== expectDigest) throw new RuntimeError(`after copying ${from}, ${to} has digest ${landed ?? '(none)'}, expected ${expectDigest}`);
}

async function listTags(skopeo: Skopeo, repoRef: string, authArgs: readonly string[]): Promise<string[]> {
  const r = await skopeo(['list-tags', ...authArgs, repoRef]);
  if (r.code !== 0) throw new RuntimeError(`skopeo list-tags ${repoRef}: ${r.stderr || `exit ${r.code}`}`);
  const parsed = JSON.parse(r.stdout.toString('utf8')) as { Tags?: string[] };
  return parsed.Tags ?? [];
}

export interface MirrorOptions {
  /** Source registry, e.g. `111122223333.dkr.ecr.eu-central-1.amazonaws.com` (`naming.ecrRegistryHost(plan)`). */
  readonly source: string;
  /** Destination registry path, e.g. `europe-west3-docker.pkg.dev/<project>/<system>-images`. */
  readonly destination: string;
  /** The plan's images, `repo:tag` (`images.application`, `images.jobs`). */
  readonly images: readonly string[];
  /** Releases of each repository to keep mirrored (plan `images.keepReleases`). */
  readonly keepReleases: number;
  /** containers-auth.json for both registries; without it skopeo uses its defaults. */
  readonly authFile?: string;
  readonly skopeo?: Skopeo;
}

/** One tag of one repository, and what the run did with it. */
export interface MirroredTag {
  readonly image: string;
  readonly digest?: string;
  readonly action: 'copied' | 'present' | 'failed';
  readonly error?: string;
}

/** Is a plan image in the destination registry, and at which digest? */
export interface ImagePresence {
  readonly image: string;
  readonly present: boolean;
  readonly digest?: string;
  readonly error?: string;
}

export interface MirrorResult {
  readonly result: 'success' | 'failure';
  readonly tags: readonly MirroredTag[];
  readonly presence: readonly ImagePresence[];
  readonly missing: readonly string[];
}

const docker = (registry: string, repository: string, ref: string) => `docker://${registry}/${repository}${ref.startsWith('sha256:') ? `@${ref}` : `:${ref}`}`;

async function mirrorTag(skopeo: Skopeo, o: MirrorOptions, repository: string, tag: string, auth: readonly string[]): Promise<MirroredTag> {
  const image = `${repository}:${tag}`;
  try {
    const digest = await digestAt(skopeo, docker(o.source, repository, tag), auth);
    if (!digest) return { image, action: 'failed', error: `${image} is not in the source registry ${o.source}` };
    const there = await digestAt(skopeo, docker(o.destination, repository, tag), auth);
    if (there === digest) return { image, digest, action: 'present' };
    if (there) {
      return { image, digest, action: 'failed', error: `${image} is already in ${o.destination} at ${there}, but the source now has ${digest}: a mirrored release is never overwritten; publish the change under a new tag` };
    }
    await copyImage(skopeo, docker(o.source, repository, digest), docker(o.destination, repository, tag), digest, auth);
    progress(`mirror: ${image} ${digest} copied`);
    return { image, digest, action: 'copied' };
  } catch (e) {
    if (e instanceof SkopeoUnavailableError) throw e;
    return { image, action: 'failed', error: oneLine(e) };
  }
}

/** Which of `images` are in `registry` (`repo:tag` each), with their digests. Never throws per image. */
export async function checkImagesPresent(images: readonly string[], registry: string, opts: { authFile?: string; skopeo?: Skopeo } = {}): Promise<ImagePresence[]> {
  const skopeo = opts.skopeo ?? skopeoAt();
  const auth = opts.authFile ? ['--authfile', opts.authFile] : [];
  const out: ImagePresence[] = [];
  for (const image of images) {
    const { repository, tag } = parseImage(image);
    try {
      const digest = await digestAt(skopeo, docker(registry, repository, tag), auth);
      out.push(digest ? { image, present: true, digest } : { image, present: false });
    } catch (e) {
      if (e instanceof SkopeoUnavailableError) throw e;
      out.push({ image, present: false, error: oneLine(e) });
    }
  }
  return out;
}

/** Mirrors the plan's images and their last releases; never throws for one image (see the result). */
export async function mirrorImages(o: MirrorOptions): Promise<MirrorResult> {
  const skopeo = o.skopeo ?? skopeoAt();
  const auth = o.authFile ? ['--authfile', o.authFile] : [];
  const byRepository = new Map<string, string[]>();
  for (const image of o.images) {
    const { repository, tag } = parseImage(image);
    byRepository.set(repository, [...(byRepository.get(repository) ?? []), tag]);
  }
  const tags: MirroredTag[] = [];
  for (const [repository, planTags] of byRepository) {
    let selected: string[];
    try {
      const sourceTags = await listTags(skopeo, `docker://${o.source}/${repository}`, auth);
      selected = [...new Set(planTags.flatMap((t) => selectReleases(sourceTags, t, o.keepReleases)))];
    } catch (e) {
      if (e instanceof SkopeoUnavailableError) throw e;
      tags.push(...planTags.map((t): MirroredTag => ({ image: `${repository}:${t}`, action: 'failed', error: oneLine(e) })));
      continue;
    }
    for (const tag of selected) tags.push(await mirrorTag(skopeo, o, repository, tag, auth));
  }
  const presence = await checkImagesPresent(o.images, o.destination, { authFile: o.authFile, skopeo });
  const missing = presence.filter((p) => !p.present).map((p) => p.image);
  const failed = tags.some((t) => t.action === 'failed') || missing.length > 0;
  return { result: failed ? 'failure' : 'success', tags, presence, missing };
}

// ------------------------------------------------------------ credentials

/** A user name and password (or token) for one registry host. */
export interface RegistryLogin {
  readonly registry: string;
  readonly username: string;
  readonly password: string;
}

/** Writes a containers-auth.json (mode 0600) in a fresh private folder; `dispose` removes it. */
export function writeAuthFile(logins: readonly RegistryLogin[], credHelpers: Record<string, string> = {}): { path: string; dispose: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-mirror-'));
  const file = path.join(dir, 'auth.json');
  const auths: Record<string, { auth: string }> = {};
  for (const l of logins) auths[l.registry.split('/')[0]] = { auth: Buffer.from(`${l.username}:${l.password}`).toString('base64') };
  fs.writeFileSync(file, JSON.stringify({ auths, credHelpers }), { mode: 0o600 });
  return { path: file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function metadataUrl(env: Env, pathAndQuery: string): string {
  const host = env.GCE_METADATA_HOST || 'metadata.google.internal';
  return `http://${host}/computeMetadata/v1/instance/service-accounts/default/${pathAndQuery}`;
}

async function metadataGet(env: Env, pathAndQuery: string): Promise<string> {
  const url = metadataUrl(env, pathAndQuery);
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' } });
  } catch (e) {
    throw new RuntimeError(`GCP metadata server ${url}: ${oneLine(e)} (the gcp mirror auth runs only on Google Cloud)`);
  }
  if (!res.ok) throw new RuntimeError(`GCP metadata server ${url}: HTTP ${res.status}`);
  return res.text();
}

/** A Google-signed ID token for the attached service account, for `audience` (format=full: it carries the e-mail too). */
export async function gcpIdToken(env: Env, audience: string): Promise<string> {
  return (await metadataGet(env, `identity?audience=${encodeURIComponent(audience)}&format=full`)).trim();
}

/** An OAuth access token of the attached service account (Artifact Registry accepts it as `oauth2accesstoken`). */
export async function gcpAccessToken(env: Env): Promise<string> {
  const parsed = JSON.parse(await metadataGet(env, 'token')) as { access_token?: string };
  if (!parsed.access_token) throw new RuntimeError('GCP metadata server: the token response has no access_token');
  return parsed.access_token;
}

/** The claims AWS checks in a Google ID token (decoded, not verified: for error messages and self-checks). */
export function idTokenClaims(token: string): { iss?: string; aud?: string; azp?: string; sub?: string; email?: string } {
  const part = token.split('.')[1];
  if (!part) throw new RuntimeError('the identity token is not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Temporary AWS credentials for the ECR-pull role, from a web identity token (AssumeRoleWithWebIdentity). */
export async function assumeRoleWithWebIdentity(args: { roleArn: string; region: string; webIdentityToken: string; sessionName: string; endpoint?: string }): Promise<Record<string, string>> {
  const { STSClient, AssumeRoleWithWebIdentityCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({ region: args.region, endpoint: args.endpoint });
  try {
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: args.roleArn, RoleSessionName: args.sessionName, WebIdentityToken: args.webIdentityToken, DurationSeconds: 3600 }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new RuntimeError('STS returned no credentials');
    return { AWS_ACCESS_KEY_ID: c.AccessKeyId, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey, AWS_SESSION_TOKEN: c.SessionToken, AWS_REGION: args.region };
  } catch (e) {
    const claims = (() => { try { return idTokenClaims(args.webIdentityToken); } catch { return {}; } })();
    throw new RuntimeError(`AWS refused the mirror's identity for ${args.roleArn}: ${oneLine(e)}. The token says iss=${claims.iss}, aud=${claims.aud}, azp=${claims.azp}, sub=${claims.sub}; the role must trust accounts.google.com:aud = azp, :sub = sub and :oaud = aud (naming.gcpImageMirrorTrustConditions)`);
  }
}

/**
 * containers-auth.json entries that make skopeo ask Amazon's ECR credential helper (`docker-credential-ecr-login`,
 * Debian package amazon-ecr-credential-helper) for the ECR registry: it turns the AWS credentials in skopeo's
 * environment into an ECR authorization token (GetAuthorizationToken), so we never handle ECR's protocol.
 */
export const ECR_CREDENTIAL_HELPER = 'ecr-login';

/** The user name ACR expects with a refresh token obtained by the Entra token exchange. */
export const ACR_REFRESH_TOKEN_USER = '00000000-0000-0000-0000-000000000000';

/**
 * An ACR refresh token for `registry` from an Entra access token: ACR's documented Entra (AAD) token
 * exchange, `POST https://<registry>/oauth2/exchange` (grant_type=access_token; "Azure Container Registry
 * integration with Azure Active Directory", https://azure.github.io/acr/AAD-OAuth.html). skopeo then logs in
 * with user {@link ACR_REFRESH_TOKEN_USER} and this token as the password. The Entra token's resource is
 * `https://containerregistry.azure.net` (the Azure SDK's default ACR audience; `CP_ACR_TOKEN_RESOURCE` overrides it).
 */
export async function acrRefreshToken(registry: string, entraAccessToken: string, endpoint = `https://${registry}/oauth2/exchange`): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'access_token', service: registry, access_token: entraAccessToken });
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  } catch (e) {
    throw new RuntimeError(`ACR token exchange at ${endpoint}: ${oneLine(e)}`);
  }
  const text = await res.text();
  if (!res.ok) throw new RuntimeError(`ACR token exchange at ${endpoint}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const token = (JSON.parse(text) as { refresh_token?: string }).refresh_token;
  if (!token) throw new RuntimeError(`ACR token exchange at ${endpoint}: the response has no refresh_token`);
  return token;
}

/** Thrown after the federation self-check already wrote the job's one result line. */
class AlreadyReported extends RuntimeError {}

/** Test seams: the Azure managed identity. */
export interface MirrorDependencies {
  /** @default ManagedIdentityCredential({ clientId: AZURE_CLIENT_ID }) */
  readonly azureCredential?: TokenCredential;
}

// ------------------------------------------------------------ the command

function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new RuntimeError(`${name} is not set`);
  return v;
}

/** `CP_KEEP_RELEASES` (plan `images.keepReleases`), default 5. */
export function keepReleasesFromEnv(env: Env): number {
  const text = env.CP_KEEP_RELEASES;
  if (text === undefined || text === '') return DEFAULT_KEEP_RELEASES;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new RuntimeError(`CP_KEEP_RELEASES must be a whole number from 1 to 100, got ${JSON.stringify(text)}`);
  return n;
}

/** `CP_IMAGES` = `repo:tag,repo:tag` (the plan's images). */
export function imagesFromEnv(env: Env): string[] {
  const images = required(env, 'CP_IMAGES').split(',').map((s) => s.trim()).filter(Boolean);
  if (images.length === 0) throw new RuntimeError('CP_IMAGES is empty');
  images.forEach(parseImage);
  return images;
}

interface MirrorAuth {
  readonly authFile?: string;
  /** Added to skopeo's environment (temporary AWS credentials for the ECR credential helper). */
  readonly env: Record<string, string>;
  dispose(): void;
}

/**
 * Credentials for `CP_MIRROR_AUTH`:
 * - `gcp`: keyless, from the metadata server: a Google ID token for CP_MIRROR_TOKEN_AUDIENCE, exchanged
 *   at STS for AWS_ROLE_ARN (AWS_REGION), handed to the ECR credential helper; Artifact Registry gets the
 *   service account's OAuth access token;
 * - `azure`: keyless, from the job's managed identity (AZURE_CLIENT_ID): its own token is checked against
 *   what AWS trusts first (CP_TRUSTED_ISSUER/AUDIENCE/SUBJECT, lib/runtime/federation.ts), then exchanged at STS
 *   for AWS_ROLE_ARN; ACR gets a refresh token from the Entra token exchange;
 * - `authfile`: an existing containers-auth.json at `CP_MIRROR_AUTHFILE` (operators, tests);
 * - `none`: skopeo's own defaults.
 */
async function mirrorAuthFromEnv(env: Env, source: string, destination: string, deps: MirrorDependencies): Promise<MirrorAuth> {
  const mode = env.CP_MIRROR_AUTH || 'gcp';
  if (mode === 'none') return { env: {}, dispose: () => undefined };
  if (mode === 'authfile') return { authFile: required(env, 'CP_MIRROR_AUTHFILE'), env: {}, dispose: () => undefined };
  if (mode === 'azure') return azureMirrorAuth(env, source, destination, deps);
  if (mode !== 'gcp') throw new RuntimeError(`CP_MIRROR_AUTH must be gcp, azure, authfile or none, got ${JSON.stringify(mode)}`);
  const idToken = await gcpIdToken(env, required(env, 'CP_MIRROR_TOKEN_AUDIENCE'));
  const awsEnv = await assumeRoleWithWebIdentity({
    roleArn: required(env, 'AWS_ROLE_ARN'), region: required(env, 'AWS_REGION'), webIdentityToken: idToken, sessionName: 'counterparty-image-mirror',
    endpoint: env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined,
  });
  const accessToken = await gcpAccessToken(env);
  const file = writeAuthFile([{ registry: destination, username: 'oauth2accesstoken', password: accessToken }], { [source.split('/')[0]]: ECR_CREDENTIAL_HELPER });
  return { authFile: file.path, env: awsEnv, dispose: file.dispose };
}

async function azureMirrorAuth(env: Env, source: string, destination: string, deps: MirrorDependencies): Promise<MirrorAuth> {
  const audience = env.CP_MIRROR_TOKEN_AUDIENCE || required(env, 'CP_AZURE_TOKEN_AUDIENCE');
  const credential = deps.azureCredential ?? new (await import('@azure/identity')).ManagedIdentityCredential({ clientId: env.AZURE_CLIENT_ID || undefined });
  const check = await federationSelfCheck({ event: 'counterparty.mirror', audience, trusted: trustedFederationFromEnv(env), clientId: env.AZURE_CLIENT_ID, credential });
  if (!check.ok) throw new AlreadyReported('federation self-check failed (reported)', 2);
  const scope = (resource: string) => (resource.endsWith('/.default') ? resource : `${resource}/.default`);
  const awsToken = await credential.getToken(scope(audience));
  const awsEnv = await assumeRoleWithWebIdentity({
    roleArn: required(env, 'AWS_ROLE_ARN'), region: required(env, 'AWS_REGION'), webIdentityToken: awsToken!.token, sessionName: 'counterparty-image-mirror',
    endpoint: env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined,
  });
  const registry = destination.split('/')[0];
  const entra = await credential.getToken(scope(env.CP_ACR_TOKEN_RESOURCE || 'https://containerregistry.azure.net'));
  if (!entra?.token) throw new RuntimeError('the managed identity returned no token for the container registry');
  const refresh = await acrRefreshToken(registry, entra.token, env.CP_ACR_EXCHANGE_ENDPOINT || undefined);
  const file = writeAuthFile([{ registry, username: ACR_REFRESH_TOKEN_USER, password: refresh }], { [source.split('/')[0]]: ECR_CREDENTIAL_HELPER });
  return { authFile: file.path, env: awsEnv, dispose: file.dispose };
}

/**
 * The jobs CLI's `mirror` command. Environment: CP_MIRROR_SOURCE, CP_MIRROR_DESTINATION, CP_IMAGES,
 * [CP_KEEP_RELEASES=5], [CP_MIRROR_AUTH=gcp|azure|authfile|none], [CP_MIRROR_CHECK_ONLY=1: presence check only].
 * Emits exactly one `counterparty.mirror` result line (docs/runtime.md "Log lines and alert conditions"):
 * `reason` `copy-failed` when a tag failed or a plan image is missing, `error` for anything else;
 * `imagesMissing` (a number) is what the image-presence alerts key on. Exit 0 on success, else 2.
 */
export async function runMirrorCommand(env: Env = process.env, deps: MirrorDependencies = {}): Promise<number> {
  const source = env.CP_MIRROR_SOURCE;
  const destination = env.CP_MIRROR_DESTINATION;
  const checkOnly = env.CP_MIRROR_CHECK_ONLY === '1';
  let auth: MirrorAuth = { env: {}, dispose: () => undefined };
  try {
    if (!source) throw new RuntimeError('CP_MIRROR_SOURCE is not set');
    if (!destination) throw new RuntimeError('CP_MIRROR_DESTINATION is not set');
    const images = imagesFromEnv(env);
    const keepReleases = keepReleasesFromEnv(env);
    auth = await mirrorAuthFromEnv(env, source, destination, deps);
    const skopeo = skopeoAt(env.CP_SKOPEO || 'skopeo', auth.env);
    const r: MirrorResult = checkOnly
      ? await checkImagesPresent(images, destination, { authFile: auth.authFile, skopeo }).then((presence) => {
        const missing = presence.filter((p) => !p.present).map((p) => p.image);
        return { result: missing.length ? 'failure' as const : 'success' as const, tags: [], presence, missing };
      })
      : await mirrorImages({ source, destination, images, keepReleases, authFile: auth.authFile, skopeo });
    const failed = r.tags.filter((t) => t.action === 'failed');
    logEvent('counterparty.mirror', {
      result: r.result,
      ...(r.result === 'failure' ? { reason: 'copy-failed', error: [...failed.map((t) => t.error), ...r.missing.map((m) => `${m} is missing from ${destination}`)].join('; ') } : {}),
      mode: checkOnly ? 'check' : 'mirror',
      source,
      destination,
      keepReleases,
      copied: r.tags.filter((t) => t.action === 'copied').map((t) => `${t.image}@${t.digest}`),
      alreadyPresent: r.tags.filter((t) => t.action === 'present').length,
      failed: failed.map((t) => t.image),
      imagesMissing: r.missing.length,
      missing: r.missing,
      present: r.presence.filter((p) => p.present).map((p) => `${p.image}@${p.digest}`),
    });
    return r.result === 'success' ? 0 : 2;
  } catch (e) {
    if (e instanceof AlreadyReported) return 2;
    logEvent('counterparty.mirror', { result: 'failure', reason: 'error', error: oneLine(e), mode: checkOnly ? 'check' : 'mirror', source, destination, presenceChecked: false });
    return 2;
  } finally {
    auth.dispose();
  }
}

/**
 * The image check the `status` command takes (`StatusOptions.imagesCheck`): are all of `CP_IMAGES` in
 * `CP_MIRROR_DESTINATION`? Uses `CP_MIRROR_AUTHFILE` when set, else skopeo's own logins.
 * `undefined` when either variable is unset (status then says "not checked").
 */
export function imagesCheckFromEnv(env: Env, skopeo?: Skopeo): (() => Promise<{ present: boolean; detail: string }>) | undefined {
  if (!env.CP_IMAGES || !env.CP_MIRROR_DESTINATION) return undefined;
  const destination = env.CP_MIRROR_DESTINATION;
  return async () => {
    const presence = await checkImagesPresent(imagesFromEnv(env), destination, { authFile: env.CP_MIRROR_AUTHFILE || undefined, skopeo: skopeo ?? skopeoAt(env.CP_SKOPEO || 'skopeo') });
    const missing = presence.filter((p) => !p.present);
    const detail = missing.length
      ? `missing from ${destination}: ${missing.map((p) => `${p.image}${p.error ? ` (${p.error})` : ''}`).join(', ')}`
      : `all in ${destination}: ${presence.map((p) => `${p.image}@${p.digest}`).join(', ')}`;
    return { present: missing.length === 0, detail };
  };
}
