/**
 * Amazon Connect configuration crawler. Connect has no whole-instance export, so this walks the
 * List/Describe APIs of every resource type that a rebuild needs (docs/connect.md), paginated, and
 * writes deterministic JSON (keys sorted, lists sorted by Id): one file per resource type plus
 * `index.json`, and each prompt's audio (from `GetPromptFile`'s presigned URL) under `prompts/`.
 * Users are written without any password field.
 *
 * Connect's default API limit is 2 requests per second (burst 5) per API and per account, so the
 * work is split so that it fits a 900 s Lambda: {@link planConnectExport} counts each type and
 * returns Map items (groups of types, or shards of one big type such as users), each item is
 * crawled by {@link exportConnectResourceTypes} into `parts/`, and {@link finalizeConnectExport}
 * merges the parts into the same `<type>.json` + `index.json` layout as the one-shot
 * {@link exportConnectConfiguration}. The production client uses the SDK's adaptive retry mode
 * (client-side rate limiting); {@link sendWithRetry} only retries what the SDK gave up on.
 *
 * The crawler talks to a `ConnectLike` (anything with the SDK's `send(command)`), so the drill and
 * the tests serve it a recorded fixture through the same interface (moto has no Connect).
 */
import {
  ListContactFlowsCommand, DescribeContactFlowCommand, ListContactFlowModulesCommand, DescribeContactFlowModuleCommand,
  ListQueuesCommand, DescribeQueueCommand, ListQueueQuickConnectsCommand, ListRoutingProfilesCommand, DescribeRoutingProfileCommand,
  ListRoutingProfileQueuesCommand, ListHoursOfOperationsCommand, DescribeHoursOfOperationCommand, ListPromptsCommand, DescribePromptCommand,
  GetPromptFileCommand, ListQuickConnectsCommand, DescribeQuickConnectCommand, ListUsersCommand, DescribeUserCommand,
  ListUserHierarchyGroupsCommand, DescribeUserHierarchyGroupCommand, DescribeUserHierarchyStructureCommand, ListSecurityProfilesCommand,
  DescribeSecurityProfileCommand, ListSecurityProfilePermissionsCommand, ListPhoneNumbersV2Command, DescribePhoneNumberCommand,
  ListFlowAssociationsCommand, ListBotsCommand, ListLambdaFunctionsCommand, ListAgentStatusesCommand, DescribeAgentStatusCommand,
  DescribeInstanceCommand, ListInstanceAttributesCommand, ListInstanceStorageConfigsCommand, ListApprovedOriginsCommand,
  ListTaskTemplatesCommand, GetTaskTemplateCommand, ListRulesCommand, DescribeRuleCommand, ListViewsCommand, DescribeViewCommand,
  ListPredefinedAttributesCommand, DescribePredefinedAttributeCommand, InstanceStorageResourceType,
} from '@aws-sdk/client-connect';
import type { ObjectStore } from '../stores/types';
import { canonicalJson, mapLimit, sha256Hex, sleep } from '../util';

/** The slice of `ConnectClient` the crawler uses. */
export interface ConnectLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

type Input = Record<string, unknown>;
type Doc = Record<string, unknown>;
type CommandCtor = new (input: never) => unknown;

/** One Connect API operation: its name (= the IAM action after `connect:`) and its SDK command. */
export interface ConnectOperation {
  readonly action: string;
  readonly command: CommandCtor;
}
const op = (action: string, command: CommandCtor): ConnectOperation => ({ action, command });

interface ExtraList {
  readonly op: ConnectOperation;
  /** Input field that takes the resource's id. */
  readonly idField: string;
  readonly listField: string;
  /** Field of the exported document the list goes into. */
  readonly field: string;
}

