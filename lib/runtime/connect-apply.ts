/**
 * Applies an exported Amazon Connect configuration (lib/runtime/exporters/connect.ts) to a target
 * instance: the Connect part of `reload` (issue 15, docs/connect.md "Rebuild").
 *
 * - Dependency order: hours, queues, prompts, flow modules, flows, routing profiles, security
 *   profiles, quick connects, users (USER quick connects after the users they point at).
 * - References are remapped from the source instance to the target's resources: ids in the
 *   inputs (queue → hours, routing profile → queues, user → routing/security profiles, quick
 *   connect → queue/flow/user), and ARNs and ids embedded in flow and module content. A flow that
 *   points at a flow or module created later is created with a stub and updated once it exists.
 * - Idempotent and resumable: every resource is looked up by name in the target first; one that
 *   exists is used as it is (never updated or replaced), so a re-run after a crash continues where
 *   it stopped and never duplicates. Associations are only added, never removed.
 * - A dry run lists the target and prints the change plan; it creates nothing.
 * - Anything that can't move (phone numbers, passwords, storage, Lambda/Lex associations, types
 *   this version does not create) is listed in `cannotMove` with what to do by hand.
 */
import {
  ListHoursOfOperationsCommand, CreateHoursOfOperationCommand, ListQueuesCommand, CreateQueueCommand, DescribeQueueCommand,
  UpdateQueueOutboundCallerConfigCommand, ListQueueQuickConnectsCommand, AssociateQueueQuickConnectsCommand, ListPromptsCommand,
  CreatePromptCommand, ListContactFlowModulesCommand, CreateContactFlowModuleCommand, DescribeContactFlowModuleCommand,
  UpdateContactFlowModuleContentCommand, ListContactFlowsCommand, CreateContactFlowCommand, DescribeContactFlowCommand,
  UpdateContactFlowContentCommand, ListRoutingProfilesCommand, CreateRoutingProfileCommand, ListRoutingProfileQueuesCommand,
  AssociateRoutingProfileQueuesCommand, ListSecurityProfilesCommand, CreateSecurityProfileCommand, ListQuickConnectsCommand,
  CreateQuickConnectCommand, ListUsersCommand, CreateUserCommand,
} from '@aws-sdk/client-connect';
import { sendWithRetry, type ConnectLike, type RetryOptions } from './exporters/connect';
import { ObjectNotFoundError, type ObjectStore } from './stores/types';

type Doc = Record<string, unknown>;
type CommandCtor = new (input: never) => unknown;

/** Reads an exported configuration: one document list per resource type, and prompt audio. */
export interface ConnectConfigurationSource {
  /** The documents of `<type>.json` ([] when the type was not exported). */
  documents(type: string): Promise<Doc[]>;
  /** A prompt's audio by its `AudioFile.key` (relative to the export prefix). */
  audio(key: string): Promise<Buffer>;
}

/** A source over one night's Connect export in an object store (`prefix` = the dataset's night prefix). */
export function connectSourceFromStore(store: ObjectStore, prefix: string): ConnectConfigurationSource {
  const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    async documents(type) {
      let bytes: Buffer;
      try {
        bytes = await store.getBytes(`${p}${type}.json`);
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return [];
        throw err;
      }
      const value = JSON.parse(bytes.toString('utf8')) as unknown;
      return Array.isArray(value) ? (value as Doc[]) : value ? [value as Doc] : [];
    },
    audio: (key) => store.getBytes(`${p}${key}`),
  };
}

/** A source over documents in memory (tests, or JSON already read). */
export function connectSourceFromDocuments(docs: Readonly<Record<string, unknown>>, audio: Readonly<Record<string, Buffer>> = {}): ConnectConfigurationSource {
  return {
    documents: async (type) => {
      const v = docs[type];
      return Array.isArray(v) ? (v as Doc[]) : v ? [v as Doc] : [];
    },
    audio: async (key) => {
      if (!audio[key]) throw new Error(`prompt audio ${key} not in the source`);
      return audio[key];
    },
  };
}

