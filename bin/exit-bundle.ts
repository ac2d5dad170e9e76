#!/usr/bin/env node
/**
 * `npm run exit-bundle -- --from <store url> [--night latest-verified] --out <dir|file.tar.gz>`
 * Downloads one night from any side (s3://, gs://, azblob://, file://) into a folder or tarball,
 * checking every object against the manifest as it goes, with a progress bar on stderr.
 */
import { progressBar, writeExitBundle } from '../lib/runtime/exit-bundle';
import { logEvent, runJob } from '../lib/runtime/log';
import { openStore } from '../lib/runtime/stores';

const USAGE = 'usage: exit-bundle --from <s3://bucket|gs://bucket|azblob://account/container|file://dir> [--night latest-verified|latest|YYYY-MM-DD] --out <dir|file.tar.gz> [--records <store url>]';

export function parseArgs(argv: string[]): { from: string; night: string; out: string; records?: string } {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(from|night|out|records)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(a)}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    args[m[1]] = value;
  }
  if (!args.from) throw new Error('--from is required');
  if (!args.out) throw new Error('--out is required');
  return { from: args.from, night: args.night ?? 'latest-verified', out: args.out, records: args.records };
}

async function main(signal: AbortSignal): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  return runJob('counterparty.exit-bundle', () => bundle(argv, signal));
}

async function bundle(argv: string[], signal: AbortSignal): Promise<number> {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${USAGE}\n`);
    throw err;
  }
  const store = openStore(opts.from);
  const r = await writeExitBundle({
    signal,
    store,
    recordsStore: opts.records ? openStore(opts.records) : undefined,
    night: opts.night,
    out: opts.out,
    onProgress: progressBar(process.stderr),
    onNotice: (m) => process.stderr.write(`exit-bundle: ${m}\n`),
  });
  process.stderr.write(`exit-bundle: night ${r.night} (${r.verifiedBy ? `verified ${r.verifiedBy}` : 'no verification record'}), ${r.objects} objects, ${r.bytes} bytes, all matching manifest ${r.manifestSha256} → ${r.out}\n`);
  logEvent('counterparty.exit-bundle', { result: 'success', night: r.night, manifestSha256: r.manifestSha256, objects: r.objects, bytes: r.bytes, out: r.out, verifiedBy: r.verifiedBy });
  return 0;
}

const ctl = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => ctl.abort(new Error(`${sig} received`)));

main(ctl.signal).then((code) => { process.exitCode = code; }, () => { process.exitCode = 1; });
