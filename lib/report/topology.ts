/**
 * The plan's topology as a graph (every dataset, the export bucket and backup
 * vault, each counterparty's vault, jobs, standby, keys and identities), and
 * two renderings of it: Mermaid (for the markdown) and Graphviz DOT (rendered
 * to SVG with `dot`). Names come from lib/core/naming, as the stacks use them.
 */
import { naming, type Dataset, type ResolvedPlan } from '../core';

export type Cloud = 'aws' | 'gcp' | 'azure';
export type EdgeKind = 'data' | 'key' | 'identity';

export interface TopologyNode {
  readonly id: string;
  readonly cloud: Cloud;
  readonly label: string;
  readonly role: 'dataset' | 'bucket' | 'vault' | 'job' | 'standby' | 'key' | 'identity' | 'registry';
}

export interface TopologyEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly kind: EdgeKind;
}

export interface Topology {
  readonly clusters: readonly { readonly cloud: Cloud; readonly label: string }[];
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

/** A node ID safe in Mermaid and DOT: letters, digits and underscores. */
export function nodeId(...parts: string[]): string {
  return parts.join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

function datasetSource(d: Dataset): string {
  switch (d.kind) {
    case 's3Bucket': return `S3 bucket ${d.bucketName}${d.prefix ? `/${d.prefix}` : ''}`;
    case 'dynamoDbTable': return `DynamoDB table ${d.tableName}`;
    case 'postgres': return `${d.engine} ${d.identifier}/${d.databaseName}`;
    case 'connectInstance': return `Connect instance ${d.instanceId}`;
  }
}

const EXPORTER: Record<Dataset['kind'], string> = {
  s3Bucket: 'sync-objects (Fargate): new blobs',
  dynamoDbTable: 'ExportTableToPointInTime (full, nightly)',
  postgres: 'pg_dump -Fc (Fargate)',
  connectInstance: 'Connect crawler (Lambda)',
};

class Builder {
  readonly nodes: TopologyNode[] = [];
  readonly edges: TopologyEdge[] = [];
  node(id: string, cloud: Cloud, role: TopologyNode['role'], label: string): string {
    this.nodes.push({ id, cloud, role, label });
    return id;
  }
  edge(from: string, to: string, kind: EdgeKind, label: string): void {
    this.edges.push({ from, to, kind, label });
  }
}

function addAws(b: Builder, plan: ResolvedPlan): { exportBucket: string; ecr: string } {
  const exportBucket = b.node('aws_export', 'aws', 'bucket', `export bucket ${naming.exportBucketName(plan)} (Object Lock ${plan.immutability.mode}, ${plan.retentionDays} d)`);
  const vault = b.node('aws_backup_vault', 'aws', 'vault', `backup vault ${naming.backupVaultName(plan)} (Vault Lock)`);
  const pipeline = b.node('aws_pipeline', 'aws', 'job', `nightly pipeline (Step Functions, ${plan.schedule.cron} ${plan.schedule.timeZone})`);
  for (const d of plan.datasets) {
    const id = b.node(nodeId('ds', d.name), 'aws', 'dataset', `${d.name}: ${datasetSource(d)}`);
    b.edge(id, exportBucket, 'data', EXPORTER[d.kind]);
    if (d.kind !== 'connectInstance') b.edge(id, vault, 'data', 'AWS Backup, nightly');
  }
  b.edge(pipeline, exportBucket, 'data', 'manifest + index, written last');
  b.edge(b.node('aws_key_export', 'aws', 'key', `KMS key ${naming.exportKeyAlias(plan)}`), exportBucket, 'key', 'SSE-KMS');
  b.edge(b.node('aws_key_vault', 'aws', 'key', `KMS key ${naming.backupVaultKeyAlias(plan)}`), vault, 'key', 'encrypts recovery points');
  const ecr = b.node('aws_ecr', 'aws', 'registry', `ECR ${naming.imageRepository(plan.images.jobs)}`);
  b.edge(ecr, pipeline, 'data', 'jobs image');
  return { exportBucket, ecr };
}

function addGcp(b: Builder, plan: ResolvedPlan, aws: { exportBucket: string; ecr: string }): void {
  const gcp = plan.counterparties.gcp;
  if (!gcp) return;
  const subject = gcp.storageTransferSubjectId;
  const role = b.node('aws_role_gcp', 'aws', 'identity', subject ? `IAM role ${naming.gcpReaderRoleName(plan)}` : 'GCP reader role: not created (no storageTransferSubjectId yet)');
  const transfer = b.node('gcp_transfer', 'gcp', 'job', 'Storage Transfer job (overwriteWhen NEVER)');
  const agent = b.node('gcp_transfer_sa', 'gcp', 'identity', `Storage Transfer service account${subject ? ` (subject ${subject})` : ''}`);
  const vault = b.node('gcp_vault', 'gcp', 'vault', `vault bucket ${naming.gcsVaultBucketName(plan, gcp.projectId)} (retention ${plan.retentionDays} d${plan.immutability.lock ? ', locked' : ''})`);
  const verify = b.node('gcp_verify', 'gcp', 'job', 'Cloud Run job verify-and-restore');
  const standby = b.node('gcp_standby', 'gcp', 'standby', `standby (${gcp.mode}): Cloud SQL + Cloud Run service`);
  const key = b.node('gcp_key', 'gcp', 'key', `Cloud KMS key ${naming.gcpKeyRingName(plan)}/${naming.gcpKeyName(plan)}`);
  const registry = b.node('gcp_registry', 'gcp', 'registry', `Artifact Registry ${naming.gcpArtifactRepositoryId(plan)}`);
  b.edge(aws.exportBucket, transfer, 'data', 'nightly copy after the export window');
  b.edge(transfer, vault, 'data', 'blobs, exports, then the manifest');
  b.edge(transfer, agent, 'identity', 'runs as');
  b.edge(agent, role, 'identity', `assumes (accounts.google.com:sub = ${subject ?? 'unset'})`);
  b.edge(role, aws.exportBucket, 'identity', 'may list and read');
  b.edge(vault, verify, 'data', 'verify new blobs + scrub');
  b.edge(verify, standby, 'data', 'restore the newest verified night');
  b.edge(key, vault, 'key', 'CMEK');
  b.edge(key, standby, 'key', 'CMEK');
  b.edge(aws.ecr, registry, 'data', 'images mirrored at release');
  b.edge(registry, verify, 'data', 'jobs and application images');
}

function addAzure(b: Builder, plan: ResolvedPlan, aws: { exportBucket: string; ecr: string }): void {
  const az = plan.counterparties.azure;
  if (!az) return;
  const principal = az.copyIdentityPrincipalId;
  const role = b.node('aws_role_azure', 'aws', 'identity', principal ? `IAM role ${naming.azureReaderRoleName(plan)}` : 'Azure reader role: not created (no copyIdentityPrincipalId yet)');
  const copy = b.node('azure_copy', 'azure', 'job', 'Container Apps job copy (rclone, never overwrites)');
  const identity = b.node('azure_identity', 'azure', 'identity', `managed identity ${naming.azureJobsIdentityName(plan)}${principal ? ` (principal ${principal})` : ''}`);
  const vault = b.node('azure_vault', 'azure', 'vault', `vault container in ${naming.azureStorageAccountName(plan)} (immutability ${plan.retentionDays} d${plan.immutability.lock ? ', locked' : ''})`);
  const verify = b.node('azure_verify', 'azure', 'job', 'Container Apps job verify-and-restore');
  const standby = b.node('azure_standby', 'azure', 'standby', `standby (${az.mode}): Flexible Server + Container App`);
  const key = b.node('azure_key', 'azure', 'key', `Key Vault ${naming.azureKeyVaultName(plan)} key`);
  const registry = b.node('azure_registry', 'azure', 'registry', `Container Registry ${naming.azureContainerRegistryName(plan)}`);
  b.edge(aws.exportBucket, copy, 'data', 'nightly copy after the export window');
  b.edge(copy, vault, 'data', 'blobs, exports, then the manifest');
  b.edge(copy, identity, 'identity', 'runs as');
  b.edge(identity, role, 'identity', `assumes (Entra token, sub = ${principal ?? 'unset'}, aud = ${az.tokenAudience})`);
  b.edge(role, aws.exportBucket, 'identity', 'may list and read');
  b.edge(vault, verify, 'data', 'verify new blobs + scrub');
  b.edge(verify, standby, 'data', 'restore the newest verified night');
  b.edge(key, vault, 'key', 'CMK');
  b.edge(key, standby, 'key', 'CMK');
  b.edge(aws.ecr, registry, 'data', 'images imported at release');
  b.edge(registry, verify, 'data', 'jobs and application images');
}

export function buildTopology(plan: ResolvedPlan): Topology {
  const b = new Builder();
  const aws = addAws(b, plan);
  addGcp(b, plan, aws);
  addAzure(b, plan, aws);
  const clusters: { cloud: Cloud; label: string }[] = [{ cloud: 'aws', label: `AWS primary ${plan.primary.region} (account ${plan.primary.account})` }];
  if (plan.counterparties.gcp) clusters.push({ cloud: 'gcp', label: `GCP counterparty ${plan.counterparties.gcp.region} (project ${plan.counterparties.gcp.projectId})` });
  if (plan.counterparties.azure) clusters.push({ cloud: 'azure', label: `Azure counterparty ${plan.counterparties.azure.location} (subscription ${plan.counterparties.azure.subscriptionId})` });
  return { clusters, nodes: b.nodes, edges: b.edges };
}

/** Text safe inside a quoted Mermaid label. */
function mermaidText(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'));
}

export function toMermaid(t: Topology): string {
  const lines = ['flowchart LR'];
  for (const c of t.clusters) {
    lines.push(`  subgraph ${c.cloud}["${mermaidText(c.label)}"]`);
    for (const n of t.nodes.filter((x) => x.cloud === c.cloud)) {
      const [open, close] = n.role === 'dataset' || n.role === 'bucket' || n.role === 'vault' ? ['[(', ')]'] : n.role === 'key' || n.role === 'identity' ? ['{{', '}}'] : ['[', ']'];
      lines.push(`    ${n.id}${open}"${mermaidText(n.label)}"${close}`);
    }
    lines.push('  end');
  }
  for (const e of t.edges) {
    const arrow = e.kind === 'data' ? '-->' : '-.->';
    lines.push(`  ${e.from} ${arrow}|"${mermaidText(e.label)}"| ${e.to}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Text safe inside a double-quoted DOT string. */
function dotText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

const CLUSTER_COLOUR: Record<Cloud, string> = { aws: '#fff4e5', gcp: '#e8f0fe', azure: '#e5f1fb' };
const SHAPE: Record<TopologyNode['role'], string> = {
  dataset: 'cylinder', bucket: 'cylinder', vault: 'cylinder', job: 'box', standby: 'box3d', key: 'hexagon', identity: 'hexagon', registry: 'folder',
};

export function toDot(t: Topology): string {
  const lines = ['digraph counterparty {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10, shape=box];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const c of t.clusters) {
    lines.push(`  subgraph cluster_${c.cloud} {`, `    label="${dotText(c.label)}";`, '    style=filled;', `    color="${CLUSTER_COLOUR[c.cloud]}";`);
    for (const n of t.nodes.filter((x) => x.cloud === c.cloud)) lines.push(`    ${n.id} [label="${dotText(n.label)}", shape=${SHAPE[n.role]}];`);
    lines.push('  }');
  }
  for (const e of t.edges) {
    lines.push(`  ${e.from} -> ${e.to} [label="${dotText(e.label)}"${e.kind === 'data' ? '' : `, style=dashed${e.kind === 'key' ? ', color="#a05a00"' : ', color="#2a5db0"'}`}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
