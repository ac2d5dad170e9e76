/**
 * lib/report is loaded by PrimarySite and both counterparty stacks for the synth-time annotation: it must not
 * pull in aws-cdk-lib, cdktf, the providers or constructs, nor start processes (svg.ts is kept out of the index).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('loading lib/report loads no cdk, cdktf, provider or constructs module, and not the dot renderer', () => {
  const script = [
    "require('./lib/report');",
    "const loaded = Object.keys(require.cache).map((k) => k.replace(process.cwd(), ''));",
    'console.log(JSON.stringify({',
    "  frameworks: loaded.filter((k) => /node_modules\\/(aws-cdk-lib|cdktf|@cdktf|constructs|cdk-nag)\\//.test(k)),",
    "  report: loaded.filter((k) => k.startsWith('/lib/report/')).sort(),",
    '}));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: join(__dirname, '../..'), encoding: 'utf8', timeout: 60_000 });
  expect(r.status).toBe(0);
  const { frameworks, report } = JSON.parse(r.stdout.trim());
  expect(frameworks).toEqual([]);
  expect(report).toContain('/lib/report/cost.ts');
  expect(report).not.toContain('/lib/report/svg.ts');
});
