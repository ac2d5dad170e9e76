/** status: "can this counterparty take over now?" answered from the records, on the drill's or a test's clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLogSink } from '../../lib/runtime/log';
import { putRecord, restorationKey } from '../../lib/runtime/records';
import { counterpartyStatus, formatStatus } from '../../lib/runtime/status';
import { FileStore } from '../../lib/runtime/stores/file';
import { verifyRun } from '../../lib/runtime/verifier';
import { statusCommand } from '../../lib/runtime/jobs';
import { writeNight } from './night-fixture';

let dir: string;
let store: FileStore;
let lines: string[];
const config = { rpoHours: 24, alarmGraceHours: 6 };
const at = (iso: string): Date => new Date(iso);

beforeEach(async () => {
  lines = [];
  setLogSink({ line: (l) => { lines.push(l); } });
  dir = mkdtempSync(join(tmpdir(), 'cp-status-'));
  store = new FileStore(join(dir, 'copy'));
  const n1 = await writeNight(store, '2026-11-01', { recordings: new Map([['a.wav', 'aaa']]), crm: 'dump-1' });
  await writeNight(store, '2026-11-02', { recordings: new Map([['a.wav', 'aaa']]), previous: n1.recordings, crm: 'dump-2' });
  await verifyRun({ store, now: at('2026-11-02T03:00:00Z') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function restored(night: string, createdAt: string): Promise<void> {
  await putRecord(store, restorationKey(night, at('2026-11-02T04:00:00Z')), { formatVersion: 1, night, manifestSha256: 'x', manifestCreatedAt: createdAt, restoredAt: '2026-11-02T04:00:00Z', target: 't', datasets: [], forced: false });
}

test('nothing restored: not ready', async () => {
  const r = await counterpartyStatus({ store, config, now: at('2026-11-02T05:00:00Z') });
  expect(r).toMatchObject({ ready: false, newestVerifiedNight: '2026-11-02', newestRestoredNight: null, stale: true });
  expect(r.problems).toContainEqual(expect.stringMatching(/nothing has been restored/));
});

test('restored and fresh: ready; the same standby past rpoHours + grace: not ready (stale)', async () => {
  await restored('2026-11-02', '2026-11-02T02:00:00Z');
  const fresh = await counterpartyStatus({ store, config, now: at('2026-11-02T05:00:00Z') });
  expect(fresh).toMatchObject({ ready: true, problems: [], newestRestoredNight: '2026-11-02', dataAgeHours: 3, stale: false });
  expect(formatStatus(fresh)).toMatch(/^READY/);
  const dark = await counterpartyStatus({ store, config, now: at('2026-11-03T09:00:00Z') });
  expect(dark).toMatchObject({ ready: false, dataAgeHours: 31, thresholdHours: 30, stale: true });
  expect(dark.problems).toEqual([expect.stringMatching(/31 h old .* over rpoHours \+ alarmGraceHours = 30 h/)]);
  expect(formatStatus(dark)).toMatch(/^NOT READY/);
});

test('the command: exit code follows ready, ONE counterparty.status line either way', async () => {
  await restored('2026-11-02', '2026-11-02T02:00:00Z');
  const out: string[] = [];
  const ok = await statusCommand({ CP_STORE: `file://${store.root}`, CP_NOW: '2026-11-02T05:00:00Z' }, { out: (t) => out.push(t) });
  expect(ok.ready).toBe(true);
  const late = await statusCommand({ CP_STORE: `file://${store.root}`, CP_NOW: '2026-11-03T09:00:00Z' }, { out: (t) => out.push(t) });
  expect(late.ready).toBe(false);
  expect(lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'counterparty.status')).toEqual([
    expect.objectContaining({ result: 'success', ready: true }),
    expect.objectContaining({ result: 'failure', reason: 'not-ready', ready: false, stale: true }),
  ]);
});

test('rollback, missing images and the last failure are reported', async () => {
  await restored('2026-11-02', '2026-11-02T02:00:00Z');
  rmSync(join(dir, 'copy', 'nights/2026-11-02/manifest.json'));
  await store.put('nights/2026-11-01/crm/dump.pgdump', 'dump-X'); // a later re-verification of night 1 fails
  await verifyRun({ store, night: '2026-11-01', now: at('2026-11-02T04:30:00Z') });
  const r = await counterpartyStatus({ store, config, now: at('2026-11-02T05:00:00Z'), imagesCheck: async () => ({ present: false, detail: 'crm-app:1.4.2 not in the registry' }) });
  expect(r.ready).toBe(false);
  expect(r.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^rollback: night 2026-11-02 was seen here/), 'application images: crm-app:1.4.2 not in the registry']));
  expect(r.lastFailure).toMatchObject({ night: '2026-11-01', reason: 'verification-failed' });
});
