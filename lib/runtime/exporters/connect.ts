/**
 * Amazon Connect configuration crawler. Connect has no whole-instance export, so this walks the
 * List/Describe APIs of every resource type that a rebuild needs, paginated, retrying throttling
 * with exponential backoff, and writes deterministic JSON (keys sorted, lists sorted by Id): one
 * file per resource type plus `index.json`, and each prompt's audio (from `GetPromptFile`'s
 * presigned URL) under `prompts/`. Users are written without any password field.
 *
 * The crawler talks to a `ConnectLike` (anything with the SDK's `send(command)`), so the drill and
 * the tests serve it a recorded fixture through the same interface (moto has no Connect).
 */
import {
  ListContactFlowsCommand, DescribeContactFlowCommand, ListContactFlowModulesCommand, DescribeContactFlowModuleCommand,
  ListQueuesCommand, DescribeQueueCommand, ListRoutingProfilesCommand, DescribeRoutingProfileCommand, ListRoutingProfileQueuesCommand,
  ListHoursOfOperationsCommand, DescribeHoursOfOperationCommand, ListPromptsCommand, DescribePromptCommand, GetPromptFileCommand,
  ListQuickConnectsCommand, DescribeQuickConnectCommand, ListUsersCommand, DescribeUserCommand, ListUserHierarchyGroupsCommand,
  DescribeUserHierarchyGroupCommand, DescribeUserHierarchyStructureCommand, ListSecurityProfilesCommand, DescribeSecurityProfileCommand,
  ListSecurityProfilePermissionsCommand,
} from '@aws-sdk/client-connect';
import type { ObjectStore } from '../stores/types';
import { canonicalJson, mapLimit, sha256Hex, sleep } from '../util';

/** The slice of `ConnectClient` the crawler uses. */
export interface ConnectLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

type Summary = { Id?: string; Arn?: string; Name?: string };
type Input = Record<string, unknown>;
type CommandCtor = new (input: never) => unknown;

interface ResourceSpec {
  /** File name (without `.json`) and index entry. */
  readonly type: string;
  readonly list: CommandCtor;
  readonly listField: string;
  readonly describe: CommandCtor;
  readonly idField: string;
  readonly describeField: string;
  /** Per-resource extra lists (paginated), attached under `field`. */
  readonly extras?: readonly { readonly command: CommandCtor; readonly idField: string; readonly listField: string; readonly field: string }[];
}

export const CONNECT_RESOURCES: readonly ResourceSpec[] = [
  { type: 'contact-flows', list: ListContactFlowsCommand, listField: 'ContactFlowSummaryList', describe: DescribeContactFlowCommand, idField: 'ContactFlowId', describeField: 'ContactFlow' },
  { type: 'contact-flow-modules', list: ListContactFlowModulesCommand, listField: 'ContactFlowModulesSummaryList', describe: DescribeContactFlowModuleCommand, idField: 'ContactFlowModuleId', describeField: 'ContactFlowModule' },
  { type: 'queues', list: ListQueuesCommand, listField: 'QueueSummaryList', describe: DescribeQueueCommand, idField: 'QueueId', describeField: 'Queue' },
  {
    type: 'routing-profiles', list: ListRoutingProfilesCommand, listField: 'RoutingProfileSummaryList', describe: DescribeRoutingProfileCommand, idField: 'RoutingProfileId', describeField: 'RoutingProfile',
    extras: [{ command: ListRoutingProfileQueuesCommand, idField: 'RoutingProfileId', listField: 'RoutingProfileQueueConfigSummaryList', field: 'Queues' }],
  },
  { type: 'hours-of-operation', list: ListHoursOfOperationsCommand, listField: 'HoursOfOperationSummaryList', describe: DescribeHoursOfOperationCommand, idField: 'HoursOfOperationId', describeField: 'HoursOfOperation' },
  { type: 'prompts', list: ListPromptsCommand, listField: 'PromptSummaryList', describe: DescribePromptCommand, idField: 'PromptId', describeField: 'Prompt' },
  { type: 'quick-connects', list: ListQuickConnectsCommand, listField: 'QuickConnectSummaryList', describe: DescribeQuickConnectCommand, idField: 'QuickConnectId', describeField: 'QuickConnect' },
  { type: 'users', list: ListUsersCommand, listField: 'UserSummaryList', describe: DescribeUserCommand, idField: 'UserId', describeField: 'User' },
  { type: 'user-hierarchy-groups', list: ListUserHierarchyGroupsCommand, listField: 'UserHierarchyGroupSummaryList', describe: DescribeUserHierarchyGroupCommand, idField: 'HierarchyGroupId', describeField: 'HierarchyGroup' },
  {
    type: 'security-profiles', list: ListSecurityProfilesCommand, listField: 'SecurityProfileSummaryList', describe: DescribeSecurityProfileCommand, idField: 'SecurityProfileId', describeField: 'SecurityProfile',
    extras: [{ command: ListSecurityProfilePermissionsCommand, idField: 'SecurityProfileId', listField: 'Permissions', field: 'Permissions' }],
  },
];

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

