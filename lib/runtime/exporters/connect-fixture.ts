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
