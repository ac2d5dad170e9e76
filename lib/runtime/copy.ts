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
 * Incremental rule (interim, until format v2's never-rewritten blobs): `--checksum`, size + MD5.
 * Size + modification time (rclone's default) missed a recording rewritten at the same size within
 * the same second (1-second modtime resolution), so the counterparty kept the old bytes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
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

/** Runs the copy; prints ONE `counterparty.copy` line; never throws for an rclone failure (result says). */
export async function runCopy(opts: CopyOptions): Promise<CopyResult> {
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'cp-copy-'));
  let timer: NodeJS.Timeout | undefined;
  const from = `s3://${opts.source.bucket}`;
  const to = `azblob://${opts.destination.account}/${opts.destination.container}`;
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
    const args = ['copy', `src:${opts.source.bucket}`, `dst:${opts.destination.container}`,
      '--transfers', String(opts.transfers ?? 8), '--checkers', String(Math.max(8, opts.transfers ?? 8)),
      '--fast-list', '--checksum', '--use-json-log', '--log-level', 'INFO', '--stats', '1h', '--retries', '3', '--low-level-retries', '5'];
    const out = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(opts.rclone ?? 'rclone', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (d: Buffer): void => { output = (output + d.toString()).slice(-200_000); };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', (e) => reject(new RuntimeError(`copy: could not run rclone (${oneLine(e)}); run scripts/ci-prereqs.sh to install it`)));
      child.on('close', (code) => resolve({ code, output }));
    });
    const stats = parseRcloneStats(out.output) ?? { bytes: 0, transfers: 0, checks: 0, errors: 0 };
    const seconds = (Date.now() - t0) / 1000;
    const ok = out.code === 0 && stats.errors === 0;
    const lastError = ok ? undefined : out.output.split('\n').filter((l) => /"level":"error"|ERROR/.test(l)).map((l) => {
      try { return (JSON.parse(l) as { msg?: string }).msg ?? l; } catch { return l; }
    }).pop() ?? `rclone exited ${out.code}`;
    const fields = { result: ok ? 'success' : 'failure', from, to, bytes: stats.bytes, objects: stats.transfers, checks: stats.checks, errors: stats.errors, seconds, ...(lastError ? { error: oneLine(lastError) } : {}) };
    const logLine = logEvent('counterparty.copy', fields);
    return { result: ok ? 'success' : 'failure', bytes: stats.bytes, objects: stats.transfers, checks: stats.checks, errors: stats.errors, seconds, error: lastError ? oneLine(lastError) : undefined, logLine };
  } catch (err) {
    const seconds = (Date.now() - t0) / 1000;
    const logLine = logEvent('counterparty.copy', { result: 'failure', from, to, bytes: 0, objects: 0, seconds, error: oneLine(err) });
    return { result: 'failure', bytes: 0, objects: 0, checks: 0, errors: 1, seconds, error: oneLine(err), logLine };
  } finally {
    if (timer) clearInterval(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}
