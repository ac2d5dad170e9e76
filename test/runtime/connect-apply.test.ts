/**
 * Applying an exported Connect configuration to another instance (issue 15): against an in-memory
 * Connect that, like Connect, refuses flow content pointing at resources it does not have.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyConnectConfiguration, connectSourceFromDocuments, connectSourceFromStore, STUB_CONTENT, type ConnectConfigurationSource } from '../../lib/runtime/connect-apply';
import { exportConnectConfiguration } from '../../lib/runtime/exporters/connect';
import { FixtureConnectClient, InMemoryConnectTarget, type ConnectFixture } from '../../lib/runtime/exporters/connect-fixture';
import { FileStore } from '../../lib/runtime/stores/file';

const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'connect-instance.json'), 'utf8')) as ConnectFixture;
const PREFIX = 'nights/2026-11-01/connect/';
const TARGET = 'bbbbbbbb-1111-4222-8333-444455556666';
const noSleep = async (): Promise<void> => undefined;
const upload = async (_name: string, file: string): Promise<string> => `s3://target-prompts/${file}`;
let dir: string;
let source: ConnectConfigurationSource;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cp-connect-apply-'));
  const store = new FileStore(dir);
  await exportConnectConfiguration({ client: new FixtureConnectClient(fixture), instanceId: fixture.instanceId, store, prefix: PREFIX, retry: { sleep: noSleep } });
  source = connectSourceFromStore(store, PREFIX); // the real export layout
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function target(options: { failAfterCreates?: number } = {}): InMemoryConnectTarget {
  const t = new InMemoryConnectTarget(TARGET, options);
  t.seed('securityProfiles', 'security-profile', 'Admin'); // a new instance comes with Admin
  return t;
}
const apply = (client: InMemoryConnectTarget, dryRun = false) => applyConnectConfiguration({ client, targetInstanceId: TARGET, source, dryRun, uploadPromptAudio: upload, retry: { sleep: noSleep } });
const byName = (t: InMemoryConnectTarget, collection: string, name: string) => t.list(collection).find((r) => r.Name === name)!;

test('the created flow references the NEW queue, prompt and module; nothing of the source instance is left in it', async () => {
  const t = target();
  const report = await apply(t);
  const flow = byName(t, 'flows', 'Inbound main');
  const content = String(flow.input.Content);
  expect(content).toContain(byName(t, 'queues', 'Sales').Arn);
  expect(content).toContain(byName(t, 'prompts', 'Welcome').Arn);
  expect(content).toContain(`"FlowModuleId":"${byName(t, 'modules', 'Authenticate caller').Id}"`);
  expect(content).not.toContain(fixture.instanceId);
  expect(content).not.toContain('111122223333');
  expect(report.remapped).toContainEqual({ type: 'contact-flows', name: 'Inbound main', references: 3 });
  // ids in inputs are remapped too: queue → hours, quick connect → queue + flow, user → profiles
  expect(byName(t, 'queues', 'Sales').input.HoursOfOperationId).toBe(byName(t, 'hours', 'Office hours').Id);
  const qc = byName(t, 'quickConnects', 'To billing').input.QuickConnectConfig as { QueueConfig: { QueueId: string; ContactFlowId: string } };
  expect(qc.QueueConfig).toEqual({ QueueId: byName(t, 'queues', 'Billing').Id, ContactFlowId: flow.Id });
  const agent1 = byName(t, 'users', 'agent1').input;
  expect(agent1.RoutingProfileId).toBe(byName(t, 'routingProfiles', 'Generalist').Id);
  expect(agent1.SecurityProfileIds).toEqual([byName(t, 'securityProfiles', 'Agent').Id]);
  expect(agent1.Password).toBeUndefined();
  expect(t.associations.queueQuickConnects.get(byName(t, 'queues', 'Sales').Id)).toEqual(new Set([byName(t, 'quickConnects', 'To billing').Id]));
  // dependency order: hours before queues before prompts before modules before flows ... users last
  const order = t.sent.filter((c) => c.startsWith('Create')).map((c) => c.replace(/^Create|Command$/g, ''));
  expect([...new Set(order)]).toEqual(['HoursOfOperation', 'Queue', 'Prompt', 'ContactFlowModule', 'ContactFlow', 'RoutingProfile', 'SecurityProfile', 'QuickConnect', 'User']);
  expect(report.existing).toEqual([expect.objectContaining({ type: 'security-profiles', name: 'Admin' })]); // used, not replaced
  for (const [type, c] of Object.entries(report.counts)) expect([type, c.applied]).toEqual([type, c.source]);
  expect(report.counts.users).toEqual({ source: 4, applied: 4 });
});

test('what cannot move is reported: phone numbers (with the flow to associate), passwords, Lambda/Lex, storage, types not applied', async () => {
  const t = target();
  const report = await apply(t);
  const phones = report.cannotMove.filter((c) => c.type === 'phone-numbers');
  expect(phones.map((p) => p.name)).toEqual(['+493012345670', '+493012345671']);
  expect(phones[0].action).toContain(`associate it with target flow ${byName(t, 'flows', 'Inbound main').Id}`);
  expect(report.cannotMove).toContainEqual(expect.objectContaining({ type: 'users', reason: expect.stringContaining('passwords are never exported') }));
  for (const type of ['lex-bots', 'lambda-functions', 'instance-storage-configs', 'agent-statuses', 'task-templates', 'rules', 'views', 'predefined-attributes']) {
    expect(report.cannotMove.map((c) => c.type)).toContain(type);
  }
  expect(report.plan.filter((l) => l.startsWith('cannot move')).length).toBe(report.cannotMove.length);
});

test('a dry run prints the change plan and creates nothing', async () => {
  const t = target();
  const lines: string[] = [];
  const report = await applyConnectConfiguration({ client: t, targetInstanceId: TARGET, source, dryRun: true, uploadPromptAudio: async () => { throw new Error('dry run must not upload'); }, log: (l) => lines.push(l) });
  expect(t.creates).toBe(0);
  expect(t.sent.filter((c) => !/^List/.test(c))).toEqual([]);
  expect(lines).toContain('create flow Inbound main');
  expect(lines).toContain('exists security profile Admin (' + byName(t, 'securityProfiles', 'Admin').Id + ')');
  expect(report.created.length).toBeGreaterThan(15);
  expect(report.dryRun).toBe(true);
});

test('a second run creates nothing new; a run killed halfway completes on the next run without duplicates', async () => {
  const clean = target();
  const first = await apply(clean);
  const creates = clean.creates;
  const again = await apply(clean);
  expect(clean.creates).toBe(creates);
  expect(again.created).toEqual([]);
  expect(again.existing.length).toBe(first.created.length + first.existing.length);

  const crashed = target({ failAfterCreates: 6 });
  await expect(apply(crashed)).rejects.toThrow('simulated crash');
  expect(crashed.creates).toBe(6);
  crashed.options.failAfterCreates = undefined;
  const resumed = await apply(crashed);
  expect(resumed.existing.length).toBe(6 + 1); // + Admin
  expect(crashed.creates).toBe(creates);
  for (const [collection, items] of crashed.collections) expect(items.map((r) => r.Name).sort()).toEqual(clean.list(collection).map((r) => r.Name).sort());
});

test('a flow that points at a flow created after it gets a stub first, then its real content with the new ARN', async () => {
  const arn = (id: string) => `arn:aws:connect:eu-central-1:111122223333:instance/${fixture.instanceId}/contact-flow/${id}`;
  const A = '00000000-0000-4000-8000-00000000a001';
  const B = '00000000-0000-4000-8000-00000000b002';
  const content = (next: string) => JSON.stringify({ Version: '2019-10-30', StartAction: 'x', Actions: [{ Identifier: 'x', Type: 'TransferToFlow', Parameters: { ContactFlowId: next }, Transitions: {} }] });
  const docs = {
    instance: { Id: fixture.instanceId },
    'contact-flows': [
      { Id: A, Arn: arn(A), Name: 'A first', Type: 'CONTACT_FLOW', Content: content(arn(B)) },
      { Id: B, Arn: arn(B), Name: 'B second', Type: 'CONTACT_FLOW', Content: JSON.stringify({ Version: '2019-10-30', StartAction: 'y', Actions: [] }) },
    ],
  };
  const t = new InMemoryConnectTarget(TARGET);
  const report = await applyConnectConfiguration({ client: t, targetInstanceId: TARGET, source: connectSourceFromDocuments(docs) });
  const a = byName(t, 'flows', 'A first');
  expect(String(a.input.Content)).toBe(content(byName(t, 'flows', 'B second').Arn));
  expect(t.sent).toContain('UpdateContactFlowContentCommand');
  expect(report.remapped).toContainEqual({ type: 'contact-flows', name: 'A first', references: 1 });
  expect(report.cannotMove).toEqual([]);
  // a resumed run that finds A still a stub finishes it; a real flow is never overwritten
  a.input.Content = STUB_CONTENT;
  byName(t, 'flows', 'B second').input.Content = '{"edited":"by a person"}';
  await applyConnectConfiguration({ client: t, targetInstanceId: TARGET, source: connectSourceFromDocuments(docs) });
  expect(String(a.input.Content)).toBe(content(byName(t, 'flows', 'B second').Arn));
  expect(byName(t, 'flows', 'B second').input.Content).toBe('{"edited":"by a person"}');
});

test('without a place for prompt audio, prompts and the flows that play them are reported, not created broken', async () => {
  const t = target();
  const report = await applyConnectConfiguration({ client: t, targetInstanceId: TARGET, source, retry: { sleep: noSleep } });
  expect(t.list('prompts')).toEqual([]);
  expect(report.cannotMove).toContainEqual(expect.objectContaining({ type: 'prompts', name: 'Welcome', reason: expect.stringContaining('uploadPromptAudio') }));
  expect(report.cannotMove).toContainEqual(expect.objectContaining({ type: 'contact-flows', name: 'Inbound main', reason: expect.stringContaining('/prompt/00000000-0000-4000-8000-000000000401') }));
  expect(t.list('flows').map((f) => f.Name)).not.toContain('Inbound main');
  expect(t.list('flows').map((f) => f.Name)).toContain('After hours');
  expect(report.counts['contact-flows']).toEqual({ source: 3, applied: 2 }); // the gap shows in the counts too
});

test('a routing profile with 12 queues gets all 12 (10 at create, 2 associated); a queue\'s outbound flow is set once the flow exists', async () => {
  const src = `arn:aws:connect:eu-central-1:111122223333:instance/${fixture.instanceId}`;
  const id = (n: number) => `00000000-0000-4000-8000-0000000c${String(n).padStart(4, '0')}`;
  const hours = { HoursOfOperationId: id(99), HoursOfOperationArn: `${src}/operating-hours/${id(99)}`, Name: 'H', TimeZone: 'UTC', Config: [] };
  const flow = { Id: id(98), Arn: `${src}/contact-flow/${id(98)}`, Name: 'Outbound whisper', Type: 'CONTACT_FLOW', Content: '{"Version":"2019-10-30","StartAction":"a","Actions":[]}' };
  const queues = Array.from({ length: 12 }, (_, i) => ({
    QueueId: id(i), QueueArn: `${src}/queue/${id(i)}`, Name: `Q${i}`, HoursOfOperationId: id(99),
    OutboundCallerConfig: i === 0 ? { OutboundCallerIdName: 'Acme', OutboundFlowId: id(98), OutboundCallerIdNumberId: id(97) } : undefined,
  }));
  const profile = {
    RoutingProfileId: id(50), RoutingProfileArn: `${src}/routing-profile/${id(50)}`, Name: 'Big', DefaultOutboundQueueId: id(0), MediaConcurrencies: [{ Channel: 'VOICE', Concurrency: 1 }],
    Queues: queues.map((q, i) => ({ QueueId: q.QueueId, Channel: 'VOICE', Priority: i + 1, Delay: 0 })),
  };
  const t = new InMemoryConnectTarget(TARGET);
  const docs = { instance: { Id: fixture.instanceId }, 'hours-of-operation': [hours], queues, 'contact-flows': [flow], 'routing-profiles': [profile] };
  const report = await applyConnectConfiguration({ client: t, targetInstanceId: TARGET, source: connectSourceFromDocuments(docs) });
  const rp = byName(t, 'routingProfiles', 'Big');
  expect((rp.input.QueueConfigs as unknown[]).length).toBe(10);
  expect(t.associations.routingProfileQueues.get(rp.Id)!.map((c) => c.QueueId).sort()).toEqual(t.list('queues').map((q) => q.Id).sort());
  expect((byName(t, 'queues', 'Q0').input.OutboundCallerConfig as { OutboundFlowId: string }).OutboundFlowId).toBe(byName(t, 'flows', 'Outbound whisper').Id);
  expect(report.cannotMove).toContainEqual(expect.objectContaining({ type: 'queues', name: 'Q0', reason: expect.stringContaining('outbound caller ID number') }));
  // a second run adds nothing (associations are only added when missing)
  await applyConnectConfiguration({ client: t, targetInstanceId: TARGET, source: connectSourceFromDocuments(docs) });
  expect(t.associations.routingProfileQueues.get(rp.Id)!).toHaveLength(12);
});
