/**
 * `npm run plan-report` end to end: the three files on the reference plan, the
 * age warning in the markdown, and one-line failures with a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../..');

function run(args: string[]) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/plan-report.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run plan-report', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'plan-report-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes plan-report.md, plan-report.json and the SVG for the reference plan', () => {
    const out = join(dir, 'ref');
    const r = run(['--out', out, '--now', '2026-12-01']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const md = readFileSync(join(out, 'plan-report.md'), 'utf8');
    const json = JSON.parse(readFileSync(join(out, 'plan-report.json'), 'utf8'));
    const svg = readFileSync(join(out, 'plan-topology.svg'), 'utf8');
    expect(md).toContain('# Plan report: acme-cc');
    expect(md).toContain('| **total** |');
    expect(md).toContain('```mermaid\nflowchart LR');
    expect(md).toContain('### GCP: takeover (RTO');
    expect(md).toContain('Prices: the table of **2026-11-26**');
    expect(md).not.toContain('**Warning:** The price table');
    expect(json.cost.totalUsd).toBeGreaterThan(0);
    expect(json.priceTable).toEqual({ date: '2026-11-26', ageDays: 5, warning: null });
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg/);
    const log = JSON.parse(r.stdout.trim());
    expect(log).toMatchObject({ event: 'counterparty.plan-report', result: 'success', system: 'acme-cc', totalUsd: json.cost.totalUsd });
  });

  test('warns in the report and on stderr when the price table is more than 180 days old', () => {
    const out = join(dir, 'old');
    const r = run(['--out', out, '--now', '2027-07-01']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^plan-report: warning: The price table is 217 days old/);
    expect(readFileSync(join(out, 'plan-report.md'), 'utf8')).toContain('> **Warning:** The price table is 217 days old (compiled 2026-11-26');
  });

  test('bad volumes: exit 1, one error line naming the field, a JSON failure line, no files', () => {
    const bad = join(dir, 'bad-volumes.json');
    const volumes = JSON.parse(readFileSync(join(root, 'lib/report/reference-volumes.json'), 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...volumes, dailyChangeRate: 'often' }));
    const out = join(dir, 'bad');
    const r = run(['--volumes', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('dailyChangeRate is "often"; give a non-negative number');
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ event: 'counterparty.plan-report', result: 'failure' });
    expect(existsSync(out)).toBe(false);
  });

  test('an export that is not a plan, or an unknown flag: exit 1 with the reason', () => {
    const notPlan = run(['--plan', 'stacks/reference-plan.ts:nothingHere', '--out', join(dir, 'x')]);
    expect(notPlan.code).toBe(1);
    expect(notPlan.stderr).toMatch(/^plan-report: --plan stacks\/reference-plan\.ts:nothingHere: export "nothingHere" is not a ProtectionPlan/);
    const flag = run(['--colour']);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('unknown argument "--colour"; usage: npm run plan-report');
  });
});
