/**
 * A `ConnectLike` client that serves a recorded fixture (test/fixtures/connect-instance.json shape)
 * through the same `send(command)` interface as `ConnectClient`: List* calls are paginated
 * (`pageSize`), Describe* return the recorded resource, GetPromptFile returns a `data:` URL of the
 * recorded audio. Optionally throws `ThrottlingException` every `throttleEvery` calls, so the
 * crawler's retry path runs. Used by the drill and the tests (moto has no Connect). The resource
 * types added for the full rebuild (phone numbers, agent statuses, ...) are optional in the fixture
 * and read as empty when absent.
 */
import type { ConnectLike } from './connect';

export interface ConnectFixture {
  readonly instanceId: string;
  readonly contactFlows: Record<string, unknown>[];
  readonly contactFlowModules: Record<string, unknown>[];
  readonly queues: Record<string, unknown>[];
  readonly routingProfiles: Record<string, unknown>[];
  readonly routingProfileQueues: Record<string, unknown[]>;
  readonly hoursOfOperations: Record<string, unknown>[];
  readonly prompts: Record<string, unknown>[];
  readonly promptAudio: Record<string, string>;
  readonly quickConnects: Record<string, unknown>[];
  readonly users: Record<string, unknown>[];
  readonly userHierarchyGroups: Record<string, unknown>[];
  readonly hierarchyStructure: Record<string, unknown>;
  readonly securityProfiles: Record<string, unknown>[];
  readonly securityProfilePermissions: Record<string, string[]>;
  readonly queueQuickConnects?: Record<string, unknown[]>;
  readonly agentStatuses?: Record<string, unknown>[];
  /** `ClaimedPhoneNumberSummary` shapes. */
  readonly phoneNumbers?: Record<string, unknown>[];
  readonly flowAssociations?: Record<string, unknown>[];
  readonly lexBots?: Record<string, unknown>[];
  readonly lambdaFunctions?: string[];
  readonly approvedOrigins?: string[];
  readonly instance?: Record<string, unknown>;
  readonly instanceAttributes?: Record<string, unknown>[];
  /** Storage configs by `ResourceType`. */
  readonly instanceStorageConfigs?: Record<string, unknown[]>;
  /** `GetTaskTemplate` responses. */
  readonly taskTemplates?: Record<string, unknown>[];
  readonly rules?: Record<string, unknown>[];
  readonly views?: Record<string, unknown>[];
  readonly predefinedAttributes?: Record<string, unknown>[];
}

interface Table {
  readonly items: (f: ConnectFixture) => Record<string, unknown>[] | undefined;
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly listField: string;
  /** Undefined: the Describe/Get response is the resource itself (GetTaskTemplate). */
  readonly describeField?: string;
  readonly inputId: string;
  /** The List summary of one item. @default { Id, Arn, Name } */
  readonly summary?: (x: Record<string, unknown>) => Record<string, unknown>;
  /** False when the Describe call takes no InstanceId. @default true */
  readonly instanceScoped?: boolean;
}

