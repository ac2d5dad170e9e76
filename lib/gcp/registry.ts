/**
 * Images live on this side: a CMEK Artifact Registry docker repository that
 * holds the application and jobs images, so that a failover never pulls from
 * AWS. Tags are immutable: a mirrored release can't be overwritten.
 *
 * The nightly mirror from the primary's ECR is `ImageMirrorJob`; this construct
 * provides its writer identity (`<system>-images` service account,
 * `artifactregistry.writer` on this repository only) and exposes its `uniqueId`,
 * which the AWS ECR-pull role for GCP trusts. `imageDigestUri` looks a plan
 * image up at plan time and returns it BY DIGEST, so Cloud Run deploys exactly
 * the mirrored bytes (and `terraform plan` fails, naming the image, when it
 * was never mirrored).
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { DataGoogleArtifactRegistryDockerImage } from '@cdktf/provider-google/lib/data-google-artifact-registry-docker-image';
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
  /** The mirror identity's write grant on the repository (the mirror job depends on it). */
  public readonly mirrorWriteGrant?: ArtifactRegistryRepositoryIamMember;
  /** `<location>-docker.pkg.dev/<project>/<repository>` */
  public readonly registryPath: string;
  private readonly props: ImageRegistryProps;
  private readonly digestLookups = new Map<string, DataGoogleArtifactRegistryDockerImage>();

  constructor(scope: Construct, id: string, props: ImageRegistryProps) {
    super(scope, id);
    this.props = props;
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
      this.mirrorWriteGrant = new ArtifactRegistryRepositoryIamMember(this, 'MirrorWrites', {
        project: props.projectId, location: props.location, repository: this.repository.name, role: 'roles/artifactregistry.writer', member: this.mirrorServiceAccount.member,
      });
    }
  }

  /** The URI of `repo:tag` (an image from the plan) in this repository. */
  public imageUri(image: string): string {
    return `${this.registryPath}/${image}`;
  }

  /**
   * `repo:tag` resolved to `<registry>/<repo>@sha256:<digest>` by the `google_artifact_registry_docker_image`
   * data source (its `self_link`), read at plan time from this repository. One lookup per image.
   */
  public imageDigestUri(image: string): string {
    if (!/^[a-z0-9]+(?:[._/-][a-z0-9]+)*:[\w][\w.-]{0,127}$/.test(image)) {
      invalid(this, 'image', image, 'is not <repository>:<tag> (no registry host, no digest).', 'give a plan image such as "contact-centre-app:2.3.1".');
    }
    let lookup = this.digestLookups.get(image);
    if (!lookup) {
      lookup = new DataGoogleArtifactRegistryDockerImage(this, `Digest-${image.replace(/[^A-Za-z0-9]/g, '_')}`, {
        project: this.props.projectId, location: this.props.location, repositoryId: this.props.repositoryId, imageName: image,
        dependsOn: [this.repository],
      });
      this.digestLookups.set(image, lookup);
    }
    return lookup.selfLink;
  }
}
