import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { PrimarySite } from '../../lib/aws';
import { buildPrimaryApp } from '../../bin/primary';
import { referencePlan } from '../../stacks/reference-plan';
import { testApp } from './helpers';

function findings(scope: IConstruct): string[] {
  const out: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    const report = pack.validateScope(scope);
    for (const v of report.violations) for (const r of v.violatingResources) out.push(`${v.ruleName} at ${(r as { constructPath?: string }).constructPath ?? r.resourceLogicalId}`);
  }
  return out;
}

const { app, stack } = buildPrimaryApp(testApp());
app.synth();

test('the reference app has no unacknowledged cdk-nag finding (AWS Solutions + NIST 800-53 R5)', () => {
  expect(findings(app)).toEqual([]);
});

test('every acknowledgement carries a reason', () => {
  const acks: { path: string; id: string; reason: unknown }[] = [];
  const visit = (c: IConstruct) => {
    for (const m of c.node.metadata) {
      if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const [id, value] of Object.entries(m.data as Record<string, unknown>)) {
          acks.push({ path: c.node.path, id, reason: typeof value === 'string' ? value : (value as { reason?: string })?.reason });
        }
      }
    }
    c.node.children.forEach(visit);
  };
  visit(app);
  expect(acks.length).toBeGreaterThanOrEqual(stack.nagAcknowledgements.length);
  for (const a of acks) expect({ ...a, ok: typeof a.reason === 'string' && a.reason.trim().length > 20 }).toMatchObject({ ok: true });
});

test('the check is live: the same site without the acknowledgements has findings', () => {
  const bare = new Stack(testApp(), 'Bare', { env: { account: '111122223333', region: 'eu-central-1' } });
  new PrimarySite(bare, 'Primary', { plan: referencePlan, acknowledgeNagFindings: false });
  const f = findings(bare);
  expect(f).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<PrimaryExportBucket\w+\.Arn>\/\*\] at Bare\/Primary\/GcpReader/)]));
});
