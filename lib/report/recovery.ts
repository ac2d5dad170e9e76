/**
 * Recovery estimate: the RPO the schedule achieves, the RTO of a takeover in
 * phases, and the time of a full re-seed of each counterparty. Every figure
 * carries its formula and inputs, and every throughput names its source.
 */
import { longestGapHours, planCron, VERIFY_AFTER_COPY_MINUTES, type ResolvedPlan } from '../core';
import { quantities } from './model';
import { secondsFor, throughputs, type Throughput } from './throughputs';
import type { Volumes } from './volumes';
import { fmt } from './cost';

const LABEL = { gcp: 'GCP', azure: 'Azure' } as const;

export interface Phase {
  readonly name: string;
  readonly hours: number;
  readonly formula: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly source: string;
}

export interface CounterpartyRecovery {
  readonly counterparty: 'gcp' | 'azure';
  readonly label: string;
  readonly copy: Throughput;
  /** Hours from the start of a night's export until this counterparty holds a verified copy of it. */
  readonly lagHours: number;
  /** Worst-case age of the newest verified copy here: the schedule's longest gap plus the lag. */
  readonly worstCaseRpoHours: number;
  /** Whether that age stays under the freshness alarm (rpoHours + alarmGraceHours). */
  readonly withinAlarm: boolean;
  readonly rto: readonly Phase[];
  readonly rtoHours: number;
  readonly reseed: readonly Phase[];
  readonly reseedHours: number;
}

export interface RecoveryEstimate {
  /** Longest gap between two scheduled nights: the data a loss of the primary can cost at most. */
  readonly scheduleGapHours: number;
  readonly planRpoHours: number;
  readonly alarmAfterHours: number;
  readonly counterparties: readonly CounterpartyRecovery[];
  readonly throughputs: readonly Throughput[];
}

function phase(name: string, hours: number, formula: string, inputs: Record<string, string>, source: string): Phase {
  return { name, hours, formula, inputs, source };
}

const h = (seconds: number) => seconds / 3600;

export function estimateRecovery(plan: ResolvedPlan, v: Volumes): RecoveryEstimate {
  const q = quantities(plan, v);
  const t = throughputs(v);
  const gap = longestGapHours(planCron(plan));
  const alarmAfter = plan.rpoHours + plan.alarmGraceHours;
  const nightGiB = q.changedGiBPerNight + q.exportGiBPerNight;
  const restoreGiB = q.pgDumpGiBPerNight + q.dynamoDbGiBPerNight;
  const estateGiB = q.recordingsGiB + q.exportGiBPerNight;

  const one = (counterparty: 'gcp' | 'azure'): CounterpartyRecovery => {
    const copy = counterparty === 'gcp' ? t.gcpCopyMiBps : t.azureCopyMiBps;
    const copySeconds = secondsFor(nightGiB, copy.value);
    const verifySeconds = secondsFor(nightGiB, t.verifyMiBps.value);
    const restoreSeconds = secondsFor(restoreGiB, t.restoreMiBps.value);
    const rto = [
      phase('copy of the last night', h(copySeconds), `${fmt(nightGiB)} GiB ÷ ${fmt(copy.value)} MiB/s`,
        { 'night GiB': `${fmt(q.changedGiBPerNight)} changed recordings + ${fmt(q.exportGiBPerNight)} exports`, 'copy MiB/s': fmt(copy.value) },
        `${copy.source}. Zero when the primary is already gone: the last verified night is used`),
      phase('verify', h(verifySeconds), `${fmt(nightGiB)} GiB ÷ ${fmt(t.verifyMiBps.value)} MiB/s`,
        { 'night GiB': fmt(nightGiB), 'verify MiB/s': fmt(t.verifyMiBps.value) }, t.verifyMiBps.source),
      phase('restore into the standby database', h(restoreSeconds), `${fmt(restoreGiB)} GiB ÷ ${fmt(t.restoreMiBps.value)} MiB/s`,
        { 'pg_dump GiB': fmt(q.pgDumpGiBPerNight), 'DynamoDB export GiB': fmt(q.dynamoDbGiBPerNight), 'restore MiB/s': fmt(t.restoreMiBps.value) },
        `${t.restoreMiBps.source}; ${t.restoreMiBps.note ?? ''}`),
      phase('start the standby (mode: active)', v.assumptions.startStandbyMinutes / 60, `${v.assumptions.startStandbyMinutes} min`,
        { minutes: String(v.assumptions.startStandbyMinutes) }, 'assumption volumes.assumptions.startStandbyMinutes (not measured: the drill restores but does not deploy)'),
    ];
    const listSeconds = q.recordingsObjects / t.listKeysPerSecond.value;
    const reseed = [
      phase('list the source', h(listSeconds), `${fmt(q.recordingsObjects, 0)} keys ÷ ${fmt(t.listKeysPerSecond.value, 0)} keys/s`,
        { keys: fmt(q.recordingsObjects, 0) }, t.listKeysPerSecond.source),
      phase('copy everything', h(secondsFor(estateGiB, copy.value)), `${fmt(estateGiB)} GiB ÷ ${fmt(copy.value)} MiB/s`,
        { 'estate GiB': `${fmt(q.recordingsGiB)} recordings + ${fmt(q.exportGiBPerNight)} one night's exports`, 'copy MiB/s': fmt(copy.value) }, copy.source),
      phase('verify everything', h(secondsFor(estateGiB, t.verifyMiBps.value)), `${fmt(estateGiB)} GiB ÷ ${fmt(t.verifyMiBps.value)} MiB/s`,
        { 'estate GiB': fmt(estateGiB), 'verify MiB/s': fmt(t.verifyMiBps.value) }, t.verifyMiBps.source),
    ];
    // The copy starts exportWindowHours after the export starts; the verifier starts VERIFY_AFTER_COPY_MINUTES after the copy.
    const lagHours = plan.schedule.exportWindowHours + Math.max(h(copySeconds), VERIFY_AFTER_COPY_MINUTES / 60) + h(verifySeconds);
    const worst = gap + lagHours;
    const sum = (phases: Phase[]) => phases.reduce((a, p) => a + p.hours, 0);
    return {
      counterparty, label: LABEL[counterparty], copy, lagHours, worstCaseRpoHours: worst, withinAlarm: worst <= alarmAfter,
      rto, rtoHours: sum(rto), reseed, reseedHours: sum(reseed),
    };
  };
  const counterparties: CounterpartyRecovery[] = [];
  if (plan.counterparties.gcp) counterparties.push(one('gcp'));
  if (plan.counterparties.azure) counterparties.push(one('azure'));
  return {
    scheduleGapHours: gap, planRpoHours: plan.rpoHours, alarmAfterHours: alarmAfter, counterparties,
    throughputs: [t.verifyMiBps, t.restoreMiBps, t.gcpCopyMiBps, t.azureCopyMiBps, t.pgDumpMiBps, t.listKeysPerSecond],
  };
}