const TABLES: Record<string, Table> = {
  ContactFlow: { items: (f) => f.contactFlows, id: 'Id', arn: 'Arn', name: 'Name', listField: 'ContactFlowSummaryList', describeField: 'ContactFlow', inputId: 'ContactFlowId' },
  ContactFlowModule: { items: (f) => f.contactFlowModules, id: 'Id', arn: 'Arn', name: 'Name', listField: 'ContactFlowModulesSummaryList', describeField: 'ContactFlowModule', inputId: 'ContactFlowModuleId' },
  Queue: { items: (f) => f.queues, id: 'QueueId', arn: 'QueueArn', name: 'Name', listField: 'QueueSummaryList', describeField: 'Queue', inputId: 'QueueId' },
  RoutingProfile: { items: (f) => f.routingProfiles, id: 'RoutingProfileId', arn: 'RoutingProfileArn', name: 'Name', listField: 'RoutingProfileSummaryList', describeField: 'RoutingProfile', inputId: 'RoutingProfileId' },
  HoursOfOperation: { items: (f) => f.hoursOfOperations, id: 'HoursOfOperationId', arn: 'HoursOfOperationArn', name: 'Name', listField: 'HoursOfOperationSummaryList', describeField: 'HoursOfOperation', inputId: 'HoursOfOperationId' },
  Prompt: { items: (f) => f.prompts, id: 'PromptId', arn: 'PromptARN', name: 'Name', listField: 'PromptSummaryList', describeField: 'Prompt', inputId: 'PromptId' },
  QuickConnect: { items: (f) => f.quickConnects, id: 'QuickConnectId', arn: 'QuickConnectARN', name: 'Name', listField: 'QuickConnectSummaryList', describeField: 'QuickConnect', inputId: 'QuickConnectId' },
  User: { items: (f) => f.users, id: 'Id', arn: 'Arn', name: 'Username', listField: 'UserSummaryList', describeField: 'User', inputId: 'UserId' },
  UserHierarchyGroup: { items: (f) => f.userHierarchyGroups, id: 'Id', arn: 'Arn', name: 'Name', listField: 'UserHierarchyGroupSummaryList', describeField: 'HierarchyGroup', inputId: 'HierarchyGroupId' },
  SecurityProfile: { items: (f) => f.securityProfiles, id: 'Id', arn: 'Arn', name: 'SecurityProfileName', listField: 'SecurityProfileSummaryList', describeField: 'SecurityProfile', inputId: 'SecurityProfileId' },
  AgentStatus: { items: (f) => f.agentStatuses, id: 'AgentStatusId', arn: 'AgentStatusARN', name: 'Name', listField: 'AgentStatusSummaryList', describeField: 'AgentStatus', inputId: 'AgentStatusId' },
  PhoneNumber: {
    items: (f) => f.phoneNumbers, id: 'PhoneNumberId', arn: 'PhoneNumberArn', name: 'PhoneNumber', listField: 'ListPhoneNumbersSummaryList', describeField: 'ClaimedPhoneNumberSummary', inputId: 'PhoneNumberId', instanceScoped: false,
    summary: (x) => ({ PhoneNumberId: x.PhoneNumberId, PhoneNumberArn: x.PhoneNumberArn, PhoneNumber: x.PhoneNumber, TargetArn: x.TargetArn }),
  },
  TaskTemplate: { items: (f) => f.taskTemplates, id: 'Id', arn: 'Arn', name: 'Name', listField: 'TaskTemplates', inputId: 'TaskTemplateId' },
  Rule: { items: (f) => f.rules, id: 'RuleId', arn: 'RuleArn', name: 'Name', listField: 'RuleSummaryList', describeField: 'Rule', inputId: 'RuleId', summary: (x) => ({ RuleId: x.RuleId, RuleArn: x.RuleArn, Name: x.Name }) },
  View: { items: (f) => f.views, id: 'Id', arn: 'Arn', name: 'Name', listField: 'ViewsSummaryList', describeField: 'View', inputId: 'ViewId' },
  PredefinedAttribute: { items: (f) => f.predefinedAttributes, id: 'Name', arn: 'Name', name: 'Name', listField: 'PredefinedAttributeSummaryList', describeField: 'PredefinedAttribute', inputId: 'Name', summary: (x) => ({ Name: x.Name }) },
};

const LIST_NAMES: Record<string, string> = {
  ListContactFlowsCommand: 'ContactFlow', ListContactFlowModulesCommand: 'ContactFlowModule', ListQueuesCommand: 'Queue',
  ListRoutingProfilesCommand: 'RoutingProfile', ListHoursOfOperationsCommand: 'HoursOfOperation', ListPromptsCommand: 'Prompt',
  ListQuickConnectsCommand: 'QuickConnect', ListUsersCommand: 'User', ListUserHierarchyGroupsCommand: 'UserHierarchyGroup', ListSecurityProfilesCommand: 'SecurityProfile',
  ListAgentStatusesCommand: 'AgentStatus', ListPhoneNumbersV2Command: 'PhoneNumber', ListTaskTemplatesCommand: 'TaskTemplate', ListRulesCommand: 'Rule',
  ListViewsCommand: 'View', ListPredefinedAttributesCommand: 'PredefinedAttribute',
};
const DESCRIBE_NAMES: Record<string, string> = {
  DescribeContactFlowCommand: 'ContactFlow', DescribeContactFlowModuleCommand: 'ContactFlowModule', DescribeQueueCommand: 'Queue',
  DescribeRoutingProfileCommand: 'RoutingProfile', DescribeHoursOfOperationCommand: 'HoursOfOperation', DescribePromptCommand: 'Prompt',
  DescribeQuickConnectCommand: 'QuickConnect', DescribeUserCommand: 'User', DescribeUserHierarchyGroupCommand: 'UserHierarchyGroup', DescribeSecurityProfileCommand: 'SecurityProfile',
  DescribeAgentStatusCommand: 'AgentStatus', DescribePhoneNumberCommand: 'PhoneNumber', GetTaskTemplateCommand: 'TaskTemplate', DescribeRuleCommand: 'Rule',
  DescribeViewCommand: 'View', DescribePredefinedAttributeCommand: 'PredefinedAttribute',
};

