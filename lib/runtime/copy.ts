/**
 * The Azure counterparty's nightly copy (command `copy`): `rclone copy` from the export bucket to the
 * counterparty's blob container.
 *
 * Keyless in production (`CP_COPY_AUTH=managed-identity`, the default): an Entra token for
 * `CP_AZURE_TOKEN_AUDIENCE` from the user-assigned managed identity (`AZURE_CLIENT_ID`) is written to
 * a token file (refreshed while rclone runs) and rclone's S3 backend assumes `AWS_ROLE_ARN` with it
 * (`env_auth`: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE); the azureblob backend writes with the same
 * managed identity (MSI). With `CP_COPY_AUTH=env` (drill, tests) the token step is skipped: S3 uses
 * the AWS_* credentials in the environment (and `AWS_ENDPOINT_URL_S3`), Azure uses
 * `CP_AZURE_BLOB_SAS_URL` (a container SAS URL) or `CP_AZURE_BLOB_KEY` + `CP_AZURE_BLOB_ENDPOINT`.
 *
 * Format v2 rules (docs/runtime.md "The Azure copy"):
 * - Never replace: `--ignore-existing`. Every key is written once (blobs are named by their content,
 *   night files are per night), so an existing destination object is never touched; a wrong one is
 *   the verifier's to find (it hashes), not the copy's to overwrite.
 * - Keys unchanged: both remotes use the S3 backend's encoding (`Slash,InvalidUtf8,Dot`), so rclone's
 *   azureblob default (which also renames backslashes, control characters and trailing periods) never applies.
 * - Manifests last: phase `data` copies everything but `nights/<night>/manifest.json`; phase
 *   `manifests` copies the manifests, only after the data phase succeeded. A night whose manifest is
 *   present but whose data is still arriving is therefore never seen.
 * - Work per night follows the change: once the destination holds a night (`mode` incremental), the
 *   copy reads the source's manifests and copies, with `--files-from-raw --no-traverse`, only the
 *   files and new blobs of the nights the destination lacks. The first copy (`full`) lists everything.
 * - Sharding: `CP_SHARD=i/n` copies only the blobs under the two-hex prefixes p with p mod n = i
 *   (shard 0 also takes the night files), so n job replicas split a seed or a large night.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { fromTokenFile } from '@aws-sdk/credential-providers';
import { naming } from '../core';
import { listNights, readManifestV2, readNight } from './format';
import { AzureBlobStore } from './stores/azure-blob';
import { S3Store, s3ClientFromEnv } from './stores/s3';
import type { ObjectStore } from './stores/types';
import { RuntimeError, oneLine } from './errors';
import { logEvent } from './log';

export interface CopySource {
  readonly bucket: string;
  readonly region: string;
  /** S3 endpoint override (moto in the drill). */
  readonly endpoint?: string;
}

export interface CopyDestination {
  readonly account: string;
  readonly container: string;
  /** Blob endpoint override (`CP_AZURE_BLOB_ENDPOINT`). */
  readonly endpoint?: string;
  /** A container SAS URL (`CP_AZURE_BLOB_SAS_URL`), for `env` auth. */
  readonly sasUrl?: string;
  /** Shared key (`CP_AZURE_BLOB_KEY`), for `env` auth. */
  readonly accountKey?: string;
}

export interface CopyOptions {
  readonly source: CopySource;
  readonly destination: CopyDestination;
  /** @default 'managed-identity' */
  readonly auth?: 'managed-identity' | 'env';
  /** managed-identity: the audience the AWS role trusts (`CP_AZURE_TOKEN_AUDIENCE`). */
  readonly tokenAudience?: string;
  /** managed-identity: the user-assigned identity's client ID (`AZURE_CLIENT_ID`). */
  readonly clientId?: string;
  /** managed-identity: the AWS reader role (`AWS_ROLE_ARN`). */
  readonly roleArn?: string;
  /** Injected in tests. @default ManagedIdentityCredential */
  readonly credential?: TokenCredential;
  /** @default 'rclone' */
  readonly rclone?: string;
  /** @default 8 */
  readonly transfers?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Token refresh period. @default 10 min */
  readonly tokenRefreshMs?: number;
  /** This replica's share of the blobs (`CP_SHARD=i/n`). @default the whole copy */
  readonly shard?: CopyShard;
  /** `data`, `manifests`, or both in that order. @default 'all' */
  readonly phase?: 'all' | 'data' | 'manifests';
  /** `incremental` (only the nights the destination lacks), `full` (list both sides), or `auto`: full until the destination holds a night. @default 'auto' */
  readonly mode?: 'auto' | 'full' | 'incremental';
  /** The export bucket as a store, to read manifests (tests). @default S3 with the copy's credentials */
  readonly sourceStore?: ObjectStore;
  /** The destination container as a store, to list its nights (tests). @default Azure with the copy's credentials */
  readonly destinationStore?: ObjectStore;
}

