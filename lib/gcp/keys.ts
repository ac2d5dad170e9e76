/**
 * The counterparty's own Cloud KMS key: a key ring and a rotating key in the
 * plan's region, used as CMEK by the vault bucket, the standby database and the
 * image registry. Only the Google service agents that encrypt on this
 * project's behalf get `cryptoKeyEncrypterDecrypter`, on the key alone.
 * Nothing here depends on AWS KMS: restoring needs only this key.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { DataGoogleStorageProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-project-service-account';
import { KmsCryptoKey } from '@cdktf/provider-google/lib/kms-crypto-key';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';
import { KmsKeyRing } from '@cdktf/provider-google/lib/kms-key-ring';
import * as naming from '../core/naming';
import { daysToDuration, invalid, STATEFUL } from './common';
import { googleBetaProviderFor, ProjectServiceIdentity } from './google-beta';

/** The role the service agents get on the key, and nothing broader. */
export const ENCRYPTER_DECRYPTER = 'roles/cloudkms.cryptoKeyEncrypterDecrypter';

/** Service agents (besides Cloud Storage's) that use the key by default. */
export const DEFAULT_KEY_SERVICE_AGENTS: readonly string[] = ['sqladmin.googleapis.com', 'artifactregistry.googleapis.com'];

export interface CounterpartyKeysProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The key ring's location: the region of every resource the key protects (CMEK keys must be co-located). */
  readonly location: string;
  /** Key ring name (use `naming.gcpKeyRingName(plan)`). Key rings can't be deleted: choose it once. */
  readonly keyRingName: string;
  /** Key name (use `naming.gcpKeyName(plan)`). */
  readonly keyName: string;
  /**
   * Automatic rotation period, in days (1-365). Old versions stay enabled, so old objects stay readable.
   * @default 90
   */
  readonly rotationDays?: number;
  /**
   * How long a destroyed key version stays restorable, in days (1-120).
   * @default 30
   */
  readonly destroyScheduledDays?: number;
  /**
   * Grant the project's Cloud Storage service agent encrypt/decrypt on the key (needed for a CMEK bucket).
   * @default true
   */
  readonly grantStorageServiceAgent?: boolean;
  /**
   * APIs whose service agents (created with `google_project_service_identity`, google-beta) get encrypt/decrypt on the key.
   * @default ['sqladmin.googleapis.com', 'artifactregistry.googleapis.com']
   */
  readonly serviceAgents?: readonly string[];
  /**
   * Labels of the key.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** A Cloud KMS key ring and rotating key, with encrypt/decrypt granted to the service agents that use it. */
export class CounterpartyKeys extends Construct {
  public readonly keyRing: KmsKeyRing;
  public readonly key: KmsCryptoKey;
  /** The key's ID (`projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`), for `kmsKeyName` fields. */
  public readonly keyId: string;
  /** The IAM grants on the key: CMEK resources must depend on them. */
  public readonly grants: ITerraformDependable[] = [];
  /** The Cloud Storage service agent, when granted. */
  public readonly storageServiceAgent?: DataGoogleStorageProjectServiceAccount;

  constructor(scope: Construct, id: string, props: CounterpartyKeysProps) {
    super(scope, id);
    const rotationDays = props.rotationDays ?? 90;
    if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > 365) {
      invalid(this, 'rotationDays', rotationDays, 'is not a whole number of days from 1 to 365.', 'give e.g. 90 (Cloud KMS requires at least one day).');
    }
    const destroyDays = props.destroyScheduledDays ?? 30;
    if (!Number.isInteger(destroyDays) || destroyDays < 1 || destroyDays > 120) {
      invalid(this, 'destroyScheduledDays', destroyDays, 'is not a whole number of days from 1 to 120.', 'give e.g. 30.');
    }
    const ringViolation = naming.nameRuleViolation(props.keyRingName, naming.NAME_RULES.gcpKeyRing);
    if (ringViolation) invalid(this, 'keyRingName', props.keyRingName, `is invalid: ${ringViolation}.`, 'use naming.gcpKeyRingName(plan) with a shorter system name.');

    this.keyRing = new KmsKeyRing(this, 'KeyRing', { project: props.projectId, location: props.location, name: props.keyRingName, lifecycle: STATEFUL });
    this.key = new KmsCryptoKey(this, 'Key', {
      keyRing: this.keyRing.id,
      name: props.keyName,
      purpose: 'ENCRYPT_DECRYPT',
      rotationPeriod: daysToDuration(rotationDays),
      destroyScheduledDuration: daysToDuration(destroyDays),
      versionTemplate: { algorithm: 'GOOGLE_SYMMETRIC_ENCRYPTION', protectionLevel: 'SOFTWARE' },
      labels: props.labels,
      lifecycle: STATEFUL,
    });
    this.keyId = this.key.id;

    if (props.grantStorageServiceAgent ?? true) {
      this.storageServiceAgent = new DataGoogleStorageProjectServiceAccount(this, 'StorageServiceAgent', { project: props.projectId });
      this.grants.push(new KmsCryptoKeyIamMember(this, 'StorageAgentUsesKey', { cryptoKeyId: this.key.id, role: ENCRYPTER_DECRYPTER, member: this.storageServiceAgent.member }));
    }
    const agents = props.serviceAgents ?? DEFAULT_KEY_SERVICE_AGENTS;
    if (agents.length > 0) {
      const beta = googleBetaProviderFor(this, props.projectId, props.location);
      for (const service of agents) {
        if (!/^[a-z0-9.-]+\.googleapis\.com$/.test(service)) invalid(this, 'serviceAgents', service, 'is not an API service name.', 'give names such as "sqladmin.googleapis.com".');
        const short = service.split('.')[0];
        const agent = new ProjectServiceIdentity(this, `${short}-agent`, { service, project: props.projectId, provider: beta });
        this.grants.push(new KmsCryptoKeyIamMember(this, `${short}-agent-uses-key`, { cryptoKeyId: this.key.id, role: ENCRYPTER_DECRYPTER, member: agent.member }));
      }
    }
  }
}