interface BaseSpec {
  /** File name (without `.json`) and index entry. */
  readonly type: string;
  /** Suggested Step Functions Map group (types of one group share one Map item when they fit). */
  readonly group: string;
}
/** List the ids, then Describe each one (the per-item calls dominate: these are the ones sharded). */
interface ListDescribeSpec extends BaseSpec {
  readonly kind: 'listDescribe';
  readonly list: ConnectOperation;
  readonly listField: string;
  readonly listInput?: Input;
  /** Id field of a list summary. @default 'Id' */
  readonly summaryId?: string;
  readonly describe: ConnectOperation;
  /** Input field of the Describe call that takes the id. */
  readonly idField: string;
  /** Output field holding the resource; undefined = the whole response. */
  readonly describeField?: string;
  /** False when the Describe call takes no InstanceId (DescribePhoneNumber). @default true */
  readonly instanceScoped?: boolean;
  readonly extras?: readonly ExtraList[];
  /** Prompts: fetch the audio with GetPromptFile. */
  readonly promptAudio?: boolean;
}
/** Everything comes from a List call (once per variant input, each item tagged with the variant). */
interface ListSpec extends BaseSpec {
  readonly kind: 'list';
  readonly list: ConnectOperation;
  readonly listField: string;
  readonly variants?: readonly Input[];
}
/** One Describe call for the instance-wide document. */
interface SingleSpec extends BaseSpec {
  readonly kind: 'single';
  readonly describe: ConnectOperation;
  readonly describeField: string;
}
export type ConnectResourceSpec = ListDescribeSpec | ListSpec | SingleSpec;