export interface CopyShard {
  readonly index: number;
  readonly count: number;
}

/** Parses `CP_SHARD=i/n` (0 <= i < n <= 256). */
export function parseShard(text: string | undefined): CopyShard | undefined {
  if (!text) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > 256 || index >= count) throw new RuntimeError(`CP_SHARD must be i/n with 0 <= i < n <= 256, got ${JSON.stringify(text)}`);
  return { index, count };
}

/** `CP_COPY_PHASE`: all (default), data, manifests. */
export function copyPhase(text: string | undefined): 'all' | 'data' | 'manifests' {
  if (!text || text === 'all' || text === 'data' || text === 'manifests') return (text || 'all') as 'all' | 'data' | 'manifests';
  throw new RuntimeError(`CP_COPY_PHASE must be all, data or manifests, got ${JSON.stringify(text)}`);
}

/** `CP_COPY_MODE`: auto (default), full, incremental. */
export function copyMode(text: string | undefined): 'auto' | 'full' | 'incremental' {
  if (!text || text === 'auto' || text === 'full' || text === 'incremental') return (text || 'auto') as 'auto' | 'full' | 'incremental';
  throw new RuntimeError(`CP_COPY_MODE must be auto, full or incremental, got ${JSON.stringify(text)}`);
}

/** The two-hex blob prefixes a shard copies. */
export function shardPrefixes(shard: CopyShard | undefined): string[] {
  const all = Array.from({ length: 256 }, (_, p) => p.toString(16).padStart(2, '0'));
  return shard ? all.filter((_, p) => p % shard.count === shard.index) : all;
}

function inShard(key: string, shard: CopyShard | undefined): boolean {
  const sha = naming.blobSha256(key);
  if (!sha) return !shard || shard.index === 0;
  return !shard || parseInt(sha.slice(0, 2), 16) % shard.count === shard.index;
}

/** rclone filter rules of a full data phase: no manifests; this shard's blob prefixes; shard 0 also the night files. */
export function fullDataFilters(shard: CopyShard | undefined): string[] {
  const rules = ['- nights/*/manifest.json'];
  if (!shard) return [...rules, '+ **'];
  if (shard.index === 0) rules.push('+ nights/**');
  for (const p of shardPrefixes(shard)) rules.push(`+ ${naming.BLOBS_PREFIX}${p}/**`);
  return [...rules, '- **'];
}

/**
 * The newest nights an incremental copy re-checks even when the destination has their manifest: one
 * whose own files are missing there (its manifest arrived first, e.g. from an interrupted or foreign
 * copy) is copied again whole (`--ignore-existing` skips what is there).
 */
export const RECHECK_NIGHTS = 3;

/**
 * What an incremental copy moves: for each night the source has and the destination lacks (and any
 * of the newest {@link RECHECK_NIGHTS} nights whose files are missing there), the night's files and
 * the blobs its changes name (this shard's share), and then its manifest. Work follows the nights'
 * changes, not the estate.
 */