/** List-only calls: the fixture field served and the response field. */
const LIST_ONLY: Record<string, { readonly items: (f: ConnectFixture, input: Record<string, unknown>) => unknown[] | undefined; readonly field: string }> = {
  ListFlowAssociationsCommand: { items: (f, i) => f.flowAssociations?.filter((a) => !i.ResourceType || a.ResourceType === i.ResourceType), field: 'FlowAssociationSummaryList' },
  ListBotsCommand: { items: (f, i) => (i.LexVersion === 'V2' ? f.lexBots : []), field: 'LexBots' },
  ListLambdaFunctionsCommand: { items: (f) => f.lambdaFunctions, field: 'LambdaFunctions' },
  ListApprovedOriginsCommand: { items: (f) => f.approvedOrigins, field: 'Origins' },
  ListInstanceAttributesCommand: { items: (f) => f.instanceAttributes, field: 'Attributes' },
  ListInstanceStorageConfigsCommand: { items: (f, i) => f.instanceStorageConfigs?.[String(i.ResourceType)], field: 'StorageConfigs' },
  ListRoutingProfileQueuesCommand: { items: (f, i) => f.routingProfileQueues[String(i.RoutingProfileId)], field: 'RoutingProfileQueueConfigSummaryList' },
  ListSecurityProfilePermissionsCommand: { items: (f, i) => f.securityProfilePermissions[String(i.SecurityProfileId)], field: 'Permissions' },
  ListQueueQuickConnectsCommand: { items: (f, i) => f.queueQuickConnects?.[String(i.QueueId)], field: 'QuickConnectSummaryList' },
};

export interface FixtureClientOptions {
  /** Items per List page. @default 2 */
  readonly pageSize?: number;
  /** Throw ThrottlingException on every n-th call (0 = never). @default 0 */
  readonly throttleEvery?: number;
  /** Reverse List order (proves the output does not depend on API order). */
  readonly reverse?: boolean;
}

class FixtureError extends Error {
  constructor(name: string, message: string, readonly $metadata: { httpStatusCode: number }) {
    super(message);
    this.name = name;
  }
}

export class FixtureConnectClient implements ConnectLike {
  calls = 0;
  throttles = 0;
  readonly commands: string[] = [];
  constructor(readonly fixture: ConnectFixture, readonly options: FixtureClientOptions = {}) {}

