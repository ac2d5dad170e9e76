/**
 * The recovery estimate: RPO from the schedule, RTO phases with formula,
 * inputs and a named source, re-seed time per counterparty.
 */
import { resolvePlan } from '../../lib/core';
import { estimateRecovery, referenceVolumes } from '../../lib/report';
import { referencePlan } from '../../stacks/reference-plan';

describe('recovery estimate', () => {
  const daily = estimateRecovery(resolvePlan(referencePlan), referenceVolumes);

  test('a daily schedule: 24 h gap; the newest verified copy stays inside the 30 h alarm', () => {
    expect(daily.scheduleGapHours).toBe(24);
    expect(daily.alarmAfterHours).toBe(30);
    for (const c of daily.counterparties) {
      expect(c.worstCaseRpoHours).toBeCloseTo(24 + c.lagHours, 9);
      expect(c.lagHours).toBeGreaterThanOrEqual(3 + 1); // export window + the verifier's one-hour delay at least
      expect(c.withinAlarm).toBe(true);
    }
  });

  test('a Monday-Friday schedule: 72 h gap; with rpoHours 72 and 1 h grace the newest copy can be older than the alarm allows', () => {
    const weekdays = estimateRecovery(resolvePlan({ ...referencePlan, schedule: { cron: '0 2 * * 1-5', timeZone: 'UTC' }, rpoHours: 72, alarmGraceHours: 1, retentionDays: 35 }), referenceVolumes);
    expect(weekdays.scheduleGapHours).toBe(72);
    expect(weekdays.counterparties.every((c) => !c.withinAlarm)).toBe(true);
  });

  test('the restore phase is the night\'s dump and export over the measured restore rate, by hand', () => {
    const gcp = daily.counterparties.find((c) => c.counterparty === 'gcp')!;
    const restore = gcp.rto.find((p) => p.name === 'restore into the standby database')!;
    const gib = referenceVolumes.postgres.dumpGiB + referenceVolumes.dynamoDb.totalGiB;
    expect(restore.hours).toBeCloseTo((gib * 1024) / (2.0 / 0.47) / 3600, 9);
    expect(restore.source).toContain('BENCHMARKS.md');
    expect(gcp.rtoHours).toBeCloseTo(gcp.rto.reduce((a, p) => a + p.hours, 0), 9);
  });

  test('every phase gives its formula, inputs and source; a full re-seed is estimated for both counterparties', () => {
    expect(daily.counterparties.map((c) => c.counterparty)).toEqual(['gcp', 'azure']);
    for (const c of daily.counterparties) {
      expect(c.rto.map((p) => p.name)).toEqual(['copy of the last night', 'verify', 'restore into the standby database', 'start the standby (mode: active)']);
      for (const p of [...c.rto, ...c.reseed]) {
        expect(p.formula).not.toBe('');
        expect(Object.keys(p.inputs).length).toBeGreaterThan(0);
        expect(p.source).toMatch(/BENCHMARKS\.md|FACTS\.md|assumption volumes\.assumptions\./);
      }
      expect(c.reseedHours).toBeGreaterThan(c.rtoHours / 2);
    }
  });

  test('a slower network lengthens the copy phases and names the assumption as the source', () => {
    const slow = estimateRecovery(resolvePlan(referencePlan), { ...referenceVolumes, assumptions: { ...referenceVolumes.assumptions, networkMiBps: 10 } });
    const azure = slow.counterparties.find((c) => c.counterparty === 'azure')!;
    const base = daily.counterparties.find((c) => c.counterparty === 'azure')!;
    expect(azure.reseed[1].hours).toBeCloseTo(base.reseed[1].hours * 10, 6);
    expect(azure.copy.source).toMatch(/^assumption volumes\.assumptions\.networkMiBps \(10 MiB\/s\)/);
  });
});