/** Every resource type the crawler exports, in export order. See docs/connect.md for what each one is for. */
export const CONNECT_RESOURCES: readonly ConnectResourceSpec[] = [
  { kind: 'listDescribe', type: 'contact-flows', group: 'flows', list: op('ListContactFlows', ListContactFlowsCommand), listField: 'ContactFlowSummaryList', describe: op('DescribeContactFlow', DescribeContactFlowCommand), idField: 'ContactFlowId', describeField: 'ContactFlow' },
  { kind: 'listDescribe', type: 'contact-flow-modules', group: 'flows', list: op('ListContactFlowModules', ListContactFlowModulesCommand), listField: 'ContactFlowModulesSummaryList', describe: op('DescribeContactFlowModule', DescribeContactFlowModuleCommand), idField: 'ContactFlowModuleId', describeField: 'ContactFlowModule' },
  {
    kind: 'listDescribe', type: 'queues', group: 'routing', list: op('ListQueues', ListQueuesCommand), listField: 'QueueSummaryList', describe: op('DescribeQueue', DescribeQueueCommand), idField: 'QueueId', describeField: 'Queue',
    extras: [{ op: op('ListQueueQuickConnects', ListQueueQuickConnectsCommand), idField: 'QueueId', listField: 'QuickConnectSummaryList', field: 'QuickConnects' }],
  },
  {
    kind: 'listDescribe', type: 'routing-profiles', group: 'routing', list: op('ListRoutingProfiles', ListRoutingProfilesCommand), listField: 'RoutingProfileSummaryList', describe: op('DescribeRoutingProfile', DescribeRoutingProfileCommand), idField: 'RoutingProfileId', describeField: 'RoutingProfile',
    extras: [{ op: op('ListRoutingProfileQueues', ListRoutingProfileQueuesCommand), idField: 'RoutingProfileId', listField: 'RoutingProfileQueueConfigSummaryList', field: 'Queues' }],
  },
  { kind: 'listDescribe', type: 'hours-of-operation', group: 'routing', list: op('ListHoursOfOperations', ListHoursOfOperationsCommand), listField: 'HoursOfOperationSummaryList', describe: op('DescribeHoursOfOperation', DescribeHoursOfOperationCommand), idField: 'HoursOfOperationId', describeField: 'HoursOfOperation' },
  { kind: 'listDescribe', type: 'quick-connects', group: 'routing', list: op('ListQuickConnects', ListQuickConnectsCommand), listField: 'QuickConnectSummaryList', describe: op('DescribeQuickConnect', DescribeQuickConnectCommand), idField: 'QuickConnectId', describeField: 'QuickConnect' },
  { kind: 'listDescribe', type: 'prompts', group: 'prompts', list: op('ListPrompts', ListPromptsCommand), listField: 'PromptSummaryList', describe: op('DescribePrompt', DescribePromptCommand), idField: 'PromptId', describeField: 'Prompt', promptAudio: true },
  { kind: 'listDescribe', type: 'users', group: 'users', list: op('ListUsers', ListUsersCommand), listField: 'UserSummaryList', describe: op('DescribeUser', DescribeUserCommand), idField: 'UserId', describeField: 'User' },
  { kind: 'listDescribe', type: 'user-hierarchy-groups', group: 'people', list: op('ListUserHierarchyGroups', ListUserHierarchyGroupsCommand), listField: 'UserHierarchyGroupSummaryList', describe: op('DescribeUserHierarchyGroup', DescribeUserHierarchyGroupCommand), idField: 'HierarchyGroupId', describeField: 'HierarchyGroup' },
  { kind: 'single', type: 'user-hierarchy-structure', group: 'people', describe: op('DescribeUserHierarchyStructure', DescribeUserHierarchyStructureCommand), describeField: 'HierarchyStructure' },
  {
    kind: 'listDescribe', type: 'security-profiles', group: 'people', list: op('ListSecurityProfiles', ListSecurityProfilesCommand), listField: 'SecurityProfileSummaryList', describe: op('DescribeSecurityProfile', DescribeSecurityProfileCommand), idField: 'SecurityProfileId', describeField: 'SecurityProfile',
    extras: [{ op: op('ListSecurityProfilePermissions', ListSecurityProfilePermissionsCommand), idField: 'SecurityProfileId', listField: 'Permissions', field: 'Permissions' }],
  },
  { kind: 'listDescribe', type: 'agent-statuses', group: 'people', list: op('ListAgentStatuses', ListAgentStatusesCommand), listField: 'AgentStatusSummaryList', describe: op('DescribeAgentStatus', DescribeAgentStatusCommand), idField: 'AgentStatusId', describeField: 'AgentStatus' },
  { kind: 'listDescribe', type: 'phone-numbers', group: 'telephony', list: op('ListPhoneNumbersV2', ListPhoneNumbersV2Command), listField: 'ListPhoneNumbersSummaryList', summaryId: 'PhoneNumberId', describe: op('DescribePhoneNumber', DescribePhoneNumberCommand), idField: 'PhoneNumberId', describeField: 'ClaimedPhoneNumberSummary', instanceScoped: false },
  { kind: 'list', type: 'flow-associations', group: 'telephony', list: op('ListFlowAssociations', ListFlowAssociationsCommand), listField: 'FlowAssociationSummaryList', variants: [{ ResourceType: 'VOICE_PHONE_NUMBER' }] },
  { kind: 'list', type: 'lex-bots', group: 'integrations', list: op('ListBots', ListBotsCommand), listField: 'LexBots', variants: [{ LexVersion: 'V2' }] },
  { kind: 'list', type: 'lambda-functions', group: 'integrations', list: op('ListLambdaFunctions', ListLambdaFunctionsCommand), listField: 'LambdaFunctions' },
  { kind: 'list', type: 'approved-origins', group: 'integrations', list: op('ListApprovedOrigins', ListApprovedOriginsCommand), listField: 'Origins' },
  { kind: 'single', type: 'instance', group: 'instance', describe: op('DescribeInstance', DescribeInstanceCommand), describeField: 'Instance' },
  { kind: 'list', type: 'instance-attributes', group: 'instance', list: op('ListInstanceAttributes', ListInstanceAttributesCommand), listField: 'Attributes' },
  { kind: 'list', type: 'instance-storage-configs', group: 'instance', list: op('ListInstanceStorageConfigs', ListInstanceStorageConfigsCommand), listField: 'StorageConfigs', variants: Object.values(InstanceStorageResourceType).map((ResourceType) => ({ ResourceType })) },
  { kind: 'listDescribe', type: 'task-templates', group: 'automation', list: op('ListTaskTemplates', ListTaskTemplatesCommand), listField: 'TaskTemplates', describe: op('GetTaskTemplate', GetTaskTemplateCommand), idField: 'TaskTemplateId' },
  { kind: 'listDescribe', type: 'rules', group: 'automation', list: op('ListRules', ListRulesCommand), listField: 'RuleSummaryList', summaryId: 'RuleId', describe: op('DescribeRule', DescribeRuleCommand), idField: 'RuleId', describeField: 'Rule' },
  { kind: 'listDescribe', type: 'views', group: 'automation', list: op('ListViews', ListViewsCommand), listField: 'ViewsSummaryList', describe: op('DescribeView', DescribeViewCommand), idField: 'ViewId', describeField: 'View' },
  { kind: 'listDescribe', type: 'predefined-attributes', group: 'automation', list: op('ListPredefinedAttributes', ListPredefinedAttributesCommand), listField: 'PredefinedAttributeSummaryList', summaryId: 'Name', describe: op('DescribePredefinedAttribute', DescribePredefinedAttributeCommand), idField: 'Name', describeField: 'PredefinedAttribute' },
];

