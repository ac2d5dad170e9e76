#!/usr/bin/env node
/**
 * The jobs CLI: `counterparty-job <command>`, configured by environment variables
 * (docs/ARCHITECTURE.md, docs/runtime.md). Runs as `node dist/bin/counterparty-job.js` in the jobs
 * image and as `npx ts-node --transpile-only bin/counterparty-job.ts` from a checkout.
 * Every run writes ONE JSON result line on stdout (also for a crash, an unknown command or a
 * cancellation) and exits non-zero unless it says success; errors are one line on stderr, never a
 * stack trace.
 */
import { oneLine } from '../lib/runtime/errors';
import { runCommand, resultEventOf, USAGE } from '../lib/runtime/jobs';
import { logEvent, resultLinesWritten, runJob } from '../lib/runtime/log';

async function main(argv: string[], signal: AbortSignal): Promise<number> {
  const command = argv[0];
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return runJob('counterparty.job', async () => { throw new Error('no command given'); });
  }
  // `restore --force` = CP_FORCE=1 (restore a night older than the last restored one, on purpose)
  const extra = argv.slice(1);
  const unknown = extra.filter((a) => a !== '--force');
  if (unknown.length) return runJob(resultEventOf(command), async () => { throw new Error(`unknown argument ${JSON.stringify(unknown[0])} (commands are configured by environment variables; the only flag is restore --force)`); });
  return runCommand(command, extra.includes('--force') ? { ...process.env, CP_FORCE: '1' } : process.env, signal);
}

const ctl = new AbortController();
/** How long a job may take to stop after SIGTERM before it is reported cancelled and ended here. */
const STOP_GRACE_MS = 5_000; // Cloud Run sends SIGKILL 10 s after SIGTERM (docs/runtime.md cites the page)
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    process.stderr.write(`counterparty-job: ${sig}: cancelling\n`);
    ctl.abort(new Error(`${sig} received`));
    // a job that can't stop in time still leaves its failure line (the platform's kill would leave none)
    setTimeout(() => {
      const event = resultEventOf(process.argv[2] ?? '');
      if (resultLinesWritten(event) === 0) logEvent(event, { result: 'failure', reason: 'cancelled', error: `${sig}: the job did not stop within ${STOP_GRACE_MS / 1000} s` });
      process.exit(143);
    }, STOP_GRACE_MS).unref();
  });
}

let finished = false;
process.on('unhandledRejection', (err) => {
  if (finished) return;
  finished = true;
  logEvent(resultEventOf(process.argv[2] ?? ''), { result: 'failure', reason: 'error', error: `unhandled: ${oneLine(err)}` });
  process.stderr.write(`counterparty-job: ${oneLine(err)}\n`);
  process.exit(1);
});

main(process.argv.slice(2), ctl.signal).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (err) => {
    // runJob already turned every job error into a failure line; this is the last guard
    finished = true;
    logEvent(resultEventOf(process.argv[2] ?? ''), { result: 'failure', reason: 'error', error: oneLine(err) });
    process.stderr.write(`counterparty-job ${process.argv[2] ?? ''}: ${oneLine(err)}\n`);
    if (process.env.CP_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
