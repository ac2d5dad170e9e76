/**
 * Infrastructure ⇄ runtime: the restorer puts each postgres dataset into the database the verify job
 * names in CP_PG_DATABASES, and the counterparty provisions that same database, under the name it has
 * on the primary, so the standby application finds its data where it looked for it before failover.
 */
import { Testing } from 'cdktf';
import { naming, type PostgresDataset, type ProtectionPlan } from '../../lib/core';
import { parsePgDatabases } from '../../lib/runtime/restorer';
import { AzureCounterpartyStack } from '../../stacks/azure-counterparty-stack';
import { GcpCounterpartyStack } from '../../stacks/gcp-counterparty-stack';
import { referencePlan } from '../../stacks/reference-plan';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const plan: ProtectionPlan = {
  ...referencePlan,
  datasets: referencePlan.datasets.map((d) => (d.kind === 'postgres' ? { ...d, name: 'crm-eu', databaseName: 'crm_production' } : d)),
};
const pg = plan.datasets.find((d): d is PostgresDataset => d.kind === 'postgres')!;

function envOf(container: Json): Record<string, string> {
  return Object.fromEntries(container.env.map((e: Json) => [e.name, e.value ?? '(secret)']));
}

test('the contract value maps each postgres dataset to its primary database name', () => {
  expect(naming.standbyDatabasesEnv(plan.datasets)).toBe('crm-eu=crm_production');
  expect(parsePgDatabases(naming.standbyDatabasesEnv(plan.datasets))).toEqual({ 'crm-eu': 'crm_production' });
});

test('GCP: the verify job restores into the database the standby provisions', () => {
  const gcp: Json = JSON.parse(Testing.synth(new GcpCounterpartyStack(Testing.app(), 'g', { plan })));
  const job = Object.values(gcp.resource.google_cloud_run_v2_job as Record<string, Json>).find((j) => envOf(j.template.template.containers[0]).CP_PG_DATABASES !== undefined);
  expect(job).toBeDefined();
  const env = envOf(job.template.template.containers[0]);
  expect(parsePgDatabases(env.CP_PG_DATABASES)).toEqual({ [pg.name]: pg.databaseName });
  const databases = Object.values(gcp.resource.google_sql_database as Record<string, Json>).map((d) => d.name);
  expect(databases).toContain(pg.databaseName);
});

test('Azure: the verify job restores into the database the flexible server provisions', () => {
  const az: Json = JSON.parse(Testing.synth(new AzureCounterpartyStack(Testing.app(), 'a', { plan })));
  const job = Object.values(az.resource.azurerm_container_app_job as Record<string, Json>).find((j) => j.name === naming.azureResourceName(plan, 'caj', 'verify'));
  const env = envOf(job.template.container[0]);
  expect(parsePgDatabases(env.CP_PG_DATABASES)).toEqual({ [pg.name]: pg.databaseName });
  const databases = Object.values(az.resource.azurerm_postgresql_flexible_server_database as Record<string, Json>).map((d) => d.name);
  expect(databases).toContain(pg.databaseName);
});
