#!/usr/bin/env node
/**
 * The jobs CLI: `counterparty-job <command>`, configured by environment variables
 * (docs/ARCHITECTURE.md, docs/runtime.md). Runs as `node dist/bin/counterparty-job.js` in the jobs
 * image and as `npx ts-node --transpile-only bin/counterparty-job.ts` from a checkout.
 * Errors are one line on stderr and a non-zero exit, never a stack trace.
 */
import { oneLine } from '../lib/runtime/errors';
import { runCommand, USAGE } from '../lib/runtime/jobs';

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stderr.write(`${USAGE}\n`);
    return command ? 0 : 1;
  }
  return runCommand(command, process.env);
}

process.on('unhandledRejection', (err) => {
  process.stderr.write(`counterparty-job: ${oneLine(err)}\n`);
  process.exit(1);
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`counterparty-job ${process.argv[2] ?? ''}: ${oneLine(err)}\n`);
    if (process.env.CP_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