function operationsOf(spec: ConnectResourceSpec): ConnectOperation[] {
  if (spec.kind === 'single') return [spec.describe];
  if (spec.kind === 'list') return [spec.list];
  return [spec.list, spec.describe, ...(spec.extras ?? []).map((e) => e.op), ...(spec.promptAudio ? [op('GetPromptFile', GetPromptFileCommand)] : [])];
}

/** One exported resource type, its suggested Map group, and the exact IAM actions crawling it uses. */
export interface ConnectResourceType {
  readonly type: string;
  readonly group: string;
  readonly actions: readonly string[];
}

/** Every exported resource type with its suggested Map group and its IAM actions (`connect:<Operation>`). */
export const CONNECT_RESOURCE_TYPES: readonly ConnectResourceType[] = CONNECT_RESOURCES.map((s) => ({
  type: s.type,
  group: s.group,
  actions: operationsOf(s).map((o) => `connect:${o.action}`),
}));

/**
 * The exact IAM actions the crawler calls, one by one, sorted (no wildcard: `connect:List*` would
 * also allow reading contacts and real-time transcripts). Resources: the instance ARN and
 * `<instance ARN>/*`; `DescribePhoneNumber` is authorised on `phone-number/*` of the account and
 * Region (phone numbers are not under the instance ARN).
 */
export const CONNECT_READ_ACTIONS: readonly string[] = [...new Set(CONNECT_RESOURCE_TYPES.flatMap((t) => t.actions))].sort();

/**
 * Map items of the Step Functions fan-out must run one at a time (`maxConcurrency: 1`): Connect's
 * limits are per API and per account, so two items crawling shards of the same type at once would
 * share DescribeUser's 2 requests per second and neither would finish within its 900 s.
 */
export const CONNECT_MAP_MAX_CONCURRENCY = 1;

const THROTTLE_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'RequestLimitExceeded']);

export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  return THROTTLE_NAMES.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429 || e?.$retryable?.throttling === true;
}

export interface RetryOptions {
  /** @default 8 */
  readonly maxAttempts?: number;
  /** First backoff in ms (doubles, full jitter). @default 200 */
  readonly baseDelayMs?: number;
  /** @default 10000 */
  readonly maxDelayMs?: number;
  /** Injected in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends with retries on throttling: exponential backoff with full jitter. With the production
 * client (SDK adaptive retry mode) this only runs after the SDK's own attempts were used up.
 */
export async function sendWithRetry<T>(client: ConnectLike, command: unknown, retry: RetryOptions = {}, counter?: { throttled: number }): Promise<T> {
  const max = retry.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    try {
      return (await client.send(command)) as T;
    } catch (err) {
      if (!isThrottle(err) || attempt >= max) throw err;
      if (counter) counter.throttled++;
      const cap = Math.min(retry.maxDelayMs ?? 10_000, (retry.baseDelayMs ?? 200) * 2 ** (attempt - 1));
      await (retry.sleep ?? sleep)(Math.floor(Math.random() * cap) + 1);
    }
  }
}

/** Removes any password-like field, at any depth (DescribeUser never returns one; this makes sure). */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!/password|secret/i.test(k)) out[k] = withoutSecrets(v);
    return out;
  }
  return value;
}

/** Id fields of Connect documents and summaries, in the order they are tried. */
const ID_FIELDS = ['Id', 'QueueId', 'RoutingProfileId', 'HoursOfOperationId', 'PromptId', 'QuickConnectId', 'AgentStatusId', 'PhoneNumberId', 'RuleId', 'Arn'];

function sortKeyOf(x: unknown): string {
  if (x && typeof x === 'object') {
    const o = x as Doc;
    const field = ID_FIELDS.find((f) => o[f] !== undefined);
    if (field) return String(o[field]);
  }
  return canonicalJson(x, 0); // key order of a response does not change the order
}

function byId(a: unknown, b: unknown): number {
  const ka = sortKeyOf(a);
  const kb = sortKeyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function sortDeepLists(value: unknown): unknown {
  // lists of objects with an Id/Arn are sorted so the output does not depend on API order
  if (Array.isArray(value)) {
    const items = value.map(sortDeepLists);
    return items.every((x) => x && typeof x === 'object' && ('Id' in (x as object) || 'Arn' in (x as object))) ? [...items].sort(byId) : items;
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortDeepLists(v)]));
  }
  return value;
}