  private page<T>(items: T[], token: string | undefined): { page: T[]; next?: string } {
    const size = this.options.pageSize ?? 2;
    const start = token ? Number(token) : 0;
    const page = items.slice(start, start + size);
    return { page, next: start + size < items.length ? String(start + size) : undefined };
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<Record<string, unknown>> {
    this.calls++;
    const name = command.constructor.name;
    this.commands.push(name);
    const every = this.options.throttleEvery ?? 0;
    if (every > 0 && this.calls % every === 0) {
      this.throttles++;
      throw new FixtureError('ThrottlingException', 'Rate exceeded', { httpStatusCode: 429 });
    }
    const input = command.input;
    if (name !== 'DescribePhoneNumberCommand' && input.InstanceId !== this.fixture.instanceId) throw new FixtureError('ResourceNotFoundException', `instance ${String(input.InstanceId)} not found`, { httpStatusCode: 404 });
    const token = input.NextToken as string | undefined;
    if (LIST_NAMES[name]) {
      const t = TABLES[LIST_NAMES[name]];
      let items = (t.items(this.fixture) ?? []).map((x) => (t.summary ? t.summary(x) : { Id: x[t.id], Arn: x[t.arn], Name: x[t.name] }));
      if (this.options.reverse) items = items.reverse();
      const { page, next } = this.page(items, token);
      return { [t.listField]: page, NextToken: next };
    }
    if (DESCRIBE_NAMES[name]) {
      const t = TABLES[DESCRIBE_NAMES[name]];
      const found = (t.items(this.fixture) ?? []).find((x) => x[t.id] === input[t.inputId]);
      if (!found) throw new FixtureError('ResourceNotFoundException', `${t.inputId} ${String(input[t.inputId])} not found`, { httpStatusCode: 404 });
      const copy = JSON.parse(JSON.stringify(found)) as Record<string, unknown>;
      return t.describeField ? { [t.describeField]: copy } : copy;
    }
    if (LIST_ONLY[name]) {
      const { page, next } = this.page(LIST_ONLY[name].items(this.fixture, input) ?? [], token);
      return { [LIST_ONLY[name].field]: page, NextToken: next };
    }
    switch (name) {
      case 'DescribeInstanceCommand':
        return { Instance: this.fixture.instance };
      case 'DescribeUserHierarchyStructureCommand':
        return { HierarchyStructure: this.fixture.hierarchyStructure };
      case 'GetPromptFileCommand': {
        const audio = this.fixture.promptAudio[input.PromptId as string];
        return audio ? { PromptPresignedUrl: `data:audio/wav;base64,${audio}` } : {};
      }
      default:
        throw new FixtureError('UnknownOperation', `fixture client does not serve ${name}`, { httpStatusCode: 400 });
    }
  }
}

/** A resource held by {@link InMemoryConnectTarget}. */
export interface TargetResource {
  readonly Id: string;
  readonly Arn: string;
  readonly Name: string;
  readonly input: Record<string, unknown>;
}

/** Create command → [collection, id output field, arn output field, ARN resource segment, name input field]. */
const TARGET_CREATES: Record<string, readonly [string, string, string, string, string]> = {
  CreateHoursOfOperationCommand: ['hours', 'HoursOfOperationId', 'HoursOfOperationArn', 'operating-hours', 'Name'],
  CreateQueueCommand: ['queues', 'QueueId', 'QueueArn', 'queue', 'Name'],
  CreatePromptCommand: ['prompts', 'PromptId', 'PromptARN', 'prompt', 'Name'],
  CreateContactFlowModuleCommand: ['modules', 'Id', 'Arn', 'flow-module', 'Name'],
  CreateContactFlowCommand: ['flows', 'ContactFlowId', 'ContactFlowArn', 'contact-flow', 'Name'],
  CreateRoutingProfileCommand: ['routingProfiles', 'RoutingProfileId', 'RoutingProfileArn', 'routing-profile', 'Name'],
  CreateSecurityProfileCommand: ['securityProfiles', 'SecurityProfileId', 'SecurityProfileArn', 'security-profile', 'SecurityProfileName'],
  CreateQuickConnectCommand: ['quickConnects', 'QuickConnectId', 'QuickConnectARN', 'transfer-destination', 'Name'],
  CreateUserCommand: ['users', 'UserId', 'UserArn', 'agent', 'Username'],
};
const TARGET_LISTS: Record<string, readonly [string, string]> = {
  ListHoursOfOperationsCommand: ['hours', 'HoursOfOperationSummaryList'], ListQueuesCommand: ['queues', 'QueueSummaryList'],
  ListPromptsCommand: ['prompts', 'PromptSummaryList'], ListContactFlowModulesCommand: ['modules', 'ContactFlowModulesSummaryList'],
  ListContactFlowsCommand: ['flows', 'ContactFlowSummaryList'], ListRoutingProfilesCommand: ['routingProfiles', 'RoutingProfileSummaryList'],
  ListSecurityProfilesCommand: ['securityProfiles', 'SecurityProfileSummaryList'], ListQuickConnectsCommand: ['quickConnects', 'QuickConnectSummaryList'],
  ListUsersCommand: ['users', 'UserSummaryList'],
};

/**
 * An in-memory Amazon Connect instance that accepts the calls of `applyConnectConfiguration`
 * (lib/runtime/connect-apply.ts): List (real summary shapes: `Username` for users), Create (unique
 * names, like Connect: a duplicate is `DuplicateResourceException`), content and association
 * updates. Like Connect, it refuses flow/module content that references a resource of this
 * instance that does not exist or a resource of another instance (`InvalidContactFlowException`).
 * `failAfterCreates` makes the n+1-th create throw, to test a crash and the re-run.
 */
export class InMemoryConnectTarget implements ConnectLike {
  readonly instanceArn: string;
  readonly collections = new Map<string, TargetResource[]>();
  readonly sent: string[] = [];
  readonly associations: { queueQuickConnects: Map<string, Set<string>>; routingProfileQueues: Map<string, Record<string, unknown>[]> } = { queueQuickConnects: new Map(), routingProfileQueues: new Map() };
  creates = 0;
  private seq = 0;
  constructor(readonly instanceId: string, readonly options: { readonly region?: string; readonly account?: string; failAfterCreates?: number } = {}) {
    this.instanceArn = `arn:aws:connect:${options.region ?? 'eu-west-1'}:${options.account ?? '444455556666'}:instance/${instanceId}`;
  }