export interface ApplyConnectOptions {
  readonly client: ConnectLike;
  readonly targetInstanceId: string;
  readonly source: ConnectConfigurationSource;
  /** List the target and return the plan; create nothing. @default false */
  readonly dryRun?: boolean;
  /**
   * Puts a prompt's audio where the target instance can read it and returns the S3 URI for
   * CreatePrompt (Connect imports prompts from S3). @default undefined: prompts (and the flows
   * that play them) are reported in cannotMove
   */
  readonly uploadPromptAudio?: (promptName: string, fileName: string, audio: Buffer) => Promise<string>;
  /** Initial password of each created user (CONNECT_MANAGED instances). @default undefined: passwords are reported as secrets to set by hand */
  readonly userPassword?: (username: string) => string;
  /** Receives each plan line as it is decided. @default no output */
  readonly log?: (line: string) => void;
  readonly retry?: RetryOptions;
}

export interface ConnectApplyEntry {
  readonly type: string;
  readonly name: string;
  readonly sourceId: string;
  readonly targetId: string;
  readonly targetArn: string;
}
export interface ConnectCannotMove {
  readonly type: string;
  readonly name: string;
  readonly reason: string;
  /** What to do by hand. */
  readonly action: string;
}
export interface ConnectApplyReport {
  readonly dryRun: boolean;
  readonly created: ConnectApplyEntry[];
  readonly existing: ConnectApplyEntry[];
  /** Flows/modules whose content had source references rewritten, and how many. */
  readonly remapped: { readonly type: string; readonly name: string; readonly references: number }[];
  readonly cannotMove: ConnectCannotMove[];
  /** The change plan, one line per decision (also sent to `log`). */
  readonly plan: string[];
  /** Per applied type: resources in the export, and resources now in the target for them (created + existing); equal when nothing was left out. */
  readonly counts: Record<string, { source: number; applied: number }>;
}

/** Content of a flow/module created before what it points at exists; replaced once it does. */
export const STUB_CONTENT = JSON.stringify({ Version: '2019-10-30', StartAction: 'counterparty-stub', Actions: [{ Identifier: 'counterparty-stub', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} }] });

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

class Unresolved extends Error {
  constructor(readonly refs: string[], readonly forwardOnly: boolean) {
    super(`unresolved references: ${refs.join(', ')}`);
  }
}

interface Target { readonly id: string; readonly arn: string }

/** Source → target mapping and the run's report. */
class ApplyRun {
  readonly mapping = new Map<string, Target>();
  /** Source ids of every exported resource, with the type they belong to. */
  readonly sourceTypes = new Map<string, string>();
  readonly report: ConnectApplyReport;
  sourceInstanceId = '';
  constructor(readonly opts: ApplyConnectOptions) {
    this.report = { dryRun: opts.dryRun ?? false, created: [], existing: [], remapped: [], cannotMove: [], plan: [], counts: {} };
  }

  send<T = Doc>(ctor: CommandCtor, input: Doc): Promise<T> {
    return sendWithRetry<T>(this.opts.client, new ctor({ InstanceId: this.opts.targetInstanceId, ...input } as never), this.opts.retry);
  }

  plan(line: string): void {
    this.report.plan.push(line);
    this.opts.log?.(line);
  }

  cannotMove(type: string, name: string, reason: string, action: string): void {
    this.report.cannotMove.push({ type, name, reason, action });
    this.plan(`cannot move ${type} ${name}: ${reason}; ${action}`);
  }

  /** The target id for a source id; throws Unresolved when it has none (yet). */
  ref(sourceId: unknown): string {
    if (sourceId === undefined || sourceId === null || sourceId === '') return sourceId as string;
    const t = this.mapping.get(String(sourceId));
    if (!t) throw new Unresolved([String(sourceId)], this.isForward(String(sourceId)));
    return t.id;
  }

  /** A reference to a flow or module not created yet (it will be, later in this run). */
  isForward(sourceId: string): boolean {
    const type = this.sourceTypes.get(sourceId);
    return type === 'contact-flows' || type === 'contact-flow-modules';
  }

