/** The exit bundle: all or nothing (temp folder + rename), cancels downloads in flight on the first error or on abort. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { naming } from '../../lib/core';
import { writeExitBundle } from '../../lib/runtime/exit-bundle';
import { FileStore } from '../../lib/runtime/stores/file';
import type { ObjectStore } from '../../lib/runtime/stores/types';
import { sha256Hex } from '../../lib/runtime/util';
import { writeNight } from './night-fixture';

let dir: string;
let store: FileStore;
const REC = new Map<string, string>([['calls/a.wav', 'a'.repeat(1000)], ['calls/b.wav', 'b'.repeat(1000)], ['calls/c.wav', 'c'.repeat(1000)], ['odd/', 'trailing slash key']]);
const blob = (k: string): string => naming.blobKey(sha256Hex(REC.get(k)!));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cp-bundle-'));
  store = new FileStore(join(dir, 'store'));
  await writeNight(store, '2026-11-01', { recordings: REC, crm: 'dump' });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `store`, except that one blob hangs until destroyed (`onHang` is told when its download has started)
 * and another fails once that download is in flight.
 */
function flaky(hangs: string, fails: string, seen: { destroyed: boolean }, onHang?: () => void): ObjectStore {
  let hangStarted!: () => void;
  const hanging = new Promise<void>((resolve) => { hangStarted = resolve; });
  return {
    url: store.url, list: (p) => store.list(p), head: (k) => store.head(k), getBytes: (k) => store.getBytes(k), put: (k, b) => store.put(k, b), locationOf: (k) => store.locationOf(k),
    get: async (k) => {
      if (k === hangs) {
        const r = new Readable({ read() { /* never ends */ } });
        r.on('close', () => { seen.destroyed = true; });
        hangStarted();
        if (onHang) setImmediate(onHang);
        return r;
      }
      if (k === fails) {
        const r = new Readable({ read() { /* data never comes */ } });
        // fails once the hanging download is in flight, so the test sees that one cancelled (no timing race)
        void hanging.then(() => setImmediate(() => r.destroy(new Error('connection reset by peer'))));
        return r;
      }
      return store.get(k);
    },
  };
}

function leftovers(): string[] {
  return readdirSync(dir).filter((n) => n.includes('.partial-'));
}

test('a folder bundle: night files at their keys, recordings by source key, odd keys at their blob path', async () => {
  const out = join(dir, 'bundle');
  const r = await writeExitBundle({ store, out, night: '2026-11-01' });
  expect(r.night).toBe('2026-11-01');
  expect(existsSync(join(out, 'objects/recordings/calls/a.wav'))).toBe(true);
  expect(existsSync(join(out, 'nights/2026-11-01/manifest.json'))).toBe(true);
  expect(existsSync(join(out, blob('odd/')))).toBe(true);
  expect(existsSync(join(out, 'odd-keys.json'))).toBe(true);
  expect(leftovers()).toEqual([]);
});

test('the first failed download cancels the ones in flight, and nothing is left under --out', async () => {
  const seen = { destroyed: false };
  const out = join(dir, 'bundle');
  await expect(writeExitBundle({ store: flaky(blob('calls/a.wav'), blob('calls/b.wav'), seen), out, night: '2026-11-01', concurrency: 8 })).rejects.toThrow(/connection reset by peer/);
  expect(seen.destroyed).toBe(true);
  expect(existsSync(out)).toBe(false);
  expect(leftovers()).toEqual([]);
});

test('an abort (SIGTERM) cancels the downloads and leaves nothing', async () => {
  const seen = { destroyed: false };
  const ctl = new AbortController();
  const out = join(dir, 'bundle.tar.gz');
  // the abort arrives while the hanging download is in flight (not on a timer: under load it could come first)
  const p = writeExitBundle({ store: flaky(blob('calls/a.wav'), 'none', seen, () => ctl.abort(new Error('SIGTERM received'))), out, night: '2026-11-01', signal: ctl.signal });
  await expect(p).rejects.toThrow(/SIGTERM received/);
  expect(seen.destroyed).toBe(true);
  expect(existsSync(out)).toBe(false);
  expect(leftovers()).toEqual([]);
});

test('a non-empty output folder or an existing file is refused before anything is downloaded', async () => {
  const full = join(dir, 'full');
  mkdirSync(full);
  writeFileSync(join(full, 'mine.txt'), 'keep me');
  await expect(writeExitBundle({ store, out: full })).rejects.toThrow(/is not empty/);
  expect(readdirSync(full)).toEqual(['mine.txt']);
  writeFileSync(join(dir, 'x.tar.gz'), 'old');
  await expect(writeExitBundle({ store, out: join(dir, 'x.tar.gz') })).rejects.toThrow(/already exists/);
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  await writeExitBundle({ store, out: empty });
  expect(existsSync(join(empty, 'nights/2026-11-01/manifest.json'))).toBe(true);
});
