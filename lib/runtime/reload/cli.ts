/**
 * Arguments and clients of `npm run reload` (bin/reload.ts) and the jobs CLI verb `reload`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { RuntimeError } from '../errors';
import { openStore } from '../stores';
import { s3ClientFromEnv } from '../stores/s3';
import { connectApplierFromEnv } from './connect';
import { reload, type ConnectApplier } from './index';
import type { ReloadReport } from './report';
import { parseReloadTarget } from './target';

export const RELOAD_USAGE = `usage: reload --from <store url | exit-bundle folder> --to <target.json> [--night latest-verified|latest|YYYY-MM-DD]
              [--records <store url>] [--state <dir>] [--out <dir>] [--dry-run] [--force] [--dynamodb import|batch|auto]
  --from     the counterparty copy (azblob://account/container, gs://bucket, s3://bucket) or an exit bundle folder
  --to       the target file: per dataset, the bucket, table, database or Connect instance to load into (docs/runtime.md)
  --night    default latest-verified
  --state    the journal that makes a re-run continue after a crash (default reload-state)
  --out      where reload-report.md and .json go (default reload-out)
  --dry-run  print what would be loaded where (and the Connect change plan); change nothing
  --force    load into targets that already hold data (logged)`;

export interface ReloadArgs {
  readonly from: string; readonly to: string; readonly night: string; readonly records?: string;
  readonly state: string; readonly out: string; readonly dryRun: boolean; readonly force: boolean; readonly dynamodb: 'import' | 'batch' | 'auto';
}

export function parseReloadArgs(argv: readonly string[]): ReloadArgs {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dry-run' || a === '--force') { flags.add(a.slice(2)); continue; }
    const m = /^--(from|to|night|records|state|out|dynamodb)(?:=(.*))?$/.exec(a);
    if (!m) throw new RuntimeError(`reload: unknown argument ${JSON.stringify(a)}\n${RELOAD_USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new RuntimeError(`reload: --${m[1]} needs a value`);
    values[m[1]] = value;
  }
  if (!values.from) throw new RuntimeError(`reload: --from is required\n${RELOAD_USAGE}`);
  if (!values.to) throw new RuntimeError(`reload: --to is required\n${RELOAD_USAGE}`);
  const dynamodb = (values.dynamodb ?? 'auto') as ReloadArgs['dynamodb'];
  if (!['import', 'batch', 'auto'].includes(dynamodb)) throw new RuntimeError(`reload: --dynamodb ${JSON.stringify(dynamodb)} is not import, batch or auto`);
  return { from: values.from, to: values.to, night: values.night ?? 'latest-verified', records: values.records, state: values.state ?? 'reload-state', out: values.out ?? 'reload-out', dryRun: flags.has('dry-run'), force: flags.has('force'), dynamodb };
}

/** A store URL, or a plain folder (an unpacked exit bundle). */
export function sourceUrl(from: string): string {
  if (/^[a-z0-9]+:\/\//.test(from)) return from;
  if (/\.(tar\.gz|tgz)$/.test(from)) throw new RuntimeError(`reload: ${from} is a packed exit bundle. Fix: unpack it (tar -xzf ${from} -C <dir>) and pass --from <dir>.`);
  return `file://${from}`;
}

/**
 * Runs a reload from parsed arguments with clients configured from the environment (AWS_ENDPOINT_URL_*;
 * the region is the target file's). `applyConnect` replaces the Connect step (the drill's in-memory instance).
 */
export async function runReload(args: ReloadArgs, env: NodeJS.ProcessEnv = process.env, applyConnect?: ConnectApplier): Promise<ReloadReport> {
  let targetText: string;
  try {
    targetText = readFileSync(args.to, 'utf8');
  } catch (err) {
    throw new RuntimeError(`reload: cannot read the target file ${args.to} (${(err as Error).message}). Fix: pass --to <target.json>.`);
  }
  const target = parseReloadTarget(targetText, env);
  const clientEnv = { ...env, AWS_REGION: target.region };
  const dynamo = new DynamoDBClient({ region: target.region, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined, retryMode: 'adaptive', maxAttempts: 10 });
  return reload({
    source: openStore(sourceUrl(args.from), env),
    recordsStore: args.records ? openStore(args.records, env) : undefined,
    night: args.night, target, targetText,
    s3: s3ClientFromEnv(clientEnv), dynamo, applyConnect: applyConnect ?? connectApplierFromEnv(clientEnv, target.stagingBucket),
    stateDir: args.state, outDir: args.out, force: args.force, dryRun: args.dryRun, dynamoMode: args.dynamodb,
  });
}
