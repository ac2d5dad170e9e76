/**
 * Validation of a protection plan, at synth time. Every problem names the
 * field, the value and the fix; all problems are reported at once.
 *
 * One function per section of the plan, in lib/core/validation/; this file
 * only runs them in order and fills in the defaults.
 */
import { parseCron } from './cron';
import { PlanValidationError, type PlanIssue } from './errors';
import * as naming from './naming';
import { DEFAULTS, type Dataset, type ProtectionPlan, type ResolvedPlan } from './plan';
import { checkRegion, IssueCollector } from './validation/collector';
import { checkAzureCounterparty } from './validation/azure';
import { checkDatasets } from './validation/datasets';
import { checkImages, checkNotifications, checkTags } from './validation/extras';
import { checkGcpCounterparty } from './validation/gcp';
import { checkImmutability } from './validation/immutability';
import { checkDerivedNames } from './validation/names';
import { checkPrimary, checkResidency, checkSystem } from './validation/primary';
import { checkRpoAndRetention, checkSchedule, checkVerification } from './validation/schedule';
import { checkTokens } from './validation/tokens';

export { GCP_SERVICE_ACCOUNT_ROLES } from './validation/names';

const PLAN_FIELDS = ['system', 'primary', 'datasets', 'schedule', 'rpoHours', 'alarmGraceHours', 'retentionDays', 'immutability', 'verification', 'counterparties', 'residency', 'notifications', 'images', 'tags'];

type Fields = Record<string, unknown>;

/** `counterparties`: at least one, never AWS; then each provider's own section. */
function checkCounterparties(c: IssueCollector, plan: Fields, allowed: readonly string[] | undefined, systemPlan: ProtectionPlan | undefined): void {
  if (!c.object('counterparties', plan.counterparties, 'give counterparties: { gcp: {...} } and/or { azure: {...} }.')) return;
  const cp = plan.counterparties;
  for (const key of Object.keys(cp)) {
    if (key === 'aws') {
      c.error('counterparties.aws', cp.aws, 'is on the same provider as the primary (AWS); it would not survive losing AWS.', 'use a gcp or azure counterparty.');
    } else if (key !== 'gcp' && key !== 'azure') {
      c.error(`counterparties.${key}`, cp[key], 'is not a counterparty provider Counterparty supports.', 'use gcp and/or azure.');
    }
  }
  if (cp.gcp === undefined && cp.azure === undefined) {
    c.error('counterparties', cp, 'names no counterparty; without one nothing survives losing AWS.', 'add counterparties.gcp and/or counterparties.azure.');
  }
  if (c.object('counterparties.gcp', cp.gcp, 'give { projectId, region }.', true)) checkGcpCounterparty(c, cp.gcp, allowed, systemPlan);
  if (c.object('counterparties.azure', cp.azure, 'give { subscriptionId, tenantId, location }.', true)) checkAzureCounterparty(c, cp.azure, allowed);
}

/** All problems with a plan, errors and warnings. Never throws. */
export function validatePlan(input: ProtectionPlan): PlanIssue[] {
  const c = new IssueCollector();
  const plan = input as unknown as Fields;
  if (!c.object('plan', plan, 'pass a ProtectionPlan object.')) return c.issues;
  c.unknownKeys('', plan, PLAN_FIELDS);
  checkTokens(c, plan);
  const systemOk = checkSystem(c, plan);
  const primaryOk = checkPrimary(c, plan);
  const allowed = checkResidency(c, plan);
  if (primaryOk) checkRegion(c, 'aws', 'primary.region', (plan.primary as { region: string }).region, allowed);
  // Names can be derived once system and primary are valid.
  const pseudo = systemOk && primaryOk ? input : undefined;
  checkDatasets(c, plan, pseudo ? naming.exportBucketName(pseudo) : '');
  const cron = checkSchedule(c, plan);
  checkRpoAndRetention(c, plan, cron);
  checkVerification(c, plan);
  checkImmutability(c, plan);
  checkCounterparties(c, plan, allowed, systemOk ? (pseudo ?? ({ system: plan.system } as ProtectionPlan)) : undefined);
  checkNotifications(c, plan);
  checkImages(c, plan);
  checkTags(c, plan);
  if (pseudo) checkDerivedNames(c, pseudo);
  return c.issues;
}

