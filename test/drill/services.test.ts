/** The project's service scripts start on free loopback ports and leave nothing behind. */
import { startAzurite, startMoto, startPostgres, freePort } from '../../scripts/services';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function groupMembers(pgid: number): number {
  const r = spawnSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' });
  return r.stdout.trim() ? r.stdout.trim().split('\n').length : 0;
}

test('moto_server, Azurite and PostgreSQL start on distinct free ports and stop completely', async () => {
  const [moto, az, pg] = await Promise.all([startMoto(), startAzurite(), startPostgres('svc')]);
  expect(new Set([moto.port, az.port, pg.port]).size).toBe(3);
  expect(moto.endpoint).toBe(`http://localhost:${moto.port}`);
  for (const s of [moto, az, pg]) expect(groupMembers(s.pid)).toBeGreaterThan(0);
  expect(existsSync(pg.dataDir)).toBe(true);
  await Promise.all([moto.stop(), az.stop(), pg.stop()]);
  await moto.stop(); // twice is fine
  for (const s of [moto, az, pg]) {
    expect(alive(s.pid)).toBe(false);
    expect([s.name, groupMembers(s.pid), spawnSync("ps", ["-o", "pid=,stat=,args=", "-g", String(s.pid)], { encoding: "utf8" }).stdout]).toEqual([s.name, 0, ""]);
  }
  expect(existsSync(pg.dataDir)).toBe(false);
  expect(await freePort()).toBeGreaterThan(0);
});

test('when the process that started them dies (SIGKILL, no cleanup), the watchdogs stop the services', async () => {
  const { spawn } = await import('node:child_process');
  const { join } = await import('node:path');
  const root = join(__dirname, '..', '..');
  const child = spawn(join(root, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', join(root, 'test', 'fixtures', 'start-services-and-hang.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  const pids = await new Promise<{ moto: number; pg: number }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(JSON.parse(out)); });
    child.on('exit', () => reject(new Error('helper exited early')));
  });
  expect(groupMembers(pids.moto)).toBeGreaterThan(0);
  child.kill('SIGKILL');
  // the watchdog polls its parent every 0.5 s; wait (bounded) for both groups to empty
  for (let i = 0; i < 100 && (groupMembers(pids.moto) > 0 || groupMembers(pids.pg) > 0); i++) await new Promise((r) => setTimeout(r, 100));
  expect(groupMembers(pids.moto)).toBe(0);
  expect(groupMembers(pids.pg)).toBe(0);
}, 60_000);