export async function planIncrementalCopy(source: ObjectStore, destination: ObjectStore, shard?: CopyShard, recheckNights = RECHECK_NIGHTS): Promise<{ nights: string[]; dataKeys: string[]; manifestKeys: string[] }> {
  const have = new Set(await listNights(destination));
  const all = await listNights(source);
  const nights = all.filter((n) => !have.has(n));
  // A recent night whose manifest is at the destination but whose own files are not (its manifest
  // came first): re-offer it whole. Costs one HEAD per night file of those nights, not per blob.
  for (const n of (recheckNights > 0 ? all.slice(-recheckNights) : []).filter((x) => have.has(x))) {
    const m = (await readManifestV2(source, n)).manifest;
    for (const e of m.entries) {
      if (await destination.head(e.key)) continue;
      nights.push(n);
      break;
    }
  }
  nights.sort();
  const dataKeys = new Set<string>();
  for (const n of nights) {
    const night = await readNight(source, n);
    for (const e of night.manifest.entries) if (inShard(e.key, shard)) dataKeys.add(e.key);
    for await (const b of night.newBlobs()) {
      const key = naming.blobKey(b.sha256);
      if (inShard(key, shard)) dataKeys.add(key);
    }
  }
  return { nights, dataKeys: [...dataKeys].sort(), manifestKeys: nights.map((n) => naming.manifestKey(n)) };
}

export interface CopyResult {
  readonly result: 'success' | 'failure';
  readonly bytes: number;
  readonly objects: number;
  readonly checks: number;
  readonly errors: number;
  readonly seconds: number;
  readonly error?: string;
  readonly logLine: string;
}

/** rclone's final stats, from its `--use-json-log` output (the last line carrying `stats`). */
export function parseRcloneStats(output: string): { bytes: number; transfers: number; checks: number; errors: number } | undefined {
  let found: { bytes: number; transfers: number; checks: number; errors: number } | undefined;
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as { stats?: { bytes?: number; transfers?: number; checks?: number; errors?: number } };
      if (j.stats) found = { bytes: j.stats.bytes ?? 0, transfers: j.stats.transfers ?? 0, checks: j.stats.checks ?? 0, errors: j.stats.errors ?? 0 };
    } catch { /* not JSON */ }
  }
  return found;
}

/** rclone's S3 default encoding, used on both remotes so no key is renamed (https://rclone.org/overview/#encoding). */
export const KEY_ENCODING = 'Slash,InvalidUtf8,Dot';

/** The rclone remotes as environment variables (no config file, no secrets on the command line). */
export function rcloneEnv(opts: CopyOptions, tokenFile?: string): NodeJS.ProcessEnv {
  const base = { ...(opts.env ?? process.env) };
  delete base.AWS_CA_BUNDLE; // rclone's S3 backend fails on the proxy CA bundle (FACTS)
  const env: NodeJS.ProcessEnv = {
    ...base,
    RCLONE_CONFIG_SRC_TYPE: 's3',
    RCLONE_CONFIG_SRC_PROVIDER: opts.source.endpoint ? 'Other' : 'AWS',
    RCLONE_CONFIG_SRC_ENV_AUTH: 'true',
    RCLONE_CONFIG_SRC_REGION: opts.source.region,
    RCLONE_CONFIG_DST_TYPE: 'azureblob',
    // Pass every key through: the same encoding on both remotes (the S3 backend's default), see the header.
    RCLONE_CONFIG_SRC_ENCODING: KEY_ENCODING,
    RCLONE_CONFIG_DST_ENCODING: KEY_ENCODING,
  };
  if (opts.source.endpoint) {
    env.RCLONE_CONFIG_SRC_ENDPOINT = opts.source.endpoint;
    env.RCLONE_CONFIG_SRC_FORCE_PATH_STYLE = 'true';
  }
  const auth = opts.auth ?? 'managed-identity';
  if (auth === 'managed-identity') {
    if (!tokenFile || !opts.roleArn) throw new RuntimeError('copy: managed-identity auth needs AWS_ROLE_ARN and a token');
    env.AWS_ROLE_ARN = opts.roleArn;
    env.AWS_WEB_IDENTITY_TOKEN_FILE = tokenFile;
    env.AWS_ROLE_SESSION_NAME = 'counterparty-azure-copy';
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    delete env.AWS_SESSION_TOKEN;
    env.RCLONE_CONFIG_DST_ACCOUNT = opts.destination.account;
    env.RCLONE_CONFIG_DST_USE_MSI = 'true';
    if (opts.clientId) env.RCLONE_CONFIG_DST_MSI_CLIENT_ID = opts.clientId;
    if (opts.destination.endpoint) env.RCLONE_CONFIG_DST_ENDPOINT = opts.destination.endpoint;
  } else if (opts.destination.sasUrl) {
    env.RCLONE_CONFIG_DST_SAS_URL = opts.destination.sasUrl;
  } else if (opts.destination.accountKey) {
    env.RCLONE_CONFIG_DST_ACCOUNT = opts.destination.account;
    env.RCLONE_CONFIG_DST_KEY = opts.destination.accountKey;
    if (opts.destination.endpoint) env.RCLONE_CONFIG_DST_ENDPOINT = opts.destination.endpoint;
  } else {
    throw new RuntimeError('copy: CP_COPY_AUTH=env needs CP_AZURE_BLOB_SAS_URL or CP_AZURE_BLOB_KEY for the destination');
  }
  return env;
}

