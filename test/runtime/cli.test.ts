/** The CLIs as users run them (ts-node --transpile-only, as in a checkout): exit codes and one-line errors. */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list as tarList } from 'tar';
import { naming } from '../../lib/core';
import { FileStore } from '../../lib/runtime/stores/file';
import { sha256Hex } from '../../lib/runtime/util';
import { writeNight } from './night-fixture';

const ROOT = join(__dirname, '..', '..');
const TS_NODE = join(ROOT, 'node_modules', '.bin', 'ts-node');

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TS_NODE, ['--transpile-only', join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CP_QUIET: '1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'eu-central-1', AWS_MAX_ATTEMPTS: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr.split('\n').filter((l) => l.trim() && !/NodeVersionSupportWarning|versions published|will require node|To continue receiving|and security updates|More information can be found|trace-warnings/.test(l)).join('\n') }));
  });
}

/** Progress lines (non-TTY: `exit-bundle: 40% 1/2 objects, …`) may come first, depending on which object finishes first. */
const PROGRESS_LINE = /^exit-bundle: \d+% \d+\/\d+ objects, /;

/** The JSON result lines on stdout (detail lines such as counterparty.verify.night are not results). */
function resultLines(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => !String(l.event).endsWith('.night'));
}

function expectOneLineError(r: { code: number | null; stderr: string; stdout?: string }, pattern: RegExp, reason = 'error'): void {
  expect(r.code).not.toBe(0);
  if (r.stdout !== undefined) {
    // fail closed: the failure is also ONE structured line the alerts see
    const results = resultLines(r.stdout);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ result: 'failure', reason, error: expect.stringMatching(pattern) });
  }
  const lines = r.stderr.split('\n').filter((l) => !PROGRESS_LINE.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |at .*\.ts:\d+/);
}

let dir: string;
let store: FileStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cp-cli-'));
  store = new FileStore(join(dir, 'store'));
  await writeNight(store, '2026-11-01', { recordings: new Map([['a.wav', Buffer.alloc(10_000, 1)]]), crm: 'dump' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('no command prints usage and fails; an unknown command is one line', async () => {
  const none = await run('bin/counterparty-job.ts', []);
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/^usage: counterparty-job <command>/);
  expect(resultLines(none.stdout)).toEqual([expect.objectContaining({ event: 'counterparty.job', result: 'failure', reason: 'error' })]);
  expectOneLineError(await run('bin/counterparty-job.ts', ['frobnicate']), /unknown command "frobnicate"/);
});

test('missing configuration is one line', async () => {
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify']), /CP_STORE is not set/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: 'ftp://x' }), /unknown store URL scheme "ftp"/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['restore'], { CP_STORE: `file://${store.root}` }), /PGHOST is not set/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['restore', '--force'], { CP_STORE: `file://${store.root}` }), /PGHOST is not set/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['restore', '--frce'], { CP_STORE: `file://${store.root}` }), /unknown argument "--frce"/);
});

test('verify: success is exit 0 and ONE result line on stdout, with the data age', async () => {
  const r = await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: `file://${store.root}`, CP_DATASETS: 'recordings:s3Bucket,crm:postgres', CP_NOW: '2026-11-01T08:00:00Z', CP_RPO_HOURS: '4', CP_ALARM_GRACE_HOURS: '1' });
  expect(r.code).toBe(0);
  expect(resultLines(r.stdout)).toEqual([expect.objectContaining({ event: 'counterparty.verify', result: 'success', verified: ['2026-11-01'], newestVerifiedNight: '2026-11-01', dataAgeHours: 6, thresholdHours: 5, stale: true, datasetsChecked: true })]);
});

test('verify: an unknown night is one line', async () => {
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: `file://${store.root}`, CP_NIGHT: '2026-10-09' }), /unknown night 2026-10-09/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: `file://${store.root}`, CP_NIGHT: 'tomorrow' }), /not a night: "tomorrow"/);
});

test('verify: an unreachable store is one line', async () => {
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: 's3://nowhere', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }), /ECONNREFUSED/);
});

test('verify: a corrupt manifest fails with exit 2 and names the manifest', async () => {
  const bad = new FileStore(join(dir, 'bad'));
  await bad.put('nights/2026-11-03/manifest.json', '{"formatVersion": 2, "night": "2026-11-03", "entries": 7}');
  const r = await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: `file://${bad.root}` });
  expect(r.code).toBe(2);
  expect(resultLines(r.stdout)).toEqual([expect.objectContaining({ result: 'failure', reason: 'verification-failed', failed: ['2026-11-03'], error: expect.stringContaining('corrupt manifest') })]);
  const detail = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.event === 'counterparty.verify.night');
  expect(detail).toMatchObject({ result: 'failure', bad: [{ key: 'nights/2026-11-03/manifest.json', problem: expect.stringContaining('corrupt manifest') }] });
});