/** Which share of a type's resources one Map item describes: those at sorted position i with i % count === index. */
export interface ConnectShard {
  readonly index: number;
  readonly count: number;
}

interface CrawlContext {
  readonly client: ConnectLike;
  readonly instanceId: string;
  readonly store: ObjectStore;
  readonly prefix: string;
  readonly retry: RetryOptions;
  readonly counter: { throttled: number };
  readonly concurrency: number;
  readonly download: (url: string) => Promise<Buffer>;
}

interface FileEntry {
  readonly key: string;
  readonly type: string;
  readonly count: number;
  readonly size: number;
  readonly sha256: string;
}

async function listAll(ctx: CrawlContext, operation: ConnectOperation, input: Input, field: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await sendWithRetry<Doc>(ctx.client, new operation.command({ ...input, NextToken: token } as never), ctx.retry, ctx.counter);
    out.push(...((page[field] as unknown[]) ?? []));
    token = page.NextToken as string | undefined;
  } while (token);
  return out;
}

function withoutMetadata(res: Doc): Doc {
  const { $metadata: _m, NextToken: _n, ...rest } = res;
  return rest;
}

async function describeOne(ctx: CrawlContext, spec: ListDescribeSpec, summary: Doc, files: FileEntry[]): Promise<Doc> {
  const id = summary[spec.summaryId ?? 'Id'];
  const scope = spec.instanceScoped === false ? {} : { InstanceId: ctx.instanceId };
  const res = await sendWithRetry<Doc>(ctx.client, new spec.describe.command({ ...scope, [spec.idField]: id } as never), ctx.retry, ctx.counter);
  const found = spec.describeField ? (res[spec.describeField] as Doc | undefined) : withoutMetadata(res);
  const doc: Doc = { ...(found ?? summary) };
  for (const extra of spec.extras ?? []) {
    doc[extra.field] = await listAll(ctx, extra.op, { InstanceId: ctx.instanceId, [extra.idField]: id }, extra.listField);
  }
  if (spec.promptAudio) await attachPromptAudio(ctx, String(id), doc, files);
  return sortDeepLists(withoutSecrets(doc)) as Doc;
}

async function attachPromptAudio(ctx: CrawlContext, promptId: string, doc: Doc, files: FileEntry[]): Promise<void> {
  const file = await sendWithRetry<{ PromptPresignedUrl?: string }>(ctx.client, new GetPromptFileCommand({ InstanceId: ctx.instanceId, PromptId: promptId }), ctx.retry, ctx.counter);
  if (!file.PromptPresignedUrl) return;
  const audio = await ctx.download(file.PromptPresignedUrl);
  const key = `${ctx.prefix}prompts/${promptId}${audioExtension(file.PromptPresignedUrl)}`;
  await ctx.store.put(key, audio, { contentType: 'application/octet-stream' });
  files.push({ key, type: 'prompt-audio', count: 1, size: audio.length, sha256: sha256Hex(audio) });
  doc.AudioFile = { key: key.slice(ctx.prefix.length), size: audio.length, sha256: sha256Hex(audio) };
}

/** Crawls one resource type (one shard of it): its documents, and the audio files written on the way. */
async function crawlType(ctx: CrawlContext, spec: ConnectResourceSpec, shard: ConnectShard): Promise<{ documents: unknown[]; files: FileEntry[] }> {
  const files: FileEntry[] = [];
  if (spec.kind === 'single') {
    const res = await sendWithRetry<Doc>(ctx.client, new spec.describe.command({ InstanceId: ctx.instanceId } as never), ctx.retry, ctx.counter);
    const doc = res[spec.describeField];
    return { documents: doc === undefined || doc === null ? [] : [sortDeepLists(withoutSecrets(doc))], files };
  }
  if (spec.kind === 'list') {
    const documents: unknown[] = [];
    for (const variant of spec.variants ?? [{}]) {
      const items = await listAll(ctx, spec.list, { InstanceId: ctx.instanceId, ...variant }, spec.listField);
      documents.push(...items.map((x) => (x && typeof x === 'object' && spec.variants ? { ...variant, ...(x as Doc) } : x)));
    }
    return { documents: (sortDeepLists(withoutSecrets(documents)) as unknown[]).sort(byId), files };
  }
  const summaries = (await listAll(ctx, spec.list, { InstanceId: ctx.instanceId, ...spec.listInput }, spec.listField)) as Doc[];
  const mine = [...summaries].sort(byId).filter((_, i) => i % shard.count === shard.index);
  const documents = await mapLimit(mine, ctx.concurrency, (s) => describeOne(ctx, spec, s, files));
  return { documents: documents.sort(byId), files };
}

