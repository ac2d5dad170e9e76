/**
 * Upgrade safety for both engines.
 *
 *   npm run upgrade-check -- <old-synth-dir> <new-synth-dir>
 *       Lists every resource the upgrade would delete or replace, stateful first.
 *       Each dir contains cdk.out/ and/or cdktf.out/, or is one of them.
 *       Exit 1 when any stateful resource would be deleted or replaced.
 *   npm run upgrade-check -- --record [<synth-dir>] [--out <file>]
 *       Writes the stateful identities of a synth (default: the repo's cdk.out and
 *       cdktf.out) to test/upgrade/stateful-identities.json.
 *   npm run upgrade-check -- --verify [<synth-dir>]
 *       Checks a synth against the committed record; exit 1 on a lost identity.
 */
import * as fs from 'fs';
import * as path from 'path';
import { compareOutputs, formatChanges } from './upgrade-check/compare';
import { checkIdentities, recordIdentities, type IdentityRecord } from './upgrade-check/identities';
import { readOutputs } from './upgrade-check/outputs';

export const IDENTITY_RECORD = path.resolve(__dirname, '../test/upgrade/stateful-identities.json');

function main(argv: string[]): number {
  const root = path.resolve(__dirname, '..');
  if (argv[0] === '--record' || argv[0] === '--verify') {
    const outIdx = argv.indexOf('--out');
    const out = outIdx >= 0 ? argv[outIdx + 1] : IDENTITY_RECORD;
    const dir = argv.slice(1).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out')[0] ?? root;
    const outputs = readOutputs(dir);
    if (argv[0] === '--record') {
      const record = recordIdentities(outputs);
      fs.writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
      const count = (r: IdentityRecord) => Object.values(r.cloudformation).reduce((n, s) => n + Object.keys(s).length, 0) + Object.values(r.terraform).reduce((n, s) => n + Object.keys(s).length, 0);
      process.stdout.write(`upgrade-check: recorded ${count(record)} stateful identities from ${outputs.cloudFormationTemplates.length} template(s) and ${outputs.terraformFiles.length} Terraform file(s) in ${path.relative(process.cwd(), out)}\n`);
      return 0;
    }
    const record = JSON.parse(fs.readFileSync(out, 'utf8')) as IdentityRecord;
    const problems = checkIdentities(record, outputs);
    for (const p of problems) process.stdout.write(`LOST ${p.engine} ${p.problem}\n`);
    process.stdout.write(`upgrade-check: ${problems.length} recorded stateful identit${problems.length === 1 ? 'y' : 'ies'} lost\n`);
    return problems.length === 0 ? 0 : 1;
  }
  if (argv.length !== 2) {
    process.stderr.write('usage: npm run upgrade-check -- <old-synth-dir> <new-synth-dir> | --record [<synth-dir>] [--out <file>] | --verify [<synth-dir>]\n');
    return 2;
  }
  const changes = compareOutputs(readOutputs(argv[0]), readOutputs(argv[1]));
  process.stdout.write(`${formatChanges(changes)}\n`);
  return changes.some((c) => c.stateful) ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`upgrade-check: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
