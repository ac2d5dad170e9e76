/**
 * The drill's format v2 scenario (issue 10 "Done when"): after night 2 rewrote some recordings and
 * deleted one, restore the recordings of NIGHT 1 and of night 2 from the counterparty, byte for byte
 * against what the primary held each night; then prune (with an unreferenced blob planted) and show
 * it removed nothing a retained night references. Called from scripts/drill/run.ts.
 */
import { createHash } from 'node:crypto';
import { naming } from '../../lib/core';
import { readNight, forEachLimit } from '../../lib/runtime/format';
import { prune, type PruneReport } from '../../lib/runtime/prune';
import type { ObjectStore } from '../../lib/runtime/stores/types';

export interface ExpectedObject { readonly sha256: string; readonly size: number }

export interface FormatV2Check { readonly check: string; readonly ok: boolean; readonly detail: string }

export interface NightRestore {
  readonly night: string;
  readonly objects: number;
  readonly bytes: number;
  readonly mismatched: readonly string[];
  readonly missing: readonly string[];
  readonly extra: readonly string[];
}

/**
 * Restores a night's recordings from `store` (streams each blob named by the night's view and hashes
 * what was read) and compares with `expected` (source key → the bytes' SHA-256 and size that night).
 */
export async function restoreRecordings(store: ObjectStore, night: string, dataset: string, expected: ReadonlyMap<string, ExpectedObject>): Promise<NightRestore> {
  const reader = await readNight(store, night);
  const seen = new Set<string>();
  const mismatched: string[] = [];
  const extra: string[] = [];
  let objects = 0;
  let bytes = 0;
  await forEachLimit(reader.entries(dataset), 8, async (e) => {
    seen.add(e.key);
    const want = expected.get(e.key);
    if (!want) { extra.push(e.key); return; }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of await store.get(e.blob)) { hash.update(chunk as Buffer); size += (chunk as Buffer).length; }
    objects++;
    bytes += size;
    if (hash.digest('hex') !== want.sha256 || size !== want.size) mismatched.push(e.key);
  });
  const missing = [...expected.keys()].filter((k) => !seen.has(k));
  return { night, objects, bytes, mismatched, missing, extra };
}

function restoreOk(r: NightRestore, expected: number): boolean {
  return r.objects === expected && !r.mismatched.length && !r.missing.length && !r.extra.length;
}

function describe(r: NightRestore): string {
  return `night ${r.night}: ${r.objects} recordings restored (${r.bytes} bytes), ${r.mismatched.length} mismatched, ${r.missing.length} missing, ${r.extra.length} extra`;
}

export async function formatV2Scenario(opts: {
  readonly store: ObjectStore;
  readonly dataset: string;
  readonly night1: { readonly night: string; readonly expected: ReadonlyMap<string, ExpectedObject> };
  readonly night2: { readonly night: string; readonly expected: ReadonlyMap<string, ExpectedObject> };
}): Promise<{ checks: FormatV2Check[]; restores: NightRestore[]; prune: PruneReport }> {
  const { store, dataset, night1, night2 } = opts;
  const rewritten = [...night1.expected].filter(([k, v]) => night2.expected.has(k) && night2.expected.get(k)!.sha256 !== v.sha256).length;
  const deleted = [...night1.expected.keys()].filter((k) => !night2.expected.has(k)).length;
  const r1 = await restoreRecordings(store, night1.night, dataset, night1.expected);
  const r2 = await restoreRecordings(store, night2.night, dataset, night2.expected);
  const checks: FormatV2Check[] = [
    { check: 'older night restored after its recordings changed', ok: restoreOk(r1, night1.expected.size) && rewritten > 0 && deleted > 0, detail: `${describe(r1)}; night 2 had rewritten ${rewritten} and deleted ${deleted} of them` },
    { check: 'night 2 recordings restored byte for byte', ok: restoreOk(r2, night2.expected.size), detail: describe(r2) },
  ];
  // prune: plant a blob no night references (old enough, unlocked on Azurite), prune, and restore both nights again
  const orphan = Buffer.from(`unreferenced ${night2.night}`);
  const orphanKey = naming.blobKey(createHash('sha256').update(orphan).digest('hex'));
  await store.put(orphanKey, orphan);
  const report = await prune({ store, graceDays: 0, now: new Date(Date.now() + 60_000) });
  const again = [await restoreRecordings(store, night1.night, dataset, night1.expected), await restoreRecordings(store, night2.night, dataset, night2.expected)];
  const orphanGone = !(await store.head(orphanKey));
  checks.push({
    check: 'prune kept every referenced blob',
    ok: !report.failures.length && restoreOk(again[0], night1.expected.size) && restoreOk(again[1], night2.expected.size) && orphanGone && report.deleted === 1,
    detail: `prune: ${report.blobs} blobs, ${report.referenced} referenced by ${report.nights.length} nights, deleted ${report.deleted} (the planted unreferenced blob ${orphanGone ? 'gone' : 'STILL THERE'}); afterwards ${describe(again[0])}; ${describe(again[1])}`,
  });
  return { checks, restores: [r1, r2], prune: report };
}
