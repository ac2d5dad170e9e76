/**
 * Images live on this side: a CMEK Artifact Registry docker repository that
 * holds the application and jobs images, so that a failover never pulls from
 * AWS. Tags are immutable: a mirrored release can't be overwritten.
 *
 * The nightly mirror from the primary's ECR is documented, not provisioned
 * (docs/gcp.md "Image mirror"): this construct provides the writer identity
 * (`<system>-images` service account, `artifactregistry.writer` on this
 * repository only) and exposes its `uniqueId`, which the AWS reader role must
 * trust for the mirror to run keyless.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import * as naming from '../core/naming';
import { invalid, STATEFUL } from './common';

export interface ImageRegistryProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The repository's region (same as the key's). */
  readonly location: string;
  /** The repository ID (use `naming.gcpArtifactRepositoryId(plan)`). */
  readonly repositoryId: string;
  /** The Cloud KMS key ID (CMEK). */
  readonly kmsKeyName: string;
  /**
   * The IAM grants that let the Artifact Registry service agent use the key; the repository depends on them.
   * @default []
   */
  readonly kmsGrants?: ITerraformDependable[];
  /**
   * ID of the service account that mirrors images in (use `naming.gcpServiceAccountId(plan, 'images')`).
   * @default - no mirror identity is created
   */
  readonly mirrorServiceAccountId?: string;
  /**
   * Labels of the repository.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** CMEK Artifact Registry docker repository with immutable tags and a mirror-writer identity. */
export class ImageRegistry extends Construct {
  public readonly repository: ArtifactRegistryRepository;
  public readonly mirrorServiceAccount?: ServiceAccount;
  /** `<location>-docker.pkg.dev/<project>/<repository>` */
  public readonly registryPath: string;

  constructor(scope: Construct, id: string, props: ImageRegistryProps) {
    super(scope, id);
    if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(props.repositoryId)) {
      invalid(this, 'repositoryId', props.repositoryId, 'is not an Artifact Registry repository ID.', 'use 1-63 lowercase letters, digits and hyphens, starting with a letter (naming.gcpArtifactRepositoryId(plan)).');
    }
    this.registryPath = `${props.location}-docker.pkg.dev/${props.projectId}/${props.repositoryId}`;
    this.repository = new ArtifactRegistryRepository(this, 'Repository', {
      project: props.projectId,
      location: props.location,
      repositoryId: props.repositoryId,
      format: 'DOCKER',
      mode: 'STANDARD_REPOSITORY',
      description: 'Counterparty: the application and jobs images, mirrored from the primary so that a failover never pulls from AWS.',
      kmsKeyName: props.kmsKeyName,
      dockerConfig: { immutableTags: true },
      labels: props.labels,
      dependsOn: props.kmsGrants,
      lifecycle: STATEFUL,
    });
    if (props.mirrorServiceAccountId !== undefined) {
      const violation = naming.nameRuleViolation(props.mirrorServiceAccountId, naming.NAME_RULES.gcpServiceAccountId);
      if (violation) invalid(this, 'mirrorServiceAccountId', props.mirrorServiceAccountId, `is invalid: ${violation}.`, 'use naming.gcpServiceAccountId(plan, "images") with a shorter system name.');
      this.mirrorServiceAccount = new ServiceAccount(this, 'MirrorServiceAccount', {
        project: props.projectId, accountId: props.mirrorServiceAccountId, displayName: 'Counterparty image mirror (ECR → Artifact Registry)',
      });
      new ArtifactRegistryRepositoryIamMember(this, 'MirrorWrites', {
        project: props.projectId, location: props.location, repository: this.repository.name, role: 'roles/artifactregistry.writer', member: this.mirrorServiceAccount.member,
      });
    }
  }

  /** The URI of `repo:tag` (an image from the plan) in this repository. */
  public imageUri(image: string): string {
    return `${this.registryPath}/${image}`;
  }
}
