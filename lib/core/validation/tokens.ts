/**
 * CDK tokens in a plan. The plan is read by two engines: aws-cdk-lib (the AWS
 * half) and cdktf (the GCP and Azure halves), each synthesizing alone. A token
 * (`${Token[...]}`) only means something inside the app that created it, so it
 * is accepted only in the fields that nothing but the AWS half reads.
 */
import type { IssueCollector } from './collector';

/** An unresolved aws-cdk-lib or cdktf string token, or an encoded list token. */
const TOKEN_RE = /\$\{(Tf)?Token\[[^\]]*\]\}|#\{(Tf)?Token\[[^\]]*\]\}/;
const LIST_TOKEN_RE = /^#\{(Tf)?Token\[[^\]]*\]\}$/;

/** Whether `value` is or contains an unresolved CDK token. Engine-neutral: reads the token's text form. */
export function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_RE.test(value);
}

const NETWORK = String.raw`network\.(vpcId|subnetIds\[\d+\]|securityGroupIds\[\d+\]|availabilityZones\[\d+\])`;
/** Fields only the AWS half reads: they may be tokens. */
const AWS_ONLY_FIELDS = new RegExp(String.raw`^(datasets\[\d+\]\.(endpoint|credentialsSecretArn|${NETWORK})|primary\.jobs${NETWORK.replace('network', 'Network')})$`);

/** Every token in the plan outside the AWS-only fields is an error that says why; list tokens are refused everywhere. */
export function checkTokens(c: IssueCollector, value: unknown, field = ''): void {
  if (typeof value === 'string') {
    if (!isToken(value)) return;
    if (LIST_TOKEN_RE.test(value)) {
      c.error(field, value, 'is a CDK list token, whose length is unknown at synth time; the AWS half needs each ID.',
        'give an array of IDs, e.g. vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds, or pass the VPC, subnets and security groups through PrimarySite sources.');
    } else if (!AWS_ONLY_FIELDS.test(field)) {
      c.error(field, value, 'is an unresolved CDK token. This field crosses engines: the GCP and Azure halves are synthesized by cdktf from the same plan, '
        + 'outside this app, where the token means nothing, so the two halves would not agree on it.',
      'give the literal value. Only the AWS-only fields (a postgres dataset\'s endpoint, credentialsSecretArn and network, and primary.jobsNetwork) accept tokens; '
        + 'or pass your constructs through PrimarySite sources.');
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkTokens(c, v, `${field}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkTokens(c, v, field ? `${field}.${k}` : k);
  }
}