/** One dataset with its defaults filled in. */
function resolveDataset(d: Dataset): Dataset {
  const allowEmpty = d.allowEmpty ?? false;
  switch (d.kind) {
    case 'dynamoDbTable': return { ...d, allowEmpty, pointInTimeRecovery: d.pointInTimeRecovery ?? true };
    case 'postgres': return { ...d, allowEmpty, port: d.port ?? 5432, engineVersion: d.engineVersion ?? DEFAULTS.postgresEngineVersion, extensions: d.extensions ?? [] };
    default: return { ...d, allowEmpty };
  }
}

/**
 * Validates a plan and fills in every default. Throws {@link PlanValidationError}
 * listing every error; warnings are returned on the resolved plan.
 */
export function resolvePlan(plan: ProtectionPlan): ResolvedPlan & { readonly warnings: readonly PlanIssue[] } {
  const issues = validatePlan(plan);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    const system = plan && typeof plan === 'object' && typeof plan.system === 'string' ? plan.system : '(unnamed)';
    throw new PlanValidationError(system, errors);
  }
  const cp = plan.counterparties;
  return {
    system: plan.system,
    primary: { account: plan.primary.account, region: plan.primary.region, ...(plan.primary.jobsNetwork ? { jobsNetwork: plan.primary.jobsNetwork } : {}) },
    datasets: plan.datasets.map(resolveDataset),
    schedule: {
      cron: parseCron(plan.schedule?.cron ?? DEFAULTS.cron).expression,
      timeZone: plan.schedule?.timeZone ?? DEFAULTS.timeZone,
      exportWindowHours: plan.schedule?.exportWindowHours ?? DEFAULTS.exportWindowHours,
    },
    rpoHours: plan.rpoHours ?? DEFAULTS.rpoHours,
    alarmGraceHours: plan.alarmGraceHours ?? DEFAULTS.alarmGraceHours,
    retentionDays: plan.retentionDays,
    immutability: {
      mode: plan.immutability?.mode ?? 'governance',
      acknowledgeComplianceIsIrreversible: plan.immutability?.acknowledgeComplianceIsIrreversible ?? false,
      lock: plan.immutability?.lock ?? false,
      acknowledgeLockIsIrreversible: plan.immutability?.acknowledgeLockIsIrreversible ?? false,
      vaultLockChangeableForHours: plan.immutability?.vaultLockChangeableForHours ?? DEFAULTS.vaultLockChangeableForHours,
    },
    verification: { scrubCycleNights: plan.verification?.scrubCycleNights ?? DEFAULTS.scrubCycleNights },
    counterparties: {
      ...(cp.gcp ? { gcp: { ...cp.gcp, mode: cp.gcp.mode ?? 'standby' } } : {}),
      ...(cp.azure ? {
        azure: {
          ...cp.azure,
          mode: cp.azure.mode ?? 'standby',
          tokenAudience: naming.azureFederationAudience(plan),
          allowedIpRanges: cp.azure.allowedIpRanges ?? [],
        },
      } : {}),
    },
    residency: plan.residency,
    notifications: { emails: plan.notifications?.emails ?? [] },
    images: {
      application: plan.images?.application ?? DEFAULTS.applicationImage,
      jobs: plan.images?.jobs ?? DEFAULTS.jobsImage,
      keepReleases: plan.images?.keepReleases ?? DEFAULTS.keepReleases,
    },
    tags: plan.tags ?? {},
    warnings: issues.filter((i) => i.severity === 'warning'),
  };
}
