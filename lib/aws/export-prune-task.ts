import { Duration, Fn, Names, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULTS, planCron, type ProtectionPlan } from '../core';
import type { IImmutableExportBucket } from './immutable-export-bucket';
import { JOBS_CONTAINER_USER, type JobsImage, type JobsNetwork } from './nightly-export-pipeline';

/** The jobs CLI command this task runs (lib/runtime/prune.ts). */
export const PRUNE_COMMAND = 'prune';

/** Default of {@link ExportPruneTaskProps.graceDays}: the runtime's `PRUNE_GRACE_DAYS`. */
export const DEFAULT_PRUNE_GRACE_DAYS = 7;

/** Hours without a successful prune after which {@link ExportPruneTask.staleAlarm} fires (two daily runs missed or failed). */
export const PRUNE_STALE_HOURS = 48;

/** The ECS stop codes of a task that never ran its container to an exit code (image pull, ENI, secrets...). */
export const PRUNE_NOT_STARTED_STOP_CODES = ['TaskFailedToStart'] as const;

/** Properties of an {@link ExportPruneTask}. */
export interface ExportPruneTaskProps {
  /** The export bucket to prune (`CP_STORE=s3://<bucket>`). */
  readonly exportBucket: IImmutableExportBucket;
  /** The jobs image (its `prune` command). */
  readonly jobsImage: JobsImage;
  /** Where the task runs: private subnets with a route to S3, ECR and CloudWatch Logs. */
  readonly network: JobsNetwork;
  /** Failures (non-zero exit, a task that never started) and a prune that has not succeeded for 48 hours notify this topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * The ECS cluster to run on (the nightly pipeline's, in `PrimarySite`).
   * @default - a new cluster in the network's VPC
   */
  readonly cluster?: ecs.ICluster;
  /**
   * When the prune runs: an AWS cron expression. Pick a time after the nightly
   * export window (a night references its new blobs before its manifest exists;
   * see {@link pruneScheduleExpression}).
   * @default 'cron(0 8 * * ? *)'
   */
  readonly scheduleExpression?: string;
  /**
   * IANA time zone the cron is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Whether the schedule is enabled (the stale alarm exists only then).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Report only (`CP_PRUNE_DRY_RUN=true`): list what would be deleted, delete nothing.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Unreferenced blobs younger than this many days are kept (`CP_PRUNE_GRACE_DAYS`).
   * @default 7
   */
  readonly graceDays?: number;
  /**
   * Key that encrypts the task's log group. It must allow the CloudWatch Logs service.
   * @default - CloudWatch Logs' default encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * How long the task's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Task memory in MiB (the container's hard limit too). Prune holds one
   * 1/256 share of the referenced SHA-256s in memory at a time and spills the
   * rest to the task's ephemeral storage.
   * @default 2048
   */
  readonly memoryLimitMiB?: number;
}

/**
 * The export bucket's `prune` (format v2, lib/runtime/prune.ts): the jobs
 * image's `prune` command as an ECS Fargate task, started daily by an
 * EventBridge Scheduler schedule (run it on demand with `aws ecs run-task`:
 * the command and environment are in the task definition). It deletes every
 * version of a blob under `blobs/sha256/` that no night present in the bucket
 * references, once its Object Lock retention has expired and it is older
 * than the grace period. Its role may delete under `blobs/sha256/` only, and
 * an {@link ImmutableExportBucket} created in the same app lists it in its
 * bucket policy for that prefix only. A stopped task with a non-zero exit
 * code, a task that failed to start, and 48 hours without a successful run
 * notify the alarm topic.
 */