async function fetchToken(opts: CopyOptions): Promise<string> {
  if (!opts.tokenAudience) throw new RuntimeError('copy: CP_AZURE_TOKEN_AUDIENCE is not set');
  const credential = opts.credential ?? new ManagedIdentityCredential({ clientId: opts.clientId });
  const scope = opts.tokenAudience.endsWith('/.default') ? opts.tokenAudience : `${opts.tokenAudience}/.default`;
  const token = await credential.getToken(scope);
  if (!token?.token) throw new RuntimeError(`copy: the managed identity returned no token for ${scope}`);
  return token.token;
}

interface RcloneRun { code: number | null; output: string; stats: { bytes: number; transfers: number; checks: number; errors: number } }

function runRclone(opts: CopyOptions, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<RcloneRun> {
  return new Promise<RcloneRun>((resolve, reject) => {
    const child = spawn(opts.rclone ?? 'rclone', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer): void => { output = (output + d.toString()).slice(-200_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new RuntimeError(`copy: could not run rclone (${oneLine(e)}); run scripts/ci-prereqs.sh to install it`)));
    child.on('close', (code) => resolve({ code, output, stats: parseRcloneStats(output) ?? { bytes: 0, transfers: 0, checks: 0, errors: 0 } }));
  });
}

function lastError(run: RcloneRun): string {
  return run.output.split('\n').filter((l) => /"level":"error"|ERROR/.test(l)).map((l) => {
    try { return (JSON.parse(l) as { msg?: string }).msg ?? l; } catch { return l; }
  }).pop() ?? `rclone exited ${run.code}`;
}

/** The stores the planner reads through, with the copy's own credentials. */
function defaultStores(opts: CopyOptions, env: NodeJS.ProcessEnv): { source: ObjectStore; destination: ObjectStore } {
  const credentials = env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN
    ? fromTokenFile({ roleArn: env.AWS_ROLE_ARN, webIdentityTokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE, roleSessionName: 'counterparty-azure-copy-plan' })
    : env.AWS_ACCESS_KEY_ID ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '', sessionToken: env.AWS_SESSION_TOKEN } : undefined;
  const source = opts.sourceStore ?? new S3Store(opts.source.bucket, s3ClientFromEnv({ ...env, AWS_REGION: opts.source.region, AWS_ENDPOINT_URL_S3: opts.source.endpoint ?? '' }, credentials ? { credentials } : {}));
  const d = opts.destination;
  const sas = d.sasUrl ? new URL(d.sasUrl) : undefined;
  const destination = opts.destinationStore ?? new AzureBlobStore({
    account: d.account, container: d.container,
    endpoint: sas ? `${sas.origin}${sas.pathname.replace(/\/[^/]*\/?$/, '')}` : d.endpoint,
    sas: sas ? sas.search.replace(/^\?/, '') : undefined,
    accountKey: sas ? undefined : d.accountKey,
    credential: sas || d.accountKey ? undefined : (opts.credential ?? new ManagedIdentityCredential({ clientId: opts.clientId })),
  });
  return { source, destination };
}