  /** Adds a resource as if the instance came with it (Connect's defaults: BasicQueue, Admin, ...). */
  seed(collection: string, segment: string, name: string, input: Record<string, unknown> = {}): TargetResource {
    const id = this.newId();
    const r = { Id: id, Arn: `${this.instanceArn}/${segment}/${id}`, Name: name, input };
    this.list(collection).push(r);
    return r;
  }

  list(collection: string): TargetResource[] {
    if (!this.collections.has(collection)) this.collections.set(collection, []);
    return this.collections.get(collection)!;
  }

  private newId(): string {
    this.seq++;
    return `aaaaaaaa-0000-4000-8000-${String(this.seq).padStart(12, '0')}`;
  }

  private find(collection: string, id: unknown): TargetResource {
    const r = this.list(collection).find((x) => x.Id === id);
    if (!r) throw new FixtureError('ResourceNotFoundException', `${collection} ${String(id)} not found`, { httpStatusCode: 404 });
    return r;
  }

  /** Connect validates flow references: every ARN of an instance must be this instance's and exist; every id-shaped reference must exist. */
  private checkContent(content: unknown): void {
    const text = String(content);
    JSON.parse(text);
    for (const m of text.matchAll(/arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/([0-9a-f-]{36})(?:\/[a-z-]+\/([0-9a-f-]{36}))?/g)) {
      if (m[1] !== this.instanceId) throw new FixtureError('InvalidContactFlowException', `content references another instance: ${m[0]}`, { httpStatusCode: 400 });
      if (m[2] && !this.exists(m[2])) throw new FixtureError('InvalidContactFlowException', `content references a resource that does not exist: ${m[0]}`, { httpStatusCode: 400 });
    }
    for (const m of text.matchAll(/"(?:QueueId|FlowModuleId|ContactFlowId|PromptId|HoursOfOperationId)":"([0-9a-f-]{36})"/g)) {
      if (!this.exists(m[1])) throw new FixtureError('InvalidContactFlowException', `content references an id that does not exist: ${m[1]}`, { httpStatusCode: 400 });
    }
  }