  /** Rewrites source ARNs and ids in flow content; collects what can't be resolved. */
  remapContent(content: string): { content: string; references: number; external: string[] } {
    let references = 0;
    const missing: string[] = [];
    const arn = new RegExp(`arn:aws[a-z-]*:connect:[a-z0-9-]+:\\d{12}:instance/${this.sourceInstanceId}/[a-z-]+/(${UUID})`, 'g');
    let out = content.replace(arn, (whole, id: string) => {
      const t = this.mapping.get(id);
      if (!t) { missing.push(whole); return whole; }
      references++;
      return t.arn;
    });
    out = out.replace(new RegExp(`"(${UUID})"`, 'g'), (whole, id: string) => {
      const t = this.mapping.get(id);
      if (t) { references++; return `"${t.id}"`; }
      if (this.sourceTypes.has(id)) missing.push(id);
      return whole;
    });
    if (missing.length) throw new Unresolved(missing, missing.every((m) => this.isForward(m.slice(-36))));
    const external = [...new Set([...content.matchAll(/arn:aws[a-z-]*:(?:lambda|lex):[^"\\]+/g)].map((m) => m[0]))];
    return { content: out, references, external };
  }
}

/** How one resource type is looked up and created in the target. */
interface ApplyKind {
  readonly type: string;
  readonly label: string;
  readonly list: readonly [CommandCtor, string, string?];
  readonly names: (d: Doc) => { name: string; id: string };
  readonly create: readonly [CommandCtor, string, string];
  /** Builds the create input with references remapped; may throw Unresolved. */
  readonly input: (d: Doc, run: ApplyRun) => Promise<Doc>;
  /** Only these documents of the type (USER quick connects go after users). */
  readonly filter?: (d: Doc) => boolean;
}

const tagsOf = (d: Doc): Doc | undefined => {
  const tags = Object.entries((d.Tags as Record<string, string>) ?? {}).filter(([k]) => !k.startsWith('aws:'));
  return tags.length ? Object.fromEntries(tags) : undefined;
};
const named = (nameField: string, idField: string) => (d: Doc): { name: string; id: string } => ({ name: String(d[nameField]), id: String(d[idField]) });

async function contentInput(d: Doc, run: ApplyRun, type: string): Promise<Doc> {
  const base = { Name: d.Name, Description: d.Description || undefined, Tags: tagsOf(d) };
  const extra = type === 'contact-flows' ? { Type: d.Type } : {};
  try {
    const r = run.remapContent(String(d.Content));
    if (r.references) run.report.remapped.push({ type, name: String(d.Name), references: r.references });
    for (const arn of r.external) {
      run.cannotMove(type, String(d.Name), `content calls ${arn}, which is in the source account/Region`, 'deploy it where the target can reach it, associate it with the target instance (AssociateLambdaFunction / AssociateBot) and edit the flow if its ARN changed');
    }
    return { ...base, ...extra, Content: r.content };
  } catch (err) {
    if (err instanceof Unresolved && err.forwardOnly) return { ...base, ...extra, Content: STUB_CONTENT, pendingContent: true };
    throw err;
  }
}

const KINDS: readonly ApplyKind[] = [
  {
    type: 'hours-of-operation', label: 'hours', list: [ListHoursOfOperationsCommand, 'HoursOfOperationSummaryList'], names: named('Name', 'HoursOfOperationId'),
    create: [CreateHoursOfOperationCommand, 'HoursOfOperationId', 'HoursOfOperationArn'],
    input: async (d) => ({ Name: d.Name, Description: d.Description || undefined, TimeZone: d.TimeZone, Config: d.Config, Tags: tagsOf(d) }),
  },
  {
    type: 'queues', label: 'queue', list: [ListQueuesCommand, 'QueueSummaryList'], names: named('Name', 'QueueId'),
    create: [CreateQueueCommand, 'QueueId', 'QueueArn'],
    input: async (d, run) => {
      const caller = (d.OutboundCallerConfig as Doc | undefined) ?? {};
      return {
        Name: d.Name, Description: d.Description || undefined, HoursOfOperationId: run.ref(d.HoursOfOperationId), MaxContacts: d.MaxContacts,
        OutboundCallerConfig: caller.OutboundCallerIdName ? { OutboundCallerIdName: caller.OutboundCallerIdName } : undefined, Tags: tagsOf(d),
      };
    },
  },
  {
    type: 'prompts', label: 'prompt', list: [ListPromptsCommand, 'PromptSummaryList'], names: named('Name', 'PromptId'),
    create: [CreatePromptCommand, 'PromptId', 'PromptARN'],
    input: async (d, run) => {
      const file = d.AudioFile as { key?: string } | undefined;
      if (!file?.key) throw new Error('no audio was exported for it');
      if (!run.opts.uploadPromptAudio) throw new Error('prompt audio needs an S3 location the target can read: pass uploadPromptAudio');
      const S3Uri = run.report.dryRun ? `s3://dry-run/${file.key}` : await run.opts.uploadPromptAudio(String(d.Name), file.key.split('/').pop()!, await run.opts.source.audio(file.key));
      return { Name: d.Name, Description: d.Description || undefined, S3Uri, Tags: tagsOf(d) };
    },
  },
  {
    type: 'contact-flow-modules', label: 'flow module', list: [ListContactFlowModulesCommand, 'ContactFlowModulesSummaryList'], names: named('Name', 'Id'),
    create: [CreateContactFlowModuleCommand, 'Id', 'Arn'], input: (d, run) => contentInput(d, run, 'contact-flow-modules'),
  },
  {
    type: 'contact-flows', label: 'flow', list: [ListContactFlowsCommand, 'ContactFlowSummaryList'], names: named('Name', 'Id'),
    create: [CreateContactFlowCommand, 'ContactFlowId', 'ContactFlowArn'], input: (d, run) => contentInput(d, run, 'contact-flows'),
  },
  {
    type: 'routing-profiles', label: 'routing profile', list: [ListRoutingProfilesCommand, 'RoutingProfileSummaryList'], names: named('Name', 'RoutingProfileId'),
    create: [CreateRoutingProfileCommand, 'RoutingProfileId', 'RoutingProfileArn'],
    input: async (d, run) => ({
      Name: d.Name, Description: d.Description || String(d.Name), DefaultOutboundQueueId: run.ref(d.DefaultOutboundQueueId), MediaConcurrencies: d.MediaConcurrencies,
      AgentAvailabilityTimer: d.AgentAvailabilityTimer, QueueConfigs: queueConfigs(d, run).slice(0, 10), Tags: tagsOf(d),
    }),
  },
  {
    type: 'security-profiles', label: 'security profile', list: [ListSecurityProfilesCommand, 'SecurityProfileSummaryList'], names: named('SecurityProfileName', 'Id'),
    create: [CreateSecurityProfileCommand, 'SecurityProfileId', 'SecurityProfileArn'],
    input: async (d) => ({
      SecurityProfileName: d.SecurityProfileName, Description: d.Description || undefined, Permissions: d.Permissions,
      AllowedAccessControlTags: d.AllowedAccessControlTags, TagRestrictedResources: d.TagRestrictedResources, Tags: tagsOf(d),
    }),
  },
  quickConnectKind((d) => quickConnectType(d) !== 'USER'),
  {
    type: 'users', label: 'user', list: [ListUsersCommand, 'UserSummaryList', 'Username'], names: named('Username', 'Id'),
    create: [CreateUserCommand, 'UserId', 'UserArn'],
    input: async (d, run) => ({
      Username: d.Username, Password: run.opts.userPassword?.(String(d.Username)), IdentityInfo: d.IdentityInfo, PhoneConfig: d.PhoneConfig,
      SecurityProfileIds: ((d.SecurityProfileIds as string[]) ?? []).map((id) => run.ref(id)), RoutingProfileId: run.ref(d.RoutingProfileId), Tags: tagsOf(d),
    }),
  },
  quickConnectKind((d) => quickConnectType(d) === 'USER'),
];

function quickConnectType(d: Doc): string {
  return String((d.QuickConnectConfig as Doc | undefined)?.QuickConnectType);
}

function quickConnectKind(filter: (d: Doc) => boolean): ApplyKind {
  return {
    type: 'quick-connects', label: 'quick connect', list: [ListQuickConnectsCommand, 'QuickConnectSummaryList'], names: named('Name', 'QuickConnectId'), filter,
    create: [CreateQuickConnectCommand, 'QuickConnectId', 'QuickConnectARN'],
    input: async (d, run) => {
      const c = d.QuickConnectConfig as { QuickConnectType: string; QueueConfig?: Doc; UserConfig?: Doc; PhoneConfig?: Doc };
      const config: Doc = { QuickConnectType: c.QuickConnectType };
      if (c.QueueConfig) config.QueueConfig = { QueueId: run.ref(c.QueueConfig.QueueId), ContactFlowId: run.ref(c.QueueConfig.ContactFlowId) };
      if (c.UserConfig) config.UserConfig = { UserId: run.ref(c.UserConfig.UserId), ContactFlowId: run.ref(c.UserConfig.ContactFlowId) };
      if (c.PhoneConfig) config.PhoneConfig = c.PhoneConfig;
      return { Name: d.Name, Description: d.Description || undefined, QuickConnectConfig: config, Tags: tagsOf(d) };
    },
  };
}

function queueConfigs(d: Doc, run: ApplyRun): Doc[] {
  return ((d.Queues as Doc[]) ?? []).map((q) => ({ QueueReference: { QueueId: run.ref(q.QueueId), Channel: q.Channel }, Priority: q.Priority, Delay: q.Delay }));
}

async function listTarget(run: ApplyRun, kind: ApplyKind): Promise<Map<string, Target>> {
  const out = new Map<string, Target>();
  let token: string | undefined;
  do {
    const page = await run.send(kind.list[0], { NextToken: token });
    for (const s of (page[kind.list[1]] as Doc[]) ?? []) out.set(String(s[kind.list[2] ?? 'Name']), { id: String(s.Id), arn: String(s.Arn) });
    token = page.NextToken as string | undefined;
  } while (token);
  return out;
}

/** Looks every document of one kind up by name, creates what is missing; returns the content resources left as stubs. */
async function applyKind(run: ApplyRun, kind: ApplyKind, docs: Doc[]): Promise<{ doc: Doc; target: Target }[]> {
  const existing = await listTarget(run, kind);
  const stubs: { doc: Doc; target: Target }[] = [];
  for (const d of docs.filter(kind.filter ?? (() => true))) {
    const { name, id } = kind.names(d);
    const found = existing.get(name);
    if (found) {
      run.mapping.set(id, found);
      run.report.existing.push({ type: kind.type, name, sourceId: id, targetId: found.id, targetArn: found.arn });
      run.plan(`exists ${kind.label} ${name} (${found.id})`);
      if (kind.type === 'contact-flows' || kind.type === 'contact-flow-modules') stubs.push({ doc: d, target: found }); // resumed: may still be a stub
      continue;
    }
    let input: Doc;
    try {
      input = await kind.input(d, run);
    } catch (err) {
      const why = err instanceof Unresolved ? `references resources that were not applied (${err.refs.join(', ')})` : (err as Error).message;
      run.cannotMove(kind.type, name, why, 'create it by hand after fixing what it references');
      continue;
    }
    const { pendingContent, ...createInput } = input;
    const target = await createOne(run, kind, createInput);
    run.mapping.set(id, target);
    run.report.created.push({ type: kind.type, name, sourceId: id, targetId: target.id, targetArn: target.arn });
    run.plan(`create ${kind.label} ${name}${pendingContent ? ' (with a stub; its content is set once what it points at exists)' : ''}`);
    if (pendingContent) stubs.push({ doc: d, target });
  }
  return stubs;
}

async function createOne(run: ApplyRun, kind: ApplyKind, input: Doc): Promise<Target> {
  if (run.report.dryRun) {
    const id = `dry-run-${run.report.created.length + 1}`;
    return { id, arn: `arn:aws:connect:dry-run:000000000000:instance/${run.opts.targetInstanceId}/${kind.type}/${id}` };
  }
  const res = await run.send(kind.create[0], input);
  return { id: String(res[kind.create[1]]), arn: String(res[kind.create[2]]) };
}

/** Sets the real content of flows/modules created as stubs (or left as stubs by a crashed run). */
async function finishStubs(run: ApplyRun, stubs: { doc: Doc; target: Target; type: string }[]): Promise<void> {
  for (const { doc, target, type } of stubs) {
    const isFlow = type === 'contact-flows';
    if (!run.report.dryRun && !target.id.startsWith('dry-run-')) {
      const current = await run.send(isFlow ? DescribeContactFlowCommand : DescribeContactFlowModuleCommand, isFlow ? { ContactFlowId: target.id } : { ContactFlowModuleId: target.id });
      const content = ((current[isFlow ? 'ContactFlow' : 'ContactFlowModule'] as Doc | undefined) ?? {}).Content;
      if (content !== STUB_CONTENT) continue; // a real flow: never overwritten
    } else if (!run.report.created.some((c) => c.targetId === target.id)) {
      continue;
    }
    let remapped: { content: string; references: number };
    try {
      remapped = run.remapContent(String(doc.Content));
    } catch (err) {
      run.cannotMove(type, String(doc.Name), `content references resources that were not applied (${(err as Unresolved).refs.join(', ')}); it is left as a stub that disconnects`, 'edit the flow by hand');
      continue;
    }
    run.report.remapped.push({ type, name: String(doc.Name), references: remapped.references });
    run.plan(`set content of ${isFlow ? 'flow' : 'flow module'} ${String(doc.Name)} (${remapped.references} references remapped)`);
    if (run.report.dryRun) continue;
    await run.send(isFlow ? UpdateContactFlowContentCommand : UpdateContactFlowModuleContentCommand, isFlow ? { ContactFlowId: target.id, Content: remapped.content } : { ContactFlowModuleId: target.id, Content: remapped.content });
  }
}

/** Queue settings that point at flows or quick connects (created after queues). Only adds what is missing. */
async function finishQueues(run: ApplyRun, queues: Doc[]): Promise<void> {
  for (const q of queues) {
    const target = run.mapping.get(String(q.QueueId));
    if (!target) continue;
    const caller = (q.OutboundCallerConfig as Doc | undefined) ?? {};
    if (caller.OutboundCallerIdNumberId) run.cannotMove('queues', String(q.Name), 'its outbound caller ID number is a phone number of the source instance', 'claim a number in the target and set it as the queue\'s outbound caller ID');
    const flow = caller.OutboundFlowId ? run.mapping.get(String(caller.OutboundFlowId)) : undefined;
    if (flow && !run.report.dryRun && !target.id.startsWith('dry-run-')) {
      const now = (await run.send(DescribeQueueCommand, { QueueId: target.id })).Queue as Doc | undefined;
      const current = (now?.OutboundCallerConfig as Doc | undefined) ?? {};
      if (!current.OutboundFlowId) await run.send(UpdateQueueOutboundCallerConfigCommand, { QueueId: target.id, OutboundCallerConfig: { ...current, OutboundFlowId: flow.id } });
    }
    const wanted = ((q.QuickConnects as Doc[]) ?? []).map((c) => run.mapping.get(String(c.Id))?.id).filter((x): x is string => !!x);
    if (!wanted.length) continue;
    const have = run.report.dryRun || target.id.startsWith('dry-run-') ? new Set<string>() : new Set(((await run.send(ListQueueQuickConnectsCommand, { QueueId: target.id })).QuickConnectSummaryList as Doc[] ?? []).map((c) => String(c.Id)));
    const missing = wanted.filter((id) => !have.has(id));
    if (!missing.length) continue;
    run.plan(`associate ${missing.length} quick connect(s) with queue ${String(q.Name)}`);
    if (!run.report.dryRun) await run.send(AssociateQueueQuickConnectsCommand, { QueueId: target.id, QuickConnectIds: missing });
  }
}

/** Routing profile queues beyond the 10 CreateRoutingProfile takes, and any a crashed run did not add (only added, never removed). */
async function finishRoutingProfiles(run: ApplyRun, profiles: Doc[]): Promise<void> {
  for (const p of profiles) {
    const target = run.mapping.get(String(p.RoutingProfileId));
    if (!target || run.report.dryRun) continue;
    let configs: Doc[];
    try {
      configs = queueConfigs(p, run);
    } catch {
      continue; // reported when the profile was created
    }
    const have = new Set(((await run.send(ListRoutingProfileQueuesCommand, { RoutingProfileId: target.id })).RoutingProfileQueueConfigSummaryList as Doc[] ?? []).map((c) => `${String(c.QueueId)}/${String(c.Channel)}`));
    const missing = configs.filter((c) => !have.has(`${String((c.QueueReference as Doc).QueueId)}/${String((c.QueueReference as Doc).Channel)}`));
    for (let i = 0; i < missing.length; i += 10) await run.send(AssociateRoutingProfileQueuesCommand, { RoutingProfileId: target.id, QueueConfigs: missing.slice(i, i + 10) });
  }
}

/** What this version does not create, and what can't move at all: reported, never skipped silently. */
async function reportWhatCannotMove(run: ApplyRun): Promise<void> {
  const src = run.opts.source;
  const flowName = (id: unknown): string => {
    const m = /contact-flow\/([0-9a-f-]{36})/.exec(String(id));
    const t = m && run.mapping.get(m[1]);
    return t ? `target flow ${t.id}` : `the flow ${String(id)}`;
  };
  const associations = await src.documents('flow-associations');
  for (const n of await src.documents('phone-numbers')) {
    const flow = associations.find((a) => a.ResourceId === n.PhoneNumberArn || a.ResourceId === n.PhoneNumberId);
    run.cannotMove('phone-numbers', String(n.PhoneNumber), 'a phone number belongs to the source instance (porting takes weeks)', `claim a number in the target (SearchAvailablePhoneNumbers, ClaimPhoneNumber)${flow ? ` and associate it with ${flowName(flow.FlowId)}` : ''}`);
  }
  const users = (await src.documents('users')).length;
  if (users && !run.opts.userPassword) run.cannotMove('users', `${users} user(s)`, 'passwords are never exported (secrets)', 'set each user\'s password by hand, or use SAML / the instance\'s directory');
  const withHierarchy = (await src.documents('users')).filter((u) => u.HierarchyGroupId).length;
  if (withHierarchy) run.cannotMove('users', `${withHierarchy} user(s)`, 'their hierarchy group is not applied by this version', 'recreate the hierarchy (user-hierarchy-structure/-groups.json) and assign the groups');
  const byHand: readonly [string, string, string][] = [
    ['lex-bots', 'a Lex V2 bot lives in the source account/Region', 'export it with Lex CreateExport, import it where the target is, then AssociateBot'],
    ['lambda-functions', 'a Lambda function lives in the source account/Region', 'deploy it where the target is, then AssociateLambdaFunction'],
    ['instance-storage-configs', 'storage (S3 buckets, Kinesis streams, KMS keys) is account-specific', 'AssociateInstanceStorageConfig with the target\'s buckets and keys'],
    ['instance-attributes', 'instance settings are not applied by this version', 'UpdateInstanceAttribute for each one'],
    ['approved-origins', 'not applied by this version', 'AssociateApprovedOrigin'],
    ['agent-statuses', 'not applied by this version', 'CreateAgentStatus'],
    ['user-hierarchy-groups', 'not applied by this version', 'UpdateUserHierarchyStructure, CreateUserHierarchyGroup'],
    ['task-templates', 'not applied by this version', 'CreateTaskTemplate (remap its flow ids)'],
    ['rules', 'not applied by this version', 'CreateRule'],
    ['views', 'not applied by this version', 'CreateView'],
    ['predefined-attributes', 'not applied by this version', 'CreatePredefinedAttribute'],
  ];
  for (const [type, reason, action] of byHand) {
    const docs = await src.documents(type);
    if (docs.length) run.cannotMove(type, `${docs.length} item(s)`, reason, action);
  }
}

async function indexSource(run: ApplyRun): Promise<Map<string, Doc[]>> {
  const docs = new Map<string, Doc[]>();
  for (const kind of KINDS) docs.set(kind.type, await run.opts.source.documents(kind.type));
  for (const [type, list] of docs) for (const d of list) {
    const kind = KINDS.find((k) => k.type === type)!;
    run.sourceTypes.set(kind.names(d).id, type);
  }
  const instance = (await run.opts.source.documents('instance'))[0];
  const anyArn = [...docs.values()].flat().map((d) => String(d.Arn ?? d.QueueArn ?? '')).find((a) => /:instance\//.test(a));
  run.sourceInstanceId = String(instance?.Id ?? /:instance\/([0-9a-f-]{36})/.exec(anyArn ?? '')?.[1] ?? '');
  if (!run.sourceInstanceId) throw new Error('connect-apply: the source names no instance (instance.json missing and no ARN found); is this a Connect export?');
  return docs;
}

/**
 * Applies the exported configuration in `source` to the target instance (see the file comment).
 * Throws on an API error other than what the report covers; a re-run continues where it stopped.
 */
export async function applyConnectConfiguration(opts: ApplyConnectOptions): Promise<ConnectApplyReport> {
  const run = new ApplyRun(opts);
  const docs = await indexSource(run);
  const stubs: { doc: Doc; target: Target; type: string }[] = [];
  for (const kind of KINDS) {
    const left = await applyKind(run, kind, docs.get(kind.type)!);
    stubs.push(...left.map((s) => ({ ...s, type: kind.type })));
    if (kind.type === 'contact-flows') await finishStubs(run, stubs);
  }
  await finishQueues(run, docs.get('queues')!);
  await finishRoutingProfiles(run, docs.get('routing-profiles')!);
  await reportWhatCannotMove(run);
  for (const [type, list] of docs) {
    const applied = [...run.report.created, ...run.report.existing].filter((e) => e.type === type).length;
    run.report.counts[type] = { source: list.length, applied };
  }
  return run.report;
}
