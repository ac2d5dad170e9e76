/**
 * A `ConnectLike` client that serves a recorded fixture (test/fixtures/connect-instance.json shape)
 * through the same `send(command)` interface as `ConnectClient`: List* calls are paginated
 * (`pageSize`), Describe* return the recorded resource, GetPromptFile returns a `data:` URL of the
 * recorded audio. Optionally throws `ThrottlingException` every `throttleEvery` calls, so the
 * crawler's retry path runs. Used by the drill and the tests (moto has no Connect).
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
}

interface Table {
  readonly items: (f: ConnectFixture) => Record<string, unknown>[];
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly listField: string;
  readonly describeField: string;
  readonly inputId: string;
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
};

const LIST_NAMES: Record<string, string> = {
  ListContactFlowsCommand: 'ContactFlow', ListContactFlowModulesCommand: 'ContactFlowModule', ListQueuesCommand: 'Queue',
  ListRoutingProfilesCommand: 'RoutingProfile', ListHoursOfOperationsCommand: 'HoursOfOperation', ListPromptsCommand: 'Prompt',
  ListQuickConnectsCommand: 'QuickConnect', ListUsersCommand: 'User', ListUserHierarchyGroupsCommand: 'UserHierarchyGroup', ListSecurityProfilesCommand: 'SecurityProfile',
};
const DESCRIBE_NAMES: Record<string, string> = {
  DescribeContactFlowCommand: 'ContactFlow', DescribeContactFlowModuleCommand: 'ContactFlowModule', DescribeQueueCommand: 'Queue',
  DescribeRoutingProfileCommand: 'RoutingProfile', DescribeHoursOfOperationCommand: 'HoursOfOperation', DescribePromptCommand: 'Prompt',
  DescribeQuickConnectCommand: 'QuickConnect', DescribeUserCommand: 'User', DescribeUserHierarchyGroupCommand: 'UserHierarchyGroup', DescribeSecurityProfileCommand: 'SecurityProfile',
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
    if (input.InstanceId !== this.fixture.instanceId) throw new FixtureError('ResourceNotFoundException', `instance ${String(input.InstanceId)} not found`, { httpStatusCode: 404 });
    const token = input.NextToken as string | undefined;
    if (LIST_NAMES[name]) {
      const t = TABLES[LIST_NAMES[name]];
      let items = t.items(this.fixture).map((x) => ({ Id: x[t.id], Arn: x[t.arn], Name: x[t.name] }));
      if (this.options.reverse) items = items.reverse();
      const { page, next } = this.page(items, token);
      return { [t.listField]: page, NextToken: next };
    }
    if (DESCRIBE_NAMES[name]) {
      const t = TABLES[DESCRIBE_NAMES[name]];
      const found = t.items(this.fixture).find((x) => x[t.id] === input[t.inputId]);
      if (!found) throw new FixtureError('ResourceNotFoundException', `${t.inputId} ${String(input[t.inputId])} not found`, { httpStatusCode: 404 });
      return { [t.describeField]: JSON.parse(JSON.stringify(found)) };
    }
    switch (name) {
      case 'ListRoutingProfileQueuesCommand': {
        const { page, next } = this.page(this.fixture.routingProfileQueues[input.RoutingProfileId as string] ?? [], token);
        return { RoutingProfileQueueConfigSummaryList: page, NextToken: next };
      }
      case 'ListSecurityProfilePermissionsCommand': {
        const { page, next } = this.page(this.fixture.securityProfilePermissions[input.SecurityProfileId as string] ?? [], token);
        return { Permissions: page, NextToken: next };
      }
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