  private exists(id: string): boolean {
    return [...this.collections.values()].some((c) => c.some((r) => r.Id === id));
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<Record<string, unknown>> {
    const name = command.constructor.name;
    const input = command.input;
    this.sent.push(name);
    if (input.InstanceId !== this.instanceId) throw new FixtureError('ResourceNotFoundException', `instance ${String(input.InstanceId)} not found`, { httpStatusCode: 404 });
    if (TARGET_LISTS[name]) {
      const [collection, field] = TARGET_LISTS[name];
      const key = name === 'ListUsersCommand' ? 'Username' : 'Name';
      return { [field]: this.list(collection).map((r) => ({ Id: r.Id, Arn: r.Arn, [key]: r.Name })) };
    }
    if (TARGET_CREATES[name]) return this.create(name, input);
    return this.update(name, input);
  }

  private create(name: string, input: Record<string, unknown>): Record<string, unknown> {
    const [collection, idField, arnField, segment, nameField] = TARGET_CREATES[name];
    if (this.options.failAfterCreates !== undefined && this.creates >= this.options.failAfterCreates) throw new FixtureError('InternalServiceException', 'simulated crash', { httpStatusCode: 500 });
    if (this.list(collection).some((r) => r.Name === input[nameField])) throw new FixtureError('DuplicateResourceException', `${collection} ${String(input[nameField])} exists`, { httpStatusCode: 409 });
    if (name === 'CreateContactFlowCommand' || name === 'CreateContactFlowModuleCommand') this.checkContent(input.Content);
    if (name === 'CreatePromptCommand' && !/^s3:\/\/|^https:\/\//.test(String(input.S3Uri))) throw new FixtureError('InvalidParameterException', 'S3Uri required', { httpStatusCode: 400 });
    this.creates++;
    const r = this.seed(collection, segment, String(input[nameField]), JSON.parse(JSON.stringify(input)) as Record<string, unknown>);
    if (name === 'CreateRoutingProfileCommand' && Array.isArray(input.QueueConfigs)) this.update('AssociateRoutingProfileQueuesCommand', { RoutingProfileId: r.Id, QueueConfigs: input.QueueConfigs });
    return { [idField]: r.Id, [arnField]: r.Arn };
  }

  private update(name: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (name) {
      case 'DescribeContactFlowCommand': {
        const r = this.find('flows', input.ContactFlowId);
        return { ContactFlow: { Id: r.Id, Arn: r.Arn, Name: r.Name, Content: r.input.Content } };
      }
      case 'DescribeContactFlowModuleCommand': {
        const r = this.find('modules', input.ContactFlowModuleId);
        return { ContactFlowModule: { Id: r.Id, Arn: r.Arn, Name: r.Name, Content: r.input.Content } };
      }
      case 'UpdateContactFlowContentCommand':
      case 'UpdateContactFlowModuleContentCommand': {
        const r = this.find(name === 'UpdateContactFlowContentCommand' ? 'flows' : 'modules', input.ContactFlowId ?? input.ContactFlowModuleId);
        this.checkContent(input.Content);
        r.input.Content = input.Content;
        return {};
      }
      case 'DescribeQueueCommand': {
        const r = this.find('queues', input.QueueId);
        return { Queue: { QueueId: r.Id, QueueArn: r.Arn, Name: r.Name, ...r.input } };
      }
      case 'UpdateQueueOutboundCallerConfigCommand':
        this.find('queues', input.QueueId).input.OutboundCallerConfig = input.OutboundCallerConfig;
        return {};
      case 'ListQueueQuickConnectsCommand':
        return { QuickConnectSummaryList: [...(this.associations.queueQuickConnects.get(String(this.find('queues', input.QueueId).Id)) ?? [])].map((Id) => ({ Id })) };
      case 'AssociateQueueQuickConnectsCommand': {
        const set = this.associations.queueQuickConnects.get(String(input.QueueId)) ?? new Set<string>();
        for (const id of input.QuickConnectIds as string[]) { this.find('quickConnects', id); set.add(id); }
        this.associations.queueQuickConnects.set(String(input.QueueId), set);
        return {};
      }
      case 'ListRoutingProfileQueuesCommand':
        return { RoutingProfileQueueConfigSummaryList: this.associations.routingProfileQueues.get(String(this.find('routingProfiles', input.RoutingProfileId).Id)) ?? [] };
      case 'AssociateRoutingProfileQueuesCommand': {
        const list = this.associations.routingProfileQueues.get(String(input.RoutingProfileId)) ?? [];
        for (const c of input.QueueConfigs as { QueueReference: { QueueId: string; Channel: string }; Priority: number; Delay: number }[]) {
          this.find('queues', c.QueueReference.QueueId);
          list.push({ QueueId: c.QueueReference.QueueId, Channel: c.QueueReference.Channel, Priority: c.Priority, Delay: c.Delay });
        }
        this.associations.routingProfileQueues.set(String(input.RoutingProfileId), list);
        return {};
      }
      default:
        throw new FixtureError('UnknownOperation', `in-memory target does not serve ${name}`, { httpStatusCode: 400 });
    }
  }
}
