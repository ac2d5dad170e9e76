/**
 * The nightly image mirror: a Cloud Run job running the jobs CLI's `mirror` command
 * (lib/runtime/mirror.ts, skopeo) as the registry's mirror service account. It copies every image of
 * the plan, and the last `keepReleases` releases of each, from the primary's ECR into this project's
 * Artifact Registry, by digest, keyless: the job's Google ID token (audience
 * `naming.gcpImageMirrorTokenAudience(plan)`) is exchanged at AWS STS for the ECR-pull role
 * `naming.imageMirrorRoleArn(plan, 'gcp')`, which trusts exactly this service account's unique ID.
 * Nightly at the copy time, and on demand: `gcloud run jobs execute <name> --region <region> --wait`.
 */
import type { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { invalid } from './common';
import { ScheduledJob } from './scheduled-job';

/** The jobs CLI command this job runs. */
export const MIRROR_COMMAND = 'mirror';

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ECR_HOST_RE = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const IMAGE_RE = /^[a-z0-9]+(?:[._/-][a-z0-9]+)*:[\w][\w.-]{0,127}$/;

/** Docker's rule: a first path component with a `.` (or `localhost`) is a registry host. */
function hasRegistryHost(image: string): boolean {
  const first = image.split('/')[0];
  return image.includes('/') && (first.includes('.') || first === 'localhost');
}

export interface ImageMirrorJobProps {
  readonly projectId: string;
  readonly region: string;
  /** The Cloud Run job name (use `naming.gcpResourceName(plan, 'mirror')`). */
  readonly jobName: string;
  /** The jobs image, by digest, in this project's Artifact Registry. */
  readonly image: string;
  /** The mirror service account (`ImageRegistry.mirrorServiceAccount`): e-mail and `serviceAccount:` member. */
  readonly serviceAccountEmail: string;
  readonly serviceAccountMember: string;
  /** The primary's ECR registry host (`naming.ecrRegistryHost(plan)`). */
  readonly sourceRegistry: string;
  /** This project's registry path (`ImageRegistry.registryPath`). */
  readonly destinationRegistry: string;
  /** The plan's images, `repo:tag` each. */
  readonly images: readonly string[];
  /** Releases of each image to keep mirrored (plan `images.keepReleases`, 1-100). */
  readonly keepReleases: number;
  /** The AWS ECR-pull role (`naming.imageMirrorRoleArn(plan, 'gcp')`). */
  readonly roleArn: string;
  /** The primary's AWS region (STS and ECR). */
  readonly awsRegion: string;
  /** The audience of the Google ID token (`naming.gcpImageMirrorTokenAudience(plan)`). */
  readonly tokenAudience: string;
  /** Nightly, as a UTC 5-field cron (the composed counterparty uses the copy time). */
  readonly scheduleCronUtc: string;
  /**
   * Pause the nightly trigger (on demand still works). The composed counterparty pauses it while `mode` is
   * `active`: the primary's ECR is then presumed gone, and the images are already here.
   * @default false
   */
  readonly paused?: boolean;
  /**
   * Resources the job waits for (e.g. the registry write grant).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Labels of the job.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** The `mirror` Cloud Run job + its nightly schedule. */
export class ImageMirrorJob extends Construct {
  public readonly scheduled: ScheduledJob;

  constructor(scope: Construct, id: string, props: ImageMirrorJobProps) {
    super(scope, id);
    if (!ROLE_ARN_RE.test(props.roleArn)) invalid(this, 'roleArn', props.roleArn, 'is not an IAM role ARN.', "use naming.imageMirrorRoleArn(plan, 'gcp').");
    if (!ECR_HOST_RE.test(props.sourceRegistry)) invalid(this, 'sourceRegistry', props.sourceRegistry, 'is not an ECR registry host.', 'use naming.ecrRegistryHost(plan).');
    if (props.images.length === 0) invalid(this, 'images', props.images, 'is empty: there is nothing to mirror.', 'give the plan images (images.application, images.jobs).');
    for (const image of props.images) {
      if (!IMAGE_RE.test(image) || hasRegistryHost(image)) invalid(this, 'images', image, 'is not <repository>:<tag> (no registry host, no digest).', 'give plan images such as "contact-centre-app:2.3.1".');
    }
    if (!Number.isInteger(props.keepReleases) || props.keepReleases < 1 || props.keepReleases > 100) {
      invalid(this, 'keepReleases', props.keepReleases, 'must be a whole number from 1 to 100.', 'give the plan images.keepReleases (default 5).');
    }
    this.scheduled = new ScheduledJob(this, 'Mirror', {
      projectId: props.projectId,
      region: props.region,
      jobName: props.jobName,
      image: props.image,
      command: MIRROR_COMMAND,
      serviceAccountEmail: props.serviceAccountEmail,
      serviceAccountMember: props.serviceAccountMember,
      scheduleCronUtc: props.scheduleCronUtc,
      paused: props.paused,
      description: `Mirrors the plan's images (and the last ${props.keepReleases} releases) from ${props.sourceRegistry} into ${props.destinationRegistry}, by digest.`,
      env: [
        { name: 'CP_MIRROR_SOURCE', value: props.sourceRegistry },
        { name: 'CP_MIRROR_DESTINATION', value: props.destinationRegistry },
        { name: 'CP_IMAGES', value: props.images.join(',') },
        { name: 'CP_KEEP_RELEASES', value: String(props.keepReleases) },
        { name: 'CP_MIRROR_AUTH', value: 'gcp' },
        { name: 'CP_MIRROR_TOKEN_AUDIENCE', value: props.tokenAudience },
        { name: 'AWS_ROLE_ARN', value: props.roleArn },
        { name: 'AWS_REGION', value: props.awsRegion },
      ],
      dependsOn: props.dependsOn,
      labels: props.labels,
    });
  }
}
