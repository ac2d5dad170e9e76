import { Annotations, GcsBackend, LocalBackend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { resolvePlan, type ProtectionPlan } from '../lib/core';
import { gcpLabels } from '../lib/gcp/common';
import { GcpCounterparty } from '../lib/gcp/counterparty';
import { GoogleBetaProvider } from '../lib/gcp/google-beta';

/**
 * Where Terraform keeps this stack's state: a GCS bucket, encrypted with a Cloud KMS key you hold
 * (CMEK). The state holds the generated database password, so it never belongs on a laptop.
 */
export interface GcpStateBackend {
  /** The state bucket (create it beforehand, outside this stack: versioning on, uniform access, in the plan's region). */
  readonly bucket: string;
  /**
   * Object prefix of the state.
   * @default 'counterparty-gcp'
   */
  readonly prefix?: string;
  /** The Cloud KMS key that encrypts the state: `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`. */
  readonly kmsEncryptionKey: string;
}

export interface GcpCounterpartyStackProps {
  /** The protection plan; its `counterparties.gcp` is rendered. */
  readonly plan: ProtectionPlan;
  /**
   * The remote, encrypted state backend (GCS + CMEK). Give it for every real deployment.
   * @default - the local backend (`terraform.<stack>.tfstate` in the working directory), for the offline
   *            reference synth only; synthesis then warns that the state would hold secrets in plaintext
   */
  readonly stateBackend?: GcpStateBackend;
}

const KMS_KEY_RE = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/**
 * The state backend from the environment, for apps (bin/counterparty.ts):
 * `CP_GCP_STATE_BUCKET`, `CP_GCP_STATE_KMS_KEY` and optional `CP_GCP_STATE_PREFIX`;
 * `undefined` when `CP_GCP_STATE_BUCKET` is unset (the offline reference synth).
 */
export function gcpStateBackendFromEnv(env: NodeJS.ProcessEnv = process.env): GcpStateBackend | undefined {
  if (!env.CP_GCP_STATE_BUCKET) return undefined;
  return { bucket: env.CP_GCP_STATE_BUCKET, prefix: env.CP_GCP_STATE_PREFIX || undefined, kmsEncryptionKey: env.CP_GCP_STATE_KMS_KEY ?? '' };
}

/**
 * The reference GCP counterparty stack: the `google` provider (and the
 * `google-beta` provider for service agents) on the plan's project and region,
 * with the plan's tags as default labels, the state backend, and `GcpCounterparty`.
 */
export class GcpCounterpartyStack extends TerraformStack {
  public readonly counterparty: GcpCounterparty;

  constructor(scope: Construct, id: string, props: GcpCounterpartyStackProps) {
    super(scope, id);
    const plan = resolvePlan(props.plan);
    const gcp = plan.counterparties.gcp;
    if (!gcp) throw new Error(`${this.node.path}: plan.counterparties.gcp = (not set) is required for the GCP stack. Fix: add counterparties.gcp: { projectId, region } to the plan.`);
    this.configureBackend(id, props.stateBackend);
    const defaultLabels = { ...gcpLabels(plan.tags), 'managed-by': 'counterparty' };
    const google = new GoogleProvider(this, 'google', { project: gcp.projectId, region: gcp.region });
    const beta = new GoogleBetaProvider(this, 'google-beta', { project: gcp.projectId, region: gcp.region });
    // Set as an override: cdktf snake-cases map keys in provider blocks, which would turn `cost-centre` into `cost_centre`.
    for (const provider of [google, beta]) provider.addOverride('default_labels', defaultLabels);
    this.counterparty = new GcpCounterparty(this, 'Counterparty', { plan: props.plan });
  }

  private configureBackend(id: string, backend: GcpStateBackend | undefined): void {
    if (!backend) {
      new LocalBackend(this, { path: `terraform.${id}.tfstate` });
      Annotations.of(this).addWarning(`${this.node.path}: stateBackend is not set, so Terraform state (which holds the generated database password) is written in plaintext to terraform.${id}.tfstate. `
        + 'This is for the offline reference synth only. Fix: pass stateBackend { bucket, kmsEncryptionKey } (or set CP_GCP_STATE_BUCKET and CP_GCP_STATE_KMS_KEY) for any real deployment.');
      return;
    }
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(backend.bucket)) {
      throw new Error(`${this.node.path}: stateBackend.bucket = ${JSON.stringify(backend.bucket)} is not a GCS bucket name. Fix: give the name of the state bucket (lowercase letters, digits, -, _ and .).`);
    }
    if (!KMS_KEY_RE.test(backend.kmsEncryptionKey ?? '')) {
      throw new Error(`${this.node.path}: stateBackend.kmsEncryptionKey = ${JSON.stringify(backend.kmsEncryptionKey)} is not a Cloud KMS key: the state holds secrets and must be encrypted with a key you hold. `
        + 'Fix: give projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k> (CP_GCP_STATE_KMS_KEY).');
    }
    new GcsBackend(this, { bucket: backend.bucket, prefix: backend.prefix ?? id, kmsEncryptionKey: backend.kmsEncryptionKey });
  }
}
