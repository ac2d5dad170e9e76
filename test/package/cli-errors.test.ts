/** The apps in bin/ print a plan error as the message alone; the stack trace only with COUNTERPARTY_DEBUG=1. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
// A CLI run whose plan is invalid (retentionDays 0, region outside residency), through the same runCli the bin/ apps use.
const script = `
const { runCli } = require('./bin/cli-errors');
const { resolvePlan } = require('./lib/core');
const { referencePlan } = require('./stacks/reference-plan');
runCli(() => resolvePlan({ ...referencePlan, retentionDays: 0 }));
`;

function runBadPlan(env: Record<string, string>) {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
}

test('a validation error prints the message alone, exit status 1', () => {
  const r = runBadPlan({ COUNTERPARTY_DEBUG: '' });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^Counterparty: protection plan 'acme-cc' is invalid \(\d+ problems?\):\n {2}- retentionDays = 0: /);
  expect(r.stderr).toMatch(/set COUNTERPARTY_DEBUG=1 for the stack trace/);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack frames
  expect(r.stderr).not.toMatch(/issues: \[/); // no raw dump of the error's properties
});

test('COUNTERPARTY_DEBUG=1 adds the stack trace and the issues', () => {
  const r = runBadPlan({ COUNTERPARTY_DEBUG: '1' });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^\s+at resolvePlan /m);
  expect(r.stderr).toMatch(/"issues": \[/);
});
