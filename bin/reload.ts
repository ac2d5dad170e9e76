#!/usr/bin/env node
/**
 * `npm run reload -- --from <counterparty store | exit bundle folder> --to <target.json> [--night latest-verified]`
 * Fail-back / rebuild: puts a verified night back into AWS (see docs/runtime.md "Fail back / rebuild the primary").
 */
import { parseReloadArgs, RELOAD_USAGE, runReload } from '../lib/runtime/reload/cli';
import { runJob } from '../lib/runtime/log';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stderr.write(`${RELOAD_USAGE}\n`);
} else {
  runJob('counterparty.reload', async () => {
    const args = parseReloadArgs(argv);
    const r = await runReload(args);
    process.stderr.write(`reload: ${r.result}: night ${r.night}${r.result === 'dry-run' ? '' : ` in ${r.rtoSeconds.toFixed(1)} s (report in ${args.out}/reload-report.md)`}\n`);
    return 0;
  }).then((code) => { process.exitCode = code; }, () => { process.exitCode = 1; });
}
