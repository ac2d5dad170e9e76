/**
 * A Cloud Run v2 Job running one command of the jobs image, started nightly by Cloud Scheduler
 * (which calls the Cloud Run Admin API `jobs:run` with the job's own service account's OAuth token,
 * the same pattern as `VerifyRestoreJob`), and runnable on demand with
 * `gcloud run jobs execute <name> --region <region> --wait`.
 *
 * The image is given by digest (`ImageRegistry.imageDigestUri`), so a revision never changes
 * unless the mirrored bytes do. Secrets the job reads must be listed in `dependsOn` together with
 * their accessor grants, so the first execution never races them.
 */
import { Token, type ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudRunV2Job, type CloudRunV2JobTemplateTemplateContainersEnv } from '@cdktf/provider-google/lib/cloud-run-v2-job';
import { CloudRunV2JobIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-job-iam-member';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { parseCron } from '../core/cron';
import { invalid } from './common';

/** Artifact Registry image URIs: `<location>-docker.pkg.dev/...` (a token from the digest lookup is accepted). */
export function isArtifactRegistryImage(image: string): boolean {
  return Token.isUnresolved(image) || /^[a-z0-9-]+-docker\.pkg\.dev\//.test(image);
}

/**
 * The checks every scheduled Cloud Run job of the counterparty shares: the image comes from this
 * project's Artifact Registry, the schedule is a daily cron, the timeout is 60 s to 24 h. Returns the
 * timeout (the default when not given); throws naming the prop, the value and the fix.
 */
export function checkJobProps(scope: Construct, props: { readonly image: string; readonly scheduleCronUtc: string; readonly timeoutSeconds?: number },
  fixes: { readonly defaultTimeoutSeconds: number; readonly imageFix: string; readonly cronFix: string }): number {
  if (!isArtifactRegistryImage(props.image)) {
    invalid(scope, 'image', props.image, 'is not an Artifact Registry image; a failover must never pull from outside this project.', fixes.imageFix);
  }
  try {
    const c = parseCron(props.scheduleCronUtc);
    if (c.minute.values.length !== 1 || c.hour.values.length !== 1) throw new Error('must fire once a day');
  } catch (e) {
    invalid(scope, 'scheduleCronUtc', props.scheduleCronUtc, `is not a daily 5-field cron (${(e as Error).message}).`, fixes.cronFix);
  }
  const timeout = props.timeoutSeconds ?? fixes.defaultTimeoutSeconds;
  if (!Number.isInteger(timeout) || timeout < 60 || timeout > 86_400) invalid(scope, 'timeoutSeconds', timeout, 'is not from 60 to 86400 seconds.', `give e.g. ${fixes.defaultTimeoutSeconds}.`);
  return timeout;
}

export interface ScheduledJobProps {
  /** The GCP project ID. */
  readonly projectId: string;
  /** The region of the job and its schedule. */
  readonly region: string;
  /** The Cloud Run job name. */
  readonly jobName: string;
  /** The jobs image in this project's Artifact Registry, by digest (never a registry outside GCP). */
  readonly image: string;
  /** The jobs CLI command (`mirror`, `prune`, ...). */
  readonly command: string;
  /** The command's environment (docs/runtime.md). */
  readonly env: CloudRunV2JobTemplateTemplateContainersEnv[];
  /** The job's service account e-mail (it also signs the scheduler's call). */
  readonly serviceAccountEmail: string;
  /** `serviceAccount:<email>` of the same account. */
  readonly serviceAccountMember: string;
  /** When to run, as a UTC 5-field cron that fires once a day. */
  readonly scheduleCronUtc: string;
  /** What the schedule does, for its description. */
  readonly description: string;
  /**
   * Pause the nightly trigger (the job stays runnable on demand).
   * @default false
   */
  readonly paused?: boolean;
  /**
   * Task timeout, in seconds (60-86400).
   * @default 3600
   */
  readonly timeoutSeconds?: number;
  /**
   * Memory limit of the container.
   * @default '1Gi'
   */
  readonly memory?: string;
  /**
   * Resources the job must wait for (secret versions and their accessor grants, IAM grants).
   * @default []
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Labels of the job.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** Cloud Run v2 Job (one jobs-CLI command) + Cloud Scheduler nightly trigger + run.invoker for its own account. */
export class ScheduledJob extends Construct {
  public readonly job: CloudRunV2Job;
  public readonly trigger: CloudSchedulerJob;

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const timeout = checkJobProps(this, props, { defaultTimeoutSeconds: 3600, imageFix: 'give ImageRegistry.imageDigestUri(plan.images.jobs).', cronFix: 'give e.g. "0 3 * * *".' });

    this.job = new CloudRunV2Job(this, 'Job', {
      project: props.projectId,
      location: props.region,
      name: props.jobName,
      labels: props.labels,
      template: {
        taskCount: 1,
        parallelism: 1,
        template: {
          serviceAccount: props.serviceAccountEmail,
          maxRetries: 1,
          timeout: `${timeout}s`,
          containers: [{ image: props.image, args: [props.command], env: props.env, resources: { limits: { cpu: '1', memory: props.memory ?? '1Gi' } } }],
        },
      },
      dependsOn: props.dependsOn,
    });
    const invoke = new CloudRunV2JobIamMember(this, 'SchedulerRunsJob', {
      project: props.projectId, location: props.region, name: this.job.name, role: 'roles/run.invoker', member: props.serviceAccountMember,
    });
    this.trigger = new CloudSchedulerJob(this, 'Schedule', {
      project: props.projectId,
      region: props.region,
      name: `${props.jobName}-nightly`,
      description: props.description,
      schedule: props.scheduleCronUtc,
      paused: props.paused ?? false,
      timeZone: 'Etc/UTC',
      attemptDeadline: '180s',
      retryConfig: { retryCount: 3, minBackoffDuration: '60s', maxBackoffDuration: '600s' },
      httpTarget: {
        httpMethod: 'POST',
        uri: `https://run.googleapis.com/v2/projects/${props.projectId}/locations/${props.region}/jobs/${props.jobName}:run`,
        oauthToken: { serviceAccountEmail: props.serviceAccountEmail, scope: 'https://www.googleapis.com/auth/cloud-platform' },
      },
      dependsOn: [invoke],
    });
  }
}