/** Runs the copy; prints ONE `counterparty.copy` line; never throws for an rclone failure (result says). */
export async function runCopy(opts: CopyOptions): Promise<CopyResult> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'cp-copy-'));
  let timer: NodeJS.Timeout | undefined;
  const from = `s3://${opts.source.bucket}`;
  const to = `azblob://${opts.destination.account}/${opts.destination.container}`;
  const phase = opts.phase ?? 'all';
  const shard = opts.shard;
  const shardText = shard ? `${shard.index}/${shard.count}` : undefined;
  try {
    let tokenFile: string | undefined;
    if ((opts.auth ?? 'managed-identity') === 'managed-identity') {
      tokenFile = join(dir, 'token');
      const writeToken = async (): Promise<void> => {
        writeFileSync(tokenFile!, await fetchToken(opts), { mode: 0o600 });
        chmodSync(tokenFile!, 0o600);
      };
      await writeToken();
      timer = setInterval(() => { writeToken().catch(() => undefined); }, opts.tokenRefreshMs ?? 600_000);
      timer.unref();
    }
    const env = rcloneEnv(opts, tokenFile);
    env.RCLONE_CONFIG = join(dir, 'rclone.conf'); // remotes come from RCLONE_CONFIG_* variables only
    writeFileSync(env.RCLONE_CONFIG, '');
    let mode = opts.mode ?? 'auto';
    let plan: Awaited<ReturnType<typeof planIncrementalCopy>> | undefined;
    if (mode !== 'full') {
      const stores = defaultStores(opts, env);
      if (mode === 'auto') mode = (await listNights(stores.destination)).length ? 'incremental' : 'full';
      if (mode === 'incremental') plan = await planIncrementalCopy(stores.source, stores.destination, shard);
    }
    const common = ['copy', `src:${opts.source.bucket}`, `dst:${opts.destination.container}`, '--ignore-existing',
      '--transfers', String(opts.transfers ?? 8), '--checkers', String(Math.max(8, opts.transfers ?? 8)),
      '--use-json-log', '--log-level', 'INFO', '--stats', '1h', '--retries', '3', '--low-level-retries', '5'];
    const runs: RcloneRun[] = [];
    const listFile = (name: string, keys: readonly string[]): string => {
      const f = join(dir, name);
      writeFileSync(f, keys.length ? `${keys.join('\n')}\n` : '');
      return f;
    };
    if (phase !== 'manifests' && !(plan && !plan.dataKeys.length)) {
      const args = plan
        ? [...common, '--files-from-raw', listFile('data.txt', plan.dataKeys), '--no-traverse']
        : [...common, '--filter-from', listFile('filters.txt', fullDataFilters(shard))];
      runs.push(await runRclone(opts, env, args));
    }
    const dataOk = runs.every((r) => r.code === 0 && r.stats.errors === 0);
    if (dataOk && phase !== 'data' && !(plan && !plan.manifestKeys.length)) {
      const args = plan
        ? [...common, '--files-from-raw', listFile('manifests.txt', plan.manifestKeys), '--no-traverse']
        : [...common, '--include', 'nights/*/manifest.json'];
      runs.push(await runRclone(opts, env, args));
    }
    const total = runs.reduce((a, r) => ({ bytes: a.bytes + r.stats.bytes, transfers: a.transfers + r.stats.transfers, checks: a.checks + r.stats.checks, errors: a.errors + r.stats.errors }), { bytes: 0, transfers: 0, checks: 0, errors: 0 });
    const failed = runs.find((r) => r.code !== 0 || r.stats.errors > 0);
    const ok = !failed;
    const error = failed ? oneLine(lastError(failed)) : undefined;
    const seconds = (Date.now() - t0) / 1000;
    const fields = {
      result: ok ? 'success' : 'failure', from, to, mode, phase, ...(shardText ? { shard: shardText } : {}), ...(plan ? { nights: plan.nights } : {}),
      bytes: total.bytes, objects: total.transfers, checks: total.checks, errors: total.errors, seconds, ...(error ? { error } : {}),
    };
    const logLine = logEvent('counterparty.copy', fields);
    return { result: ok ? 'success' : 'failure', bytes: total.bytes, objects: total.transfers, checks: total.checks, errors: total.errors, seconds, error, logLine };
  } catch (err) {
    const seconds = (Date.now() - t0) / 1000;
    const logLine = logEvent('counterparty.copy', { result: 'failure', from, to, phase, ...(shardText ? { shard: shardText } : {}), bytes: 0, objects: 0, seconds, error: oneLine(err) });
    return { result: 'failure', bytes: 0, objects: 0, checks: 0, errors: 1, seconds, error: oneLine(err), logLine };
  } finally {
    if (timer) clearInterval(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}
