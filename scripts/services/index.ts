/**
 * Local services for the runtime tests and `npm run drill`: moto_server (S3 with Object Lock, DynamoDB),
 * Azurite (Azure Blob) and PostgreSQL 15 clusters, each on a free loopback port, each torn down by
 * `stop()` or, as a safety net, when this process exits, is interrupted (SIGINT/SIGTERM) or dies
 * (a small watchdog shell beside each service kills it when its parent pid disappears).
 *
 * Nothing here is assumed to be running already; every test and the drill start what they need.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Service {
  readonly name: string;
  readonly pid: number;
  /** Stops the service and removes its temporary files. Safe to call twice. */
  stop(): Promise<void>;
}

export interface MotoService extends Service {
  readonly port: number;
  /** `http://localhost:<port>` (moto wants `localhost`, not `127.0.0.1`, for some services). */
  readonly endpoint: string;
}

export interface AzuriteService extends Service {
  readonly port: number;
  readonly account: string;
  readonly accountKey: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly blobEndpoint: string;
  readonly connectionString: string;
}

export interface PostgresService extends Service {
  readonly port: number;
  readonly host: string;
  readonly user: string;
  readonly database: string;
  readonly dataDir: string;
  /** Environment for libpq tools (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`). */
  readonly env: Record<string, string>;
}

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const running = new Set<{ child: ChildProcess; signal: NodeJS.Signals; cleanup: () => void }>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const entry of running) {
    try { if (entry.child.pid) process.kill(-entry.child.pid, entry.signal); } catch { /* already gone */ }
    try { entry.cleanup(); } catch { /* best effort */ }
  }
  running.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Stops every service this process started (used by the drill's finally block and on signals). */
export async function stopAll(): Promise<void> {
  killAllSync();
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited before it was ready (code ${child.exitCode ?? child.signalCode}): ${log().trim().split('\n').slice(-5).join(' | ')}`);
    }
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000} s: ${log().trim().split('\n').slice(-5).join(' | ')}`);
}

/**
 * Spawns `argv` in its own process group, under a watchdog shell that kills it when this process
 * (the parent) is gone, so a crashed test run leaves nothing behind.
 */
function spawnSupervised(name: string, argv: string[], opts: { env?: NodeJS.ProcessEnv; stopSignal: NodeJS.Signals; cleanup: () => void }): {
  child: ChildProcess; log: () => string; stop: () => Promise<void>;
} {
  installHooks();
  const sig = opts.stopSignal.replace(/^SIG/, '');
  // The watchdog: start the service, then poll the parent; on TERM or parent death, signal the service and wait.
  const script = `"$@" & c=$!
s=
trap '[ -n "$s" ] && kill $s 2>/dev/null && wait $s 2>/dev/null; kill -${sig} $c 2>/dev/null; wait $c; exit 0' TERM INT
while kill -0 ${process.pid} 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5 & s=$!; wait $s; s=; done
kill -${sig} $c 2>/dev/null; wait $c`;
  const child = spawn('bash', ['-c', script, name, ...argv], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  let output = '';
  const keep = (d: Buffer): void => { output = (output + d.toString()).slice(-8000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const entry = { child, signal: 'SIGTERM' as NodeJS.Signals, cleanup: opts.cleanup };
  running.add(entry);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      running.delete(entry);
      const done = (): void => { clearTimeout(hard); try { opts.cleanup(); } catch { /* best effort */ } resolve(); };
      const hard = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 15_000);
      if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
      child.once('exit', () => {
        // the service may have left helpers in the group (postgres backends): make sure they are gone
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
        done();
      });
      try { process.kill(child.pid!, 'SIGTERM'); } catch { done(); }
    });
    return stopped;
  };
  return { child, log: () => output, stop };
}

/** Starts `moto_server` on a free port. */
export async function startMoto(): Promise<MotoService> {
  const port = await freePort();
  const { child, log, stop } = spawnSupervised('moto_server', ['moto_server', '-H', '127.0.0.1', '-p', String(port)], { stopSignal: 'SIGTERM', cleanup: () => undefined });
  await waitFor('moto_server', () => portOpen(port), child, log);
  return { name: 'moto_server', pid: child.pid!, port, endpoint: `http://localhost:${port}`, stop };
}

/** Starts Azurite's blob service (`--disableTelemetry`, in-memory-ish temp location) on a free port. */
export async function startAzurite(): Promise<AzuriteService> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cp-azurite-'));
  const bin = join(__dirname, '..', '..', 'node_modules', '.bin', 'azurite-blob');
  const { child, log, stop } = spawnSupervised('azurite-blob', [bin, '--disableTelemetry', '--silent', '--skipApiVersionCheck', '--loose',
    '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir], {
    stopSignal: 'SIGTERM', cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  await waitFor('azurite-blob', () => portOpen(port), child, log);
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    name: 'azurite-blob', pid: child.pid!, port, account: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, blobEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobEndpoint};`,
    stop,
  };
}

function pgBinDir(): string {
  const probe = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim()) return probe.stdout.trim();
  return '/usr/lib/postgresql/15/bin';
}

/**
 * Starts a throwaway PostgreSQL 15 cluster (`initdb` + `postgres`) in a temporary directory, trust
 * authentication on loopback only. As root (CI), the server runs as the `postgres` OS user.
 */
export async function startPostgres(name = 'pg'): Promise<PostgresService> {
  const bin = pgBinDir();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `cp-${name}-`));
  const dataDir = join(dir, 'data');
  const sockDir = join(dir, 'sock');
  mkdirSync(sockDir);
  const asRoot = process.getuid?.() === 0;
  const wrap = (argv: string[]): string[] => (asRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...argv] : argv);
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root needs a "postgres" OS user to run PostgreSQL');
    chownSync(dir, uid, gid);
    chownSync(sockDir, uid, gid);
  }
  const init = spawnSync(wrap([join(bin, 'initdb')])[0], [...wrap([join(bin, 'initdb')]).slice(1), '-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(init.stderr || init.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
  writeFileSync(join(dir, 'README'), 'throwaway cluster started by scripts/services\n');
  const argv = wrap([join(bin, 'postgres'), '-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', sockDir,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_wal_size=1GB', '-c', 'shared_buffers=128MB']);
  const { child, log, stop } = spawnSupervised(`postgres-${name}`, argv, {
    stopSignal: 'SIGINT', // fast shutdown
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
  await waitFor(`postgres (${name})`, async () => {
    if (!(await portOpen(port))) return false;
    const r = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'], { encoding: 'utf8' });
    return r.status === 0;
  }, child, log);
  const env = { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGDATABASE: 'postgres' };
  return { name: `postgres-${name}`, pid: child.pid!, port, host: '127.0.0.1', user: 'postgres', database: 'postgres', dataDir, env, stop };
}
