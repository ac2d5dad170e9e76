#!/usr/bin/env node
/**
 * `npm run status -- --store <url> [--records <url>] [--primary <url>] [--rpo-hours 24] [--grace-hours 6]`
 * Can this counterparty take over right now? Prints the answer for a person on stderr and ONE
 * `counterparty.status` JSON line on stdout; exits 0 when ready, 2 when not, 1 on an error.
 * Same as `counterparty-job status` with CP_STORE / CP_RECORDS_STORE / CP_PRIMARY_STORE.
 */
import { statusCommand } from '../lib/runtime/jobs';
import { runJob } from '../lib/runtime/log';

const USAGE = 'usage: status --store <s3://bucket|gs://bucket|azblob://account/container|file://dir> [--records <store url>] [--primary <store url>] [--rpo-hours N] [--grace-hours N] [--now <ISO time>]';

const FLAGS: Record<string, string> = { store: 'CP_STORE', records: 'CP_RECORDS_STORE', primary: 'CP_PRIMARY_STORE', 'rpo-hours': 'CP_RPO_HOURS', 'grace-hours': 'CP_ALARM_GRACE_HOURS', now: 'CP_NOW' };

export function envFromArgs(argv: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !FLAGS[m[1]]) throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    out[FLAGS[m[1]]] = value;
  }
  if (!out.CP_STORE) throw new Error('--store is required');
  return out;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  return runJob('counterparty.status', async () => {
    let env: NodeJS.ProcessEnv;
    try {
      env = envFromArgs(argv, process.env);
    } catch (err) {
      process.stderr.write(`${USAGE}\n`);
      throw err;
    }
    return (await statusCommand(env)).ready ? 0 : 2;
  });
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, () => { process.exitCode = 1; });