export interface ConnectExportOptions {
  readonly client: ConnectLike;
  readonly instanceId: string;
  /** Where to write (the export bucket). */
  readonly store: ObjectStore;
  /** `naming.datasetNightPrefix(night, dataset)`, ending in `/`. */
  readonly prefix: string;
  /** Downloads a prompt's presigned URL. @default global fetch */
  readonly download?: (url: string) => Promise<Buffer>;
  readonly retry?: RetryOptions;
  /** Describe calls in flight. @default 4 */
  readonly concurrency?: number;
}

export interface ConnectExportResult {
  readonly objects: number;
  readonly bytes: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly throttled: number;
  readonly indexKey: string;
}

async function defaultDownload(url: string): Promise<Buffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GetPromptFile URL returned HTTP ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

function audioExtension(url: string): string {
  try {
    const m = /\.([a-z0-9]{2,5})$/i.exec(new URL(url).pathname);
    return m ? `.${m[1].toLowerCase()}` : '.wav';
  } catch {
    return '.wav';
  }
}

function contextOf(opts: ConnectExportOptions): CrawlContext {
  return {
    client: opts.client,
    instanceId: opts.instanceId,
    store: opts.store,
    prefix: opts.prefix.endsWith('/') ? opts.prefix : `${opts.prefix}/`,
    retry: opts.retry ?? {},
    counter: { throttled: 0 },
    concurrency: opts.concurrency ?? 4,
    download: opts.download ?? defaultDownload,
  };
}