export class ExportPruneTask extends Construct {
  /** The task definition (command `prune`, its environment baked in). */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The cluster it runs on. */
  public readonly cluster: ecs.ICluster;
  /** The daily schedule. */
  public readonly schedule: scheduler.Schedule;
  /** The task's log group (one `counterparty.prune` line per run). */
  public readonly logGroup: logs.LogGroup;
  /** Notifies the topic when a prune task stops with a non-zero exit code or never started. */
  public readonly failureRule: events.Rule;
  /** Fires when no prune succeeded for {@link PRUNE_STALE_HOURS} hours (absent when the schedule is disabled). */
  public readonly staleAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ExportPruneTaskProps) {
    super(scope, id);
    const scheduleExpression = props.scheduleExpression ?? 'cron(0 8 * * ? *)';
    this.validate(props, scheduleExpression);
    const memoryLimitMiB = props.memoryLimitMiB ?? 2048;
    const vpc = props.cluster?.vpc ?? ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.network.vpcId,
      availabilityZones: props.network.availabilityZones ? [...props.network.availabilityZones] : Fn.getAzs(),
    });
    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: 1024, memoryLimitMiB, runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { encryptionKey: props.logKey, retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.RETAIN });
    this.taskDefinition.addVolume({ name: 'tmp' });
    const container = this.taskDefinition.addContainer('jobs', {
      image: ecs.ContainerImage.fromEcrRepository(props.jobsImage.repository, props.jobsImage.tag),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'prune' }),
      readonlyRootFilesystem: true,
      user: JOBS_CONTAINER_USER,
      memoryLimitMiB,
      command: [PRUNE_COMMAND],
      environment: {
        CP_STORE: `s3://${props.exportBucket.bucketName}`,
        AWS_REGION: Stack.of(this).region,
        ...(props.dryRun ? { CP_PRUNE_DRY_RUN: 'true' } : {}),
        ...(props.graceDays !== undefined ? { CP_PRUNE_GRACE_DAYS: String(props.graceDays) } : {}),
      },
    });
    // The spill files of referenced SHA-256s go to /tmp (the root filesystem is read-only).
    container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
    props.exportBucket.grantPrune(this.taskDefinition.taskRole);

    this.schedule = this.newSchedule(props, scheduleExpression);
    this.failureRule = new events.Rule(this, 'TaskFailed', {
      description: 'Counterparty: the export bucket prune task exited non-zero or never started',
      eventPattern: pruneFailurePattern(this.cluster.clusterArn, this.taskDefinition.family),
      targets: [new targets.SnsTopic(props.alarmTopic)],
    });
    if (props.enabled ?? true) this.staleAlarm = this.newStaleAlarm(props.alarmTopic);
  }

  private validate(props: ExportPruneTaskProps, scheduleExpression: string): void {
    if (!/^cron\(.+\)$/.test(scheduleExpression)) {
      throw new Error(`${this.node.path}: scheduleExpression is ${JSON.stringify(scheduleExpression)}; it must be an AWS cron expression. Fix: pass pruneScheduleExpression(plan), e.g. "cron(0 8 * * ? *)".`);
    }
    const grace = props.graceDays;
    if (grace !== undefined && !(Number.isInteger(grace) && grace >= 1)) {
      throw new Error(`${this.node.path}: graceDays is ${grace}; it must be a whole number of days >= 1 (a night references its new blobs before its manifest exists). Fix: leave it unset (${DEFAULT_PRUNE_GRACE_DAYS}) or pass a whole number of days.`);
    }
    if (props.network.subnetIds.length === 0) {
      throw new Error(`${this.node.path}: network.subnetIds is empty. Fix: pass the private subnets the nightly tasks use (jobsNetwork).`);
    }
    const mem = props.memoryLimitMiB;
    if (mem !== undefined && !(Number.isInteger(mem) && mem >= 2048 && mem <= 8192)) {
      throw new Error(`${this.node.path}: memoryLimitMiB is ${mem}; with 1 vCPU Fargate accepts 2048 to 8192 MiB. Fix: pass a whole number in that range.`);
    }
  }

  private newSchedule(props: ExportPruneTaskProps, scheduleExpression: string): scheduler.Schedule {
    const subnets = props.network.subnetIds.map((s, i) => {
      const subnet = ec2.Subnet.fromSubnetId(this, `Subnet${i}`, s);
      Validations.of(subnet).acknowledge({ id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId', reason: 'The subnet is only passed to ecs:RunTask; its route table is never read.' });
      return subnet;
    });
    const securityGroups = props.network.securityGroupIds.map((g, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, g, { mutable: false }));
    // Its own role (not the stack-wide singleton), so the construct carries everything it needs.
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Counterparty: starts the export bucket prune task',
    });
    return new scheduler.Schedule(this, 'Schedule', {
      description: 'Starts the Counterparty export bucket prune',
      schedule: scheduler.ScheduleExpression.expression(scheduleExpression, TimeZone.of(props.timeZone ?? 'UTC')),
      enabled: props.enabled ?? true,
      target: new schedulerTargets.EcsRunFargateTask(this.cluster, {
        taskDefinition: this.taskDefinition,
        vpcSubnets: { subnets },
        securityGroups,
        assignPublicIp: false,
        platformVersion: ecs.FargatePlatformVersion.LATEST,
        role,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
  }

  private newStaleAlarm(topic: sns.ITopic): cloudwatch.Alarm {
    const namespace = 'Counterparty/Prune';
    const metricName = `Succeeded-${Names.uniqueResourceName(this, { maxLength: 200 })}`;
    new logs.MetricFilter(this, 'SuccessLines', {
      logGroup: this.logGroup,
      filterPattern: logs.FilterPattern.all(logs.FilterPattern.stringValue('$.event', '=', 'counterparty.prune'), logs.FilterPattern.stringValue('$.result', '=', 'success')),
      metricNamespace: namespace,
      metricName,
      metricValue: '1',
    });
    const alarm = new cloudwatch.Alarm(this, 'NoSuccessfulPrune', {
      alarmDescription: `No export bucket prune succeeded in the last ${PRUNE_STALE_HOURS} hours (failed, never started, or not scheduled).`,
      metric: new cloudwatch.Metric({ namespace, metricName, statistic: 'Sum', period: Duration.hours(1) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: PRUNE_STALE_HOURS,
      datapointsToAlarm: PRUNE_STALE_HOURS,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(topic));
    alarm.addOkAction(new cwActions.SnsAction(topic));
    return alarm;
  }
}

/**
 * The ECS "Task State Change" pattern of a failed prune: a STOPPED task of the
 * prune task definition family on the cluster whose container exited non-zero,
 * or that stopped before any container ran (no exit code).
 */
export function pruneFailurePattern(clusterArn: string, family: string): events.EventPattern {
  return {
    source: ['aws.ecs'],
    detailType: ['ECS Task State Change'],
    detail: {
      clusterArn: [clusterArn],
      lastStatus: ['STOPPED'],
      taskDefinitionArn: [{ prefix: `${taskDefinitionArnPrefix(family)}` }],
      $or: [
        { containers: { exitCode: [{ 'anything-but': 0 }] } },
        { stopCode: [...PRUNE_NOT_STARTED_STOP_CODES] },
      ],
    },
  };
}

function taskDefinitionArnPrefix(family: string): string {
  return `arn:${Fn.ref('AWS::Partition')}:ecs:${Fn.ref('AWS::Region')}:${Fn.ref('AWS::AccountId')}:task-definition/${family}:`;
}

/**
 * The prune's daily schedule for a plan: the export's start time plus its
 * window (`schedule.exportWindowHours`), every day, in the plan's time zone
 * (pass `plan.schedule.timeZone` with it).
 */
export function pruneScheduleExpression(plan: Pick<ProtectionPlan, 'schedule'>): string {
  const cron = planCron(plan);
  const window = plan.schedule?.exportWindowHours ?? DEFAULTS.exportWindowHours;
  const hour = (cron.hour.values[0] + window) % 24;
  return `cron(${cron.minute.values[0]} ${hour} * * ? *)`;
}
