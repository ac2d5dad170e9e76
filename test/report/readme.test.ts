/**
 * README "What will it cost?" shows the reference report's summary table; this keeps it in step with the
 * price table and the model (regenerate with `npm run plan-report` and paste the table between the markers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, referenceVolumes, summaryTable } from '../../lib/report';
import { referencePlan } from '../../stacks/reference-plan';

test('README shows the reference report\'s summary table', () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  const shown = /<!-- plan-report summary[^>]*-->\n([\s\S]*?)\n<!-- \/plan-report summary -->/.exec(readme)?.[1];
  const report = buildReport({ plan: referencePlan, volumes: referenceVolumes, planSource: 'reference', volumesSource: 'reference', now: new Date('2026-11-26T00:00:00Z') });
  expect(shown).toBe(summaryTable(report));
});