/** Resolves type names to specs, in export order; unknown names are an error that lists the known ones. */
export function resourceSpecs(types?: readonly string[]): ConnectResourceSpec[] {
  if (!types) return [...CONNECT_RESOURCES];
  const known = new Set(CONNECT_RESOURCES.map((s) => s.type));
  const unknown = types.filter((t) => !known.has(t));
  if (unknown.length) throw new Error(`connect-export: unknown resource type(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return CONNECT_RESOURCES.filter((s) => types.includes(s.type));
}

async function writeJson(store: ObjectStore, key: string, value: unknown): Promise<Buffer> {
  const body = Buffer.from(`${canonicalJson(value)}\n`);
  await store.put(key, body, { contentType: 'application/json' });
  return body;
}

/** Writes `<type>.json` for each type and then `index.json` (the document count the verifier checks). */
async function writeTypesAndIndex(ctx: CrawlContext, crawled: readonly { spec: ConnectResourceSpec; documents: unknown[]; files: FileEntry[] }[]): Promise<ConnectExportResult> {
  const files: FileEntry[] = [];
  const resources: Record<string, number> = {};
  for (const { spec, documents, files: extra } of crawled) {
    const value = spec.kind === 'single' ? (documents[0] ?? null) : documents;
    const key = `${ctx.prefix}${spec.type}.json`;
    const body = await writeJson(ctx.store, key, value);
    resources[spec.type] = documents.length;
    files.push({ key, type: spec.type, count: documents.length, size: body.length, sha256: sha256Hex(body) }, ...extra);
  }
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const index = {
    formatVersion: 1,
    instanceId: ctx.instanceId,
    resources,
    files: files.map((f) => ({ key: f.key.slice(ctx.prefix.length), type: f.type, count: f.count, size: f.size, sha256: f.sha256 })),
  };
  const indexKey = `${ctx.prefix}index.json`;
  const indexBody = await writeJson(ctx.store, indexKey, index);
  return { objects: files.length + 1, bytes: files.reduce((n, f) => n + f.size, 0) + indexBody.length, resources, throttled: ctx.counter.throttled, indexKey };
}

/**
 * Crawls the whole instance in one go and writes `<prefix><type>.json`, `<prefix>prompts/<id>.<ext>`
 * and `<prefix>index.json`. For small instances, the CLI job and the drill; the nightly pipeline
 * uses plan → exportConnectResourceTypes (Map) → finalizeConnectExport.
 */
export async function exportConnectConfiguration(opts: ConnectExportOptions): Promise<ConnectExportResult> {
  const ctx = contextOf(opts);
  const crawled = [];
  for (const spec of CONNECT_RESOURCES) crawled.push({ spec, ...(await crawlType(ctx, spec, { index: 0, count: 1 })) });
  return writeTypesAndIndex(ctx, crawled);
}

/** Key of one Map item's part for one type. */
export function connectPartKey(prefix: string, type: string, shard: ConnectShard): string {
  return `${prefix}parts/${type}/${String(shard.index).padStart(4, '0')}-of-${String(shard.count).padStart(4, '0')}.json`;
}

export interface ConnectPartsResult {
  readonly objects: number;
  readonly bytes: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly throttled: number;
}

function checkShard(shard: ConnectShard): void {
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new Error(`connect-export: shard must be { index, count } with 0 <= index < count, got ${JSON.stringify(shard)}`);
  }
}

/** One Map item: crawls the named types (this shard of each) into `<prefix>parts/<type>/<i>-of-<n>.json`. */
export async function exportConnectResourceTypes(opts: ConnectExportOptions & { readonly resourceTypes: readonly string[]; readonly shard?: ConnectShard }): Promise<ConnectPartsResult> {
  const shard = opts.shard ?? { index: 0, count: 1 };
  checkShard(shard);
  const specs = resourceSpecs(opts.resourceTypes);
  if (shard.count > 1 && specs.some((s) => s.kind !== 'listDescribe')) throw new Error(`connect-export: only List+Describe types can be sharded; got ${opts.resourceTypes.join(', ')}`);
  const ctx = contextOf(opts);
  let objects = 0;
  let bytes = 0;
  const resources: Record<string, number> = {};
  for (const spec of specs) {
    const { documents, files } = await crawlType(ctx, spec, shard);
    const body = await writeJson(ctx.store, connectPartKey(ctx.prefix, spec.type, shard), { type: spec.type, shard, documents, files: files.map((f) => ({ ...f, key: f.key.slice(ctx.prefix.length) })) });
    resources[spec.type] = documents.length;
    objects += files.length + 1;
    bytes += body.length + files.reduce((n, f) => n + f.size, 0);
  }
  return { objects, bytes, resources, throttled: ctx.counter.throttled };
}

interface Part {
  readonly type: string;
  readonly shard: ConnectShard;
  readonly documents: unknown[];
  readonly files: FileEntry[];
}

/** The parts of one type: all shards of one count must be there, or the export is incomplete (never a silent gap). */
async function readParts(ctx: CrawlContext, type: string): Promise<Part[]> {
  const parts: Part[] = [];
  for await (const o of ctx.store.list(`${ctx.prefix}parts/${type}/`)) parts.push(JSON.parse((await ctx.store.getBytes(o.key)).toString('utf8')) as Part);
  if (!parts.length) throw new Error(`connect-export: no part for resource type ${type} under ${ctx.prefix}parts/${type}/; did its Map item run?`);
  // a re-run with a different shard count leaves older parts: use the newest complete set (the largest count with every shard present)
  const counts = [...new Set(parts.map((p) => p.shard.count))].sort((a, b) => b - a);
  for (const count of counts) {
    const set = parts.filter((p) => p.shard.count === count);
    if (new Set(set.map((p) => p.shard.index)).size === count) return set.sort((a, b) => a.shard.index - b.shard.index);
  }
  const missing = counts.map((c) => `${c - new Set(parts.filter((p) => p.shard.count === c).map((p) => p.shard.index)).size} of ${c}`);
  throw new Error(`connect-export: resource type ${type} is incomplete: shards missing (${missing.join('; ')})`);
}

/** After the Map: merges each type's parts into `<type>.json` and writes `index.json` (same layout as the one-shot export). */
export async function finalizeConnectExport(opts: Omit<ConnectExportOptions, 'client'> & { readonly resourceTypes?: readonly string[] }): Promise<ConnectExportResult> {
  const ctx = contextOf({ ...opts, client: { send: async () => { throw new Error('finalize makes no Connect call'); } } });
  const crawled = [];
  for (const spec of resourceSpecs(opts.resourceTypes)) {
    const parts = await readParts(ctx, spec.type);
    const documents = parts.flatMap((p) => p.documents).sort(byId);
    const files = parts.flatMap((p) => p.files).map((f) => ({ ...f, key: `${ctx.prefix}${f.key}` }));
    crawled.push({ spec, documents, files });
  }
  return writeTypesAndIndex(ctx, crawled);
}

/** One Step Functions Map item: the handler event's `resourceTypes` and `shard`. */
export interface ConnectMapItem {
  readonly resourceTypes: readonly string[];
  /** Always set (`{ index: 0, count: 1 }` when the item is not sharded), so a Map's JSONPath to it always resolves. */
  readonly shard: ConnectShard;
  /** Estimated Connect calls and seconds at the planned rate (for the log and the docs). */
  readonly estimatedCalls: number;
  readonly estimatedSeconds: number;
}

export interface ConnectPlanOptions {
  readonly client: ConnectLike;
  readonly instanceId: string;
  readonly retry?: RetryOptions;
  /** Seconds of Connect calls one Map item may plan for (the Lambda has 900 s; the rest is margin for backoff). @default 600 */
  readonly budgetSeconds?: number;
  /** Requests per second assumed for one API (Connect's default quota). @default 2 */
  readonly requestsPerSecond?: number;
}

/** Calls crawling `n` resources of a type takes, given its List pages. */
function estimatedCalls(spec: ConnectResourceSpec, count: number, listPages: number): number {
  if (spec.kind !== 'listDescribe') return listPages;
  const perItem = 1 + (spec.extras?.length ?? 0) + (spec.promptAudio ? 1 : 0);
  return listPages + count * perItem;
}

/**
 * Counts each List+Describe type (List calls only) and packs the types into Map items that each
 * fit `budgetSeconds` at `requestsPerSecond`: a group whose types fit together is one item; a type
 * too big for one item (users, at scale) is split into shards, each listing all ids and describing
 * its share.
 */
export async function planConnectExport(opts: ConnectPlanOptions): Promise<{ items: ConnectMapItem[]; calls: number }> {
  const ctx = contextOf({ client: opts.client, instanceId: opts.instanceId, store: undefined as never, prefix: '/', retry: opts.retry });
  const rate = opts.requestsPerSecond ?? 2;
  const budgetCalls = Math.max(1, Math.floor((opts.budgetSeconds ?? 600) * rate));
  const byGroup = new Map<string, { spec: ConnectResourceSpec; calls: number; pages: number }[]>();
  let planCalls = 0;
  for (const spec of CONNECT_RESOURCES) {
    let pages = spec.kind === 'list' ? (spec.variants?.length ?? 1) : 1;
    let count = 0;
    if (spec.kind === 'listDescribe') {
      const counted = await countList(ctx, spec);
      pages = counted.pages;
      count = counted.count;
      planCalls += counted.pages;
    }
    const list = byGroup.get(spec.group) ?? [];
    list.push({ spec, calls: estimatedCalls(spec, count, pages), pages });
    byGroup.set(spec.group, list);
  }
  const items: ConnectMapItem[] = [];
  const item = (types: string[], calls: number, shard: ConnectShard = { index: 0, count: 1 }): ConnectMapItem => ({ resourceTypes: types, shard, estimatedCalls: calls, estimatedSeconds: Math.ceil(calls / rate) });
  for (const entries of byGroup.values()) {
    const total = entries.reduce((n, e) => n + e.calls, 0);
    if (total <= budgetCalls) {
      items.push(item(entries.map((e) => e.spec.type), total));
      continue;
    }
    for (const e of entries) {
      // each shard lists every page again, then describes its share
      const shardable = e.spec.kind === 'listDescribe' && e.calls > budgetCalls;
      const count = shardable ? Math.ceil((e.calls - e.pages) / Math.max(1, budgetCalls - e.pages)) : 1;
      if (count === 1) items.push(item([e.spec.type], e.calls));
      else for (let i = 0; i < count; i++) items.push(item([e.spec.type], e.pages + Math.ceil((e.calls - e.pages) / count), { index: i, count }));
    }
  }
  return { items, calls: planCalls };
}

async function countList(ctx: CrawlContext, spec: ListDescribeSpec): Promise<{ count: number; pages: number }> {
  let count = 0;
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await sendWithRetry<Doc>(ctx.client, new spec.list.command({ InstanceId: ctx.instanceId, ...spec.listInput, NextToken: token } as never), ctx.retry, ctx.counter);
    count += ((page[spec.listField] as unknown[]) ?? []).length;
    pages++;
    token = page.NextToken as string | undefined;
  } while (token);
  return { count, pages };
}
