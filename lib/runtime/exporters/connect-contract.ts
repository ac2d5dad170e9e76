/**
 * The Connect crawler's synth-time contract, with no AWS SDK import: the exact IAM actions it calls
 * and the Map concurrency. lib/aws reads these at synth, so a user who synthesizes a plan with a
 * connectInstance dataset needs no @aws-sdk/client-connect. lib/runtime/exporters/connect.ts derives
 * the same list from the SDK commands it really sends; test/runtime/connect.test.ts checks the two
 * are equal, so this list can't drift.
 */

/** The exact IAM actions the crawler calls (sorted; no wildcard). See CONNECT_READ_ACTIONS in ./connect. */
export const CONNECT_IAM_ACTIONS: readonly string[] = [
  'connect:DescribeAgentStatus',
  'connect:DescribeContactFlow',
  'connect:DescribeContactFlowModule',
  'connect:DescribeHoursOfOperation',
  'connect:DescribeInstance',
  'connect:DescribePhoneNumber',
  'connect:DescribePredefinedAttribute',
  'connect:DescribePrompt',
  'connect:DescribeQueue',
  'connect:DescribeQuickConnect',
  'connect:DescribeRoutingProfile',
  'connect:DescribeRule',
  'connect:DescribeSecurityProfile',
  'connect:DescribeUser',
  'connect:DescribeUserHierarchyGroup',
  'connect:DescribeUserHierarchyStructure',
  'connect:DescribeView',
  'connect:GetPromptFile',
  'connect:GetTaskTemplate',
  'connect:ListAgentStatuses',
  'connect:ListApprovedOrigins',
  'connect:ListBots',
  'connect:ListContactFlowModules',
  'connect:ListContactFlows',
  'connect:ListFlowAssociations',
  'connect:ListHoursOfOperations',
  'connect:ListInstanceAttributes',
  'connect:ListInstanceStorageConfigs',
  'connect:ListLambdaFunctions',
  'connect:ListPhoneNumbersV2',
  'connect:ListPredefinedAttributes',
  'connect:ListPrompts',
  'connect:ListQueueQuickConnects',
  'connect:ListQueues',
  'connect:ListQuickConnects',
  'connect:ListRoutingProfileQueues',
  'connect:ListRoutingProfiles',
  'connect:ListRules',
  'connect:ListSecurityProfilePermissions',
  'connect:ListSecurityProfiles',
  'connect:ListTaskTemplates',
  'connect:ListUserHierarchyGroups',
  'connect:ListUsers',
  'connect:ListViews',
];

/** Map items run one at a time: Connect's limits are per API and per account (see ./connect). */
export const CONNECT_MAP_ITEMS_AT_ONCE = 1;
