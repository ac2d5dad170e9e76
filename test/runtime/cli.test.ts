/** The CLIs as users run them (ts-node --transpile-only, as in a checkout): exit codes and one-line errors. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { list as tarList } from 'tar';
import { buildManifest } from '../../lib/runtime/manifest';
import { FileStore } from '../../lib/runtime/stores/file';

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

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
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
  await store.put('objects/recordings/a.wav', Buffer.alloc(10_000, 1));
  await store.put('nights/2026-11-01/crm/dump.pgdump', 'dump');
  await buildManifest({ store, night: '2026-11-01', datasets: [{ name: 'recordings', kind: 's3Bucket' }, { name: 'crm', kind: 'postgres' }] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('no command prints usage and fails; an unknown command is one line', async () => {
  const none = await run('bin/counterparty-job.ts', []);
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/^usage: counterparty-job <command>/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['frobnicate']), /unknown command "frobnicate"/);
});

test('missing configuration is one line', async () => {
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify']), /CP_STORE is not set/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: 'ftp://x' }), /unknown store URL scheme "ftp"/);
  expectOneLineError(await run('bin/counterparty-job.ts', ['restore'], { CP_STORE: `file://${store.root}` }), /PGHOST is not set/);
});

test('verify: success is exit 0 and ONE JSON line on stdout', async () => {
  const r = await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: `file://${store.root}` });
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toMatchObject({ event: 'counterparty.verify', result: 'success', night: '2026-11-01', objects: 2 });
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
  await bad.put('nights/2026-11-03/manifest.json', '{"formatVersion": 1, "night": "2026-11-03", "entries": 7}');
  const r = await run('bin/counterparty-job.ts', ['verify'], { CP_STORE: `file://${bad.root}` });
  expect(r.code).toBe(2);
  expect(JSON.parse(r.stdout.trim())).toMatchObject({ result: 'failure', bad: [{ key: 'nights/2026-11-03/manifest.json', problem: expect.stringContaining('corrupt manifest') }] });
});

test('restore: nothing verified is one line and no restore', async () => {
  const fresh = new FileStore(join(dir, 'fresh'));
  await fresh.put('nights/2026-11-01/manifest.json', await store.getBytes('nights/2026-11-01/manifest.json'));
  expectOneLineError(await run('bin/counterparty-job.ts', ['restore'], { CP_STORE: `file://${fresh.root}`, PGHOST: '127.0.0.1', PGPORT: '9', PGDATABASE: 'x', PGUSER: 'x' }), /no verified night to restore/);
});

test('exit-bundle: a verified night to a tarball, and one-line errors', async () => {
  const out = join(dir, 'bundle.tar.gz');
  const ok = await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--out', out]);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toMatch(/exit-bundle: night 2026-11-01 \(verified .*\), 2 objects, 10004 bytes/);
  const entries: string[] = [];
  await tarList({ file: out, onReadEntry: (e) => { entries.push(e.path); } });
  expect(entries).toEqual(expect.arrayContaining(['nights/2026-11-01/manifest.json', 'objects/recordings/a.wav', 'nights/2026-11-01/crm/dump.pgdump', 'verifications/2026-11-01.json']));
  const bad = await run('bin/exit-bundle.ts', ['--out', join(dir, 'x')]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/--from is required/);
  await store.put('objects/recordings/a.wav', Buffer.alloc(10_000, 2));
  expectOneLineError(await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--night', '2026-11-01', '--out', join(dir, 'broken')]), /objects\/recordings\/a\.wav: does not match the manifest/);
  expectOneLineError(await run('bin/exit-bundle.ts', ['--from', `file://${store.root}`, '--night', '2026-12-01', '--out', join(dir, 'none')]), /unknown night 2026-12-01/);
  expect(existsSync(join(dir, 'none'))).toBe(false);
});
