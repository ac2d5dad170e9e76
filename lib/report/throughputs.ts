/**
 * Throughputs behind the recovery estimate and the job-compute lines. The
 * measured ones come from `npm run bench` / the full-size drill (BENCHMARKS.md),
 * taken on 2 cores against loopback emulators; a real copy crosses the
 * internet, so every copy rate is capped by the volumes' `networkMiBps`
 * assumption. Each figure names its source; the report prints it.
 */
import type { Volumes } from './volumes';

export interface Throughput {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Where the figure comes from: a measurement (file and section) or an assumption (volumes field). */
  readonly source: string;
  readonly measured: boolean;
  readonly note?: string;
}

/** Figures measured by the drill (BENCHMARKS.md §4, run 2026-11-22, full-size drill). */
export const MEASURED = {
  verifier: {
    name: 'verifier (SHA-256 check of every new blob)', value: 325, unit: 'MiB/s', measured: true,
    source: 'BENCHMARKS.md §4 "Data path": verifier 325 MiB/s on 204 MiB (full-size drill)',
    note: 'one sample from local files; reading from a cloud bucket may be slower',
  },
  restore: {
    name: 'restorer (pg_restore + DynamoDB load)', value: 2.0 / 0.47, unit: 'MiB/s', measured: true,
    source: 'BENCHMARKS.md §4 "Data path": restorer 0.47 s for a 2.0 MiB dump',
    note: 'fixed costs (process start, CREATE DATABASE) dominate at this size, so this rate under-states a large restore: restore phases are pessimistic',
  },
  syncObjects: {
    name: 'sync-objects server-side copies', value: 2000 / 20, unit: 'objects/s', measured: true,
    source: 'BENCHMARKS.md "Findings" §4: sync-objects copied 2,000 recordings in 20 s in the full-size drill',
    note: 'bounded by moto\'s request rate, so a floor for S3',
  },
  rcloneCopy: {
    name: 'rclone copy S3 → Azure Blob', value: 100, unit: 'MiB/s', measured: true,
    source: 'FACTS.md "Local emulators": rclone moto → Azurite at about 100 MiB/s',
    note: 'loopback, no internet in between',
  },
} as const satisfies Record<string, Throughput>;

export interface Throughputs {
  readonly verifyMiBps: Throughput;
  readonly restoreMiBps: Throughput;
  /** Copy AWS → GCP (Storage Transfer): not measured here (no GCS emulator); the network assumption. */
  readonly gcpCopyMiBps: Throughput;
  /** Copy AWS → Azure (rclone): min(measured rclone rate, network assumption). */
  readonly azureCopyMiBps: Throughput;
  readonly pgDumpMiBps: Throughput;
  readonly listKeysPerSecond: Throughput;
}

export function throughputs(v: Volumes): Throughputs {
  const network = v.assumptions.networkMiBps;
  const azureCapped = network < MEASURED.rcloneCopy.value;
  return {
    verifyMiBps: MEASURED.verifier,
    restoreMiBps: MEASURED.restore,
    gcpCopyMiBps: {
      name: 'Storage Transfer S3 → GCS', value: network, unit: 'MiB/s', measured: false,
      source: 'assumption volumes.assumptions.networkMiBps (no GCS emulator here, so Storage Transfer is not measured)',
    },
    azureCopyMiBps: {
      name: 'rclone copy S3 → Azure Blob', value: Math.min(network, MEASURED.rcloneCopy.value), unit: 'MiB/s', measured: !azureCapped,
      source: azureCapped
        ? `assumption volumes.assumptions.networkMiBps (${network} MiB/s), below the measured ${MEASURED.rcloneCopy.value} MiB/s (${MEASURED.rcloneCopy.source})`
        : `${MEASURED.rcloneCopy.source}, capped by volumes.assumptions.networkMiBps (${network} MiB/s)`,
    },
    pgDumpMiBps: { name: 'pg_dump -Fc', value: v.assumptions.pgDumpMiBps, unit: 'MiB/s', measured: false, source: 'assumption volumes.assumptions.pgDumpMiBps' },
    listKeysPerSecond: { name: 'listing keys', value: v.assumptions.listKeysPerSecond, unit: 'keys/s', measured: false, source: 'assumption volumes.assumptions.listKeysPerSecond' },
  };
}

/** Seconds to move `gib` GiB at `mibps` MiB/s. */
export function secondsFor(gib: number, mibps: number): number {
  return (gib * 1024) / mibps;
}
