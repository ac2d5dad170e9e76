/**
 * The drill's no-false-green scenarios (issue 11 "Done when"), one function each, called from
 * scripts/drill/run.ts. Each ends in check rows: the alert condition (a structured result line) and,
 * where a person would run it, the exit code of the real CLI.
 *
 * - verify during copy: the night's manifest is on the counterparty before its data (the copy's
 *   manifests phase first, as an unordered transfer such as Storage Transfer can leave it); verify
 *   says pending (not failure); the data phase finishes; the next verify says verified, no manual step;
 * - deleted newest manifest: the head of the chain disappears; verify fails with reason `rollback`
 *   and status is not ready (then the manifest is put back for the rest of the drill);
 * - primary dark: no new night arrives; once rpoHours + alarmGraceHours have passed on the drill's
 *   clock, verify says `stale: true` and `npm run status` exits non-zero (and before that, exits 0).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { naming } from '../../lib/core';
import type { CopyResult } from '../../lib/runtime/copy';
import type { FreshnessConfig } from '../../lib/runtime/status';
import type { ObjectStore } from '../../lib/runtime/stores/types';
import { verifyRun, type PlannedDataset, type VerifyRunResult } from '../../lib/runtime/verifier';

export interface ScenarioContext {
  /** The counterparty store (Azurite) and how a CLI reaches it. */
  readonly store: ObjectStore;
  readonly storeUrl: string;
  readonly storeEnv: Readonly<Record<string, string>>;
  readonly datasets: readonly PlannedDataset[];
  readonly freshness: FreshnessConfig;
  readonly check: (name: string, ok: boolean, detail: string) => void;
  readonly say: (text: string) => void;
  /** Every structured line the drill's jobs wrote so far. */
  readonly logLines: readonly string[];
}

const ROOT = join(__dirname, '..', '..');

function lastResultLine(lines: readonly string[], event: string): Record<string, unknown> | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = JSON.parse(lines[i]) as Record<string, unknown>;
    if (l.event === event) return l;
  }
  return undefined;
}

export function verifyOnce(ctx: ScenarioContext, now?: Date): Promise<VerifyRunResult> {
  return verifyRun({ store: ctx.store, datasets: ctx.datasets, freshness: ctx.freshness, now });
}

/** `npm run status` as an operator runs it (ts-node, a child process): exit code and its result line. */
export function runStatusCli(ctx: ScenarioContext, now: Date): Promise<{ code: number | null; line: Record<string, unknown> | undefined; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', join(ROOT, 'bin', 'status.ts'), '--store', ctx.storeUrl, '--now', now.toISOString(),
      '--rpo-hours', String(ctx.freshness.rpoHours), '--grace-hours', String(ctx.freshness.alarmGraceHours)], { cwd: ROOT, env: { ...process.env, ...ctx.storeEnv } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      const line = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'counterparty.status');
      resolve({ code, line, stderr: err });
    });
  });
}

/**
 * Verify during copy: the real copy's manifests phase runs first (the night's manifest lands before
 * its data), verify (pending), then the data phase (a full listing: ignore-existing copies what is
 * missing), verify again (verified).
 */
export async function verifyDuringCopy(ctx: ScenarioContext, opts: { night: string; copyManifestsFirst: () => Promise<CopyResult>; copyData: () => Promise<CopyResult> }): Promise<{ first: VerifyRunResult; second: VerifyRunResult; copy: CopyResult }> {
  const manifests = await opts.copyManifestsFirst();
  if (manifests.result !== 'success' || !(await ctx.store.head(naming.manifestKey(opts.night)))) throw new Error(`verify during copy: the manifests phase did not put ${naming.manifestKey(opts.night)} there (${manifests.result}${manifests.error ? `: ${manifests.error}` : ''})`);
  const first = await verifyOnce(ctx);
  const firstLine = lastResultLine(ctx.logLines, 'counterparty.verify');
  const copy = await opts.copyData();
  const second = await verifyOnce(ctx);
  const r1 = first.nights.find((n) => n.night === opts.night)?.result;
  const r2 = second.nights.find((n) => n.night === opts.night)?.result;
  ctx.check('verify during copy: the night ends pending, then verified with no manual step', first.result === 'success' && r1 === 'pending' && firstLine?.result === 'success' && r2 === 'success' && second.result === 'success',
    `manifest first: verify says ${r1} (run result ${first.result}, pending ${JSON.stringify(firstLine?.pending)}); copy ${copy.result}; next verify says ${r2}`);
  return { first, second, copy };
}

/** Deleted newest manifest: detected (verify fails with reason rollback; status not ready), then repaired. */
export async function deletedNewestManifest(ctx: ScenarioContext, opts: { night: string; deleteObject: (key: string) => Promise<void> }): Promise<void> {
  const key = naming.manifestKey(opts.night);
  const bytes = await ctx.store.getBytes(key);
  await opts.deleteObject(key);
  let verify: VerifyRunResult | undefined;
  try {
    verify = await verifyOnce(ctx);
    const line = lastResultLine(ctx.logLines, 'counterparty.verify');
    const status = await runStatusCli(ctx, new Date());
    ctx.check('deleted newest manifest: detected and alerted', verify.result === 'failure' && line?.result === 'failure' && line?.reason === 'rollback' && status.code !== 0,
      `verify line: result ${line?.result}, reason ${line?.reason}, newestSeenNight ${line?.newestSeenNight}; status exit ${status.code} (${JSON.stringify((status.line?.problems as string[] | undefined)?.find((p) => p.startsWith('rollback')) ?? '')})`);
  } finally {
    await ctx.store.put(key, bytes, { contentType: 'application/json' });
  }
  const after = await verifyOnce(ctx);
  ctx.check('deleted newest manifest: the same bytes put back clear the condition', after.result === 'success', `verify after repair: ${after.result}${after.reason ? ` (${after.reason})` : ''}`);
}

/**
 * Primary dark: nothing new arrives. On the drill's clock (the newest verified night's manifest
 * `createdAt` + rpoHours + alarmGraceHours + 1 h), verify's line says stale and status exits non-zero;
 * one hour after that night it still says ready (so the check can fail both ways).
 */
export async function primaryDarkStale(ctx: ScenarioContext, opts: { lastGoodNight: string; createdAt: string }): Promise<{ late: Date }> {
  const created = Date.parse(opts.createdAt);
  const threshold = ctx.freshness.rpoHours + ctx.freshness.alarmGraceHours;
  const early = new Date(created + 3600_000);
  const late = new Date(created + (threshold + 1) * 3600_000);
  const before = await runStatusCli(ctx, early);
  await verifyOnce(ctx, late);
  const line = lastResultLine(ctx.logLines, 'counterparty.verify');
  const after = await runStatusCli(ctx, late);
  ctx.check('primary dark: counterparty reports stale', line?.stale === true && after.code !== 0 && after.line?.stale === true && after.line?.ready === false && before.code === 0,
    `at +1 h: status exit ${before.code} (ready ${before.line?.ready}); at +${threshold + 1} h (${late.toISOString()}): verify line stale=${line?.stale}, dataAgeHours ${line?.dataAgeHours} > ${line?.thresholdHours}; status exit ${after.code}, ready ${after.line?.ready}, newest restored ${after.line?.newestRestoredNight}`);
  return { late };
}