test('restore: nothing verified is one line and no restore', async () => {
  const fresh = new FileStore(join(dir, 'fresh'));
  await fresh.put('nights/2026-11-01/manifest.json', await store.getBytes('nights/2026-11-01/manifest.json'));
  expectOneLineError(await run('bin/counterparty-job.ts', ['restore'], { CP_STORE: `file://${fresh.root}`, PGHOST: '127.0.0.1', PGPORT: '9', PGDATABASE: 'x', PGUSER: 'x' }), /no verified night to restore/, 'not-verified');
});

test('exit-bundle: a verified night to a tarball, and one-line errors', async () => {
  const out = join(dir, 'bundle.tar.gz');
  const ok = await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--out', out]);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toMatch(/exit-bundle: night 2026-11-01 \(verified .*\), 5 objects, \d+ bytes/);
  const entries: string[] = [];
  await tarList({ file: out, onReadEntry: (e) => { entries.push(e.path); } });
  expect(entries).toEqual(expect.arrayContaining(['nights/2026-11-01/manifest.json', 'objects/recordings/a.wav', 'nights/2026-11-01/crm/dump.pgdump', 'verifications/2026-11-01.json']));
  expect(resultLines(ok.stdout)).toEqual([expect.objectContaining({ event: 'counterparty.exit-bundle', result: 'success', night: '2026-11-01' })]);
  // never into a folder that holds anything, never over an existing file
  expectOneLineError(await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--out', ROOT]), /is not empty/);
  expectOneLineError(await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--out', out]), /already exists/);
  const bad = await run('bin/exit-bundle.ts', ['--out', join(dir, 'x')]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/--from is required/);
  const blob = naming.blobKey(sha256Hex(Buffer.alloc(10_000, 1)));
  await store.put(blob, Buffer.alloc(10_000, 2));
  expectOneLineError(await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--night', '2026-11-01', '--out', join(dir, 'broken')]), new RegExp(`${blob}: does not match the manifest`));
  expect(existsSync(join(dir, 'broken'))).toBe(false); // the partial download is removed, nothing left under --out
  await store.put(blob, Buffer.alloc(10_000, 1));
  expectOneLineError(await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--night', '2026-12-01', '--out', join(dir, 'none')]), /unknown night 2026-12-01/);
  expect(existsSync(join(dir, 'none'))).toBe(false);
});

test('status: not ready (nothing restored) is exit 2 and ONE counterparty.status failure line; an unreachable store is a failure line too', async () => {
  const r = await run('bin/status.ts', ['--store', `file://${store.root}`, '--now', '2026-11-01T09:00:00Z']);
  expect(r.code).toBe(2);
  expect(resultLines(r.stdout)).toEqual([expect.objectContaining({ event: 'counterparty.status', result: 'failure', reason: 'not-ready', ready: false, newestVerifiedNight: '2026-11-01', newestRestoredNight: null, stale: true })]);
  expect(r.stderr).toMatch(/NOT READY/);
  const down = await run('bin/status.ts', ['--store', 's3://nowhere'], { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' });
  expect(down.code).toBe(1);
  expect(resultLines(down.stdout)).toEqual([expect.objectContaining({ event: 'counterparty.status', result: 'failure', reason: 'error', error: expect.stringMatching(/ECONNREFUSED/) })]);
  const job = await run('bin/counterparty-job.ts', ['status'], { CP_STORE: `file://${store.root}` });
  expect(job.code).toBe(2);
  expect(resultLines(job.stdout)).toEqual([expect.objectContaining({ event: 'counterparty.status', result: 'failure', reason: 'not-ready' })]);
});

test('SIGTERM: a job stuck on a store that never answers still writes its failure line (cancelled) and exits non-zero', async () => {
  const sockets: import('node:net').Socket[] = [];
  const server: Server = createServer((sock) => { sockets.push(sock); }); // accepts, never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const child = spawn(TS_NODE, ['--transpile-only', join(ROOT, 'bin/counterparty-job.ts'), 'verify'], {
      cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, CP_QUIET: '1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'eu-central-1', CP_STORE: 's3://hangs', AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` },
    });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    await new Promise<void>((r) => { const t = setInterval(() => { if (sockets.length) { clearInterval(t); r(); } }, 100); });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(resultLines(stdout)).toEqual([expect.objectContaining({ event: 'counterparty.verify', result: 'failure', reason: 'cancelled' })]);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
}, 60_000);
