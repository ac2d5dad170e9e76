/**
 * The reload's Connect step: applies the night's exported configuration to the target instance with
 * `applyConnectConfiguration` (lib/runtime/connect-apply.ts: dependency order, ARNs remapped,
 * idempotent by name, dry-run plan, a report of what cannot move). Prompt audio is staged in the
 * target's staging bucket, where CreatePrompt imports it from.
 */
import { ConnectClient } from '@aws-sdk/client-connect';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { naming } from '../../core';
import { applyConnectConfiguration, connectSourceFromStore } from '../connect-apply';
import type { ConnectLike } from '../exporters/connect';
import { progress } from '../log';
import { s3ClientFromEnv } from '../stores/s3';
import { hexToBase64, sha256Hex } from '../util';
import type { ConnectApplier } from './index';

export interface ConnectApplierOptions {
  readonly client: ConnectLike;
  /** Where prompt audio is staged for CreatePrompt; without it prompts are reported as cannot-move. */
  readonly staging?: { readonly s3: S3Client; readonly bucket: string };
}

export function connectApplier(opts: ConnectApplierOptions): ConnectApplier {
  return async ({ source, night, dataset, instanceId, dryRun }) => {
    const prefix = naming.datasetNightPrefix(night, dataset);
    const staging = opts.staging;
    const report = await applyConnectConfiguration({
      client: opts.client,
      targetInstanceId: instanceId,
      source: connectSourceFromStore(source, prefix),
      dryRun,
      log: (line) => progress(`reload connect: ${line}`),
      uploadPromptAudio: staging ? async (prompt, fileName, audio) => {
        const key = `reload/${night}/${dataset}/prompts/${fileName}`;
        await staging.s3.send(new PutObjectCommand({ Bucket: staging.bucket, Key: key, Body: audio, ChecksumAlgorithm: 'SHA256', ChecksumSHA256: hexToBase64(sha256Hex(audio)) }));
        return `s3://${staging.bucket}/${key}`;
      } : undefined,
    });
    // Every document of an applied type is on the target, or listed as what cannot move (prompts without a
    // staging bucket, say): nothing is dropped silently.
    const counts = Object.entries(report.counts);
    const unmovable = (type: string): number => report.cannotMove.filter((c) => c.type === type).length;
    return {
      documents: counts.reduce((n, [, c]) => n + c.applied, 0),
      created: report.created.length,
      existing: report.existing.length,
      cannotMove: report.cannotMove.map((c) => `${c.type} ${c.name}: ${c.reason}; ${c.action}`),
      problems: dryRun ? [] : counts.filter(([type, c]) => c.applied + unmovable(type) < c.source).map(([type, c]) => `${type}: ${c.applied} of ${c.source} on the target, ${unmovable(type)} listed as cannot move`),
    };
  };
}

/** The applier for the CLI: Connect in `AWS_REGION` with the SDK's adaptive retry (Connect's API limits are per second). */
export function connectApplierFromEnv(env: NodeJS.ProcessEnv, stagingBucket?: string): ConnectApplier {
  const client = new ConnectClient({ region: env.AWS_REGION, retryMode: 'adaptive', maxAttempts: 10 });
  return connectApplier({ client, staging: stagingBucket ? { s3: s3ClientFromEnv(env), bucket: stagingBucket } : undefined });
}
