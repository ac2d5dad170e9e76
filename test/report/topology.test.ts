/**
 * The topology diagram: the SVG rendered by Graphviz `dot` has a node for every
 * dataset and a cluster for each counterparty; the Mermaid block parses with
 * mermaid's own parser (test/report/mermaid-parse.mjs, under jsdom).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { resolvePlan, type ProtectionPlan } from '../../lib/core';
import { buildTopology, toDot, toMermaid } from '../../lib/report';
import { nodeId } from '../../lib/report/topology';
import { renderSvg } from '../../lib/report/svg';
import { referencePlan } from '../../stacks/reference-plan';

interface SvgGroup { readonly id: string; readonly className: string; readonly title: string; readonly texts: string[] }

/** Every <g> of the SVG with its class, <title> and the text of its <text> children. */
function svgGroups(svg: string): SvgGroup[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (name) => name === 'g' || name === 'text' }).parse(svg);
  const out: SvgGroup[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const groups = (node as { g?: unknown[] }).g ?? [];
    for (const g of groups as Record<string, unknown>[]) {
      const texts = ((g.text as unknown[]) ?? []).map((t) => (typeof t === 'object' ? String((t as Record<string, unknown>)['#text'] ?? '') : String(t)));
      out.push({ id: String(g.id ?? ''), className: String(g.class ?? ''), title: String(g.title ?? ''), texts });
      walk(g);
    }
  };
  walk(doc.svg);
  return out;
}

function parseMermaid(text: string): { ok: boolean; diagramType?: string; error?: string } {
  const stdout = execFileSync(process.execPath, [join(__dirname, 'mermaid-parse.mjs')], { input: text, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

describe('topology SVG (Graphviz dot)', () => {
  const plan = resolvePlan(referencePlan);
  const groups = svgGroups(renderSvg(toDot(buildTopology(plan))));
  const nodes = groups.filter((g) => g.className === 'node');
  const clusters = groups.filter((g) => g.className === 'cluster');

  test.each(plan.datasets.map((d) => [d.name]))('has a node for dataset %s, labelled with its name', (name) => {
    const node = nodes.find((n) => n.title === nodeId('ds', name));
    expect(node).toBeDefined();
    expect(node!.texts.join(' ')).toContain(`${name}:`);
  });

  test('has a cluster for each counterparty (and the primary), each with its vault', () => {
    const byTitle = new Map(clusters.map((c) => [c.title, c.texts.join(' ')]));
    expect(byTitle.get('cluster_aws')).toContain('AWS primary eu-central-1');
    expect(byTitle.get('cluster_gcp')).toContain('GCP counterparty europe-west3');
    expect(byTitle.get('cluster_azure')).toContain('Azure counterparty germanywestcentral');
    expect(nodes.map((n) => n.title)).toEqual(expect.arrayContaining(['aws_export', 'gcp_vault', 'azure_vault', 'gcp_standby', 'azure_standby', 'gcp_key', 'azure_identity']));
  });

  test('a plan with only a GCP counterparty draws no Azure cluster', () => {
    const gcpOnly: ProtectionPlan = { ...referencePlan, counterparties: { gcp: referencePlan.counterparties.gcp } };
    const only = svgGroups(renderSvg(toDot(buildTopology(resolvePlan(gcpOnly))))).filter((g) => g.className === 'cluster').map((c) => c.title);
    expect(only.sort()).toEqual(['cluster_aws', 'cluster_gcp']);
  });

  test('a missing dot binary is a one-line error saying how to install it', () => {
    expect(() => renderSvg('digraph {}', '/nonexistent/dot')).toThrow(/^Graphviz `dot` is not available .*scripts\/ci-prereqs\.sh/);
  });
});

describe('topology Mermaid', () => {
  const plan = resolvePlan(referencePlan);
  const mermaid = toMermaid(buildTopology(plan));

  test('parses with mermaid\'s parser as a flowchart', () => {
    expect(parseMermaid(mermaid)).toEqual({ ok: true, diagramType: 'flowchart-v2' });
  });

  test('the parser check can fail: a broken edge label is refused', () => {
    const broken = mermaid.replace(/-->\|"([^"]*)"\|/, '-->|"$1| ');
    expect(broken).not.toBe(mermaid);
    expect(parseMermaid(broken).ok).toBe(false);
  });

  test('names every dataset, both counterparties, keys and identities', () => {
    for (const d of plan.datasets) expect(mermaid).toContain(`${nodeId('ds', d.name)}[("${d.name}:`);
    expect(mermaid).toContain('subgraph gcp["GCP counterparty');
    expect(mermaid).toContain('subgraph azure["Azure counterparty');
    expect(mermaid).toMatch(/azure_identity -\.->\|"assumes \(Entra token, sub = aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee, aud = api:\/\/acme-cc-aws-federation\)"\| aws_role_azure/);
    expect(mermaid).toMatch(/gcp_key -\.->\|"CMEK"\| gcp_vault/);
  });
});