/** Sends with retries on throttling: exponential backoff with full jitter. */
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

async function listAll(client: ConnectLike, ctor: CommandCtor, input: Input, field: string, retry: RetryOptions, counter: { throttled: number }): Promise<unknown[]> {
  const out: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await sendWithRetry<Record<string, unknown>>(client, new ctor({ ...input, NextToken: token } as never), retry, counter);
    out.push(...((page[field] as unknown[]) ?? []));
    token = page.NextToken as string | undefined;
  } while (token);
  return out;
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

function byId(a: unknown, b: unknown): number {
  const ka = String((a as Summary).Id ?? (a as Summary).Arn ?? JSON.stringify(a));
  const kb = String((b as Summary).Id ?? (b as Summary).Arn ?? JSON.stringify(b));
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

/** Crawls the instance and writes `<prefix><type>.json`, `<prefix>prompts/<id>.<ext>` and `<prefix>index.json`. */
export async function exportConnectConfiguration(opts: ConnectExportOptions): Promise<ConnectExportResult> {
  const { client, instanceId, store } = opts;
  const prefix = opts.prefix.endsWith('/') ? opts.prefix : `${opts.prefix}/`;
  const retry = opts.retry ?? {};
  const counter = { throttled: 0 };
  const files: { key: string; type: string; count: number; sha256: string; size: number }[] = [];
  const resources: Record<string, number> = {};
  const write = async (key: string, body: Buffer, type: string, count: number, contentType: string): Promise<void> => {
    await store.put(key, body, { contentType });
    files.push({ key, type, count, sha256: sha256Hex(body), size: body.length });
  };

  for (const spec of CONNECT_RESOURCES) {
    const summaries = (await listAll(client, spec.list, { InstanceId: instanceId }, spec.listField, retry, counter)) as Summary[];
    const described = await mapLimit([...summaries].sort(byId), opts.concurrency ?? 4, async (s) => {
      const res = await sendWithRetry<Record<string, unknown>>(client, new spec.describe({ InstanceId: instanceId, [spec.idField]: s.Id } as never), retry, counter);
      const doc: Record<string, unknown> = { ...((res[spec.describeField] as Record<string, unknown>) ?? { Id: s.Id, Arn: s.Arn, Name: s.Name }) };
      for (const extra of spec.extras ?? []) {
        doc[extra.field] = await listAll(client, extra.command, { InstanceId: instanceId, [extra.idField]: s.Id }, extra.listField, retry, counter);
      }
      if (spec.type === 'prompts') {
        const file = await sendWithRetry<{ PromptPresignedUrl?: string }>(client, new GetPromptFileCommand({ InstanceId: instanceId, PromptId: s.Id }), retry, counter);
        if (file.PromptPresignedUrl) {
          const audio = await (opts.download ?? defaultDownload)(file.PromptPresignedUrl);
          const key = `${prefix}prompts/${s.Id}${audioExtension(file.PromptPresignedUrl)}`;
          await write(key, audio, 'prompt-audio', 1, 'application/octet-stream');
          doc.AudioFile = { key: key.slice(prefix.length), size: audio.length, sha256: sha256Hex(audio) };
        }
      }
      return sortDeepLists(withoutSecrets(doc));
    });
    resources[spec.type] = described.length;
    await write(`${prefix}${spec.type}.json`, Buffer.from(`${canonicalJson(described)}\n`), spec.type, described.length, 'application/json');
  }

  const structure = await sendWithRetry<{ HierarchyStructure?: unknown }>(client, new DescribeUserHierarchyStructureCommand({ InstanceId: instanceId }), retry, counter);
  resources['user-hierarchy-structure'] = structure.HierarchyStructure ? 1 : 0;
  await write(`${prefix}user-hierarchy-structure.json`, Buffer.from(`${canonicalJson(structure.HierarchyStructure ?? null)}\n`), 'user-hierarchy-structure', resources['user-hierarchy-structure'], 'application/json');

  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const index = {
    formatVersion: 1,
    instanceId,
    resources,
    files: files.map((f) => ({ key: f.key.slice(prefix.length), type: f.type, count: f.count, size: f.size, sha256: f.sha256 })),
  };
  const indexBody = Buffer.from(`${canonicalJson(index)}\n`);
  const indexKey = `${prefix}index.json`;
  await store.put(indexKey, indexBody, { contentType: 'application/json' });
  return {
    objects: files.length + 1,
    bytes: files.reduce((n, f) => n + f.size, 0) + indexBody.length,
    resources,
    throttled: counter.throttled,
    indexKey,
  };
}
