/**
 * The Entra app registration the AWS side trusts (docs/azure.md, "Federation that checks itself").
 *
 * AWS's IAM OIDC provider trusts the tenant's v1 issuer `https://sts.windows.net/<tenant>/` with the
 * app's Application ID URI as audience. A managed identity gets such a token only for a resource app
 * that (a) owns that URI, (b) accepts v1 tokens (`requestedAccessTokenVersion` 1, the manifest's
 * `accessTokenAcceptedVersion`), and (c) lets the identity in: the service principal requires an
 * app-role assignment, and only the copy and mirror identities are assigned. The token's `sub` is
 * then the identity's object (principal) ID, which the AWS role names.
 *
 * `@cdktf/provider-azuread` (14.3.x, for cdktf 0.21), deep imports only.
 */
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { Application } from '@cdktf/provider-azuread/lib/application';
import { AppRoleAssignment } from '@cdktf/provider-azuread/lib/app-role-assignment';
import { DataAzureadServicePrincipal } from '@cdktf/provider-azuread/lib/data-azuread-service-principal';
import { ServicePrincipal } from '@cdktf/provider-azuread/lib/service-principal';
import { naming } from '../core';
import { invalidProp } from './util';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An identity that may get tokens for the app (assigned to its app role). */
export interface FederatedIdentity {
  /** Principal (object) ID of the managed identity: the token's `sub`. */
  readonly principalId: string;
}

/** An app registration that already exists (an account-wide one, or one made by another team). */
export interface ExistingFederationApplication {
  /** Its client (application) ID. */
  readonly clientId: string;
  /**
   * The `value` of the app role to assign.
   * @default naming.AZURE_FEDERATION_APP_ROLE ('AssumeRoleWithWebIdentity')
   */
  readonly appRoleValue?: string;
}

export interface AwsFederationApplicationProps {
  /** The Application ID URI, which is the audience AWS trusts (`naming.azureFederationAudience(plan)`). */
  readonly audience: string;
  /** Display name of the app registration. */
  readonly displayName: string;
  /** Identities assigned to the app role (the copy and mirror identities). */
  readonly assignees: Record<string, FederatedIdentity>;
  /**
   * Use this app registration instead of creating one. It must own `audience` as an identifier URI,
   * accept v1 tokens, and have an app role with `appRoleValue` for applications (docs/azure.md).
   * @default - a new app registration
   */
  readonly existing?: ExistingFederationApplication;
  /**
   * Object IDs of the app registration's owners.
   * @default - the principal running Terraform (azuread's default)
   */
  readonly owners?: readonly string[];
}

/** A deterministic UUID (v5 layout) from a name: the app role's ID must never change once AWS trusts tokens that carry it. */
export function stableUuid(name: string): string {
  const h = createHash('sha1').update(`counterparty:${name}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The Entra application whose Application ID URI is the AWS audience, its service principal (app-role
 * assignment required), an app role for applications, and one assignment per identity; or the same
 * assignments on an existing app registration.
 */
export class AwsFederationApplication extends Construct {
  /** The app registration (undefined when an existing one is used). */
  public readonly application?: Application;
  /** Object ID of the app's service principal (the `resourceObjectId` of the assignments). */
  public readonly servicePrincipalObjectId: string;
  /** Client ID of the app registration. */
  public readonly clientId: string;
  /** The audience: the Application ID URI. */
  public readonly audience: string;
  /** The app role's ID. */
  public readonly appRoleId: string;
  /** Assignments by the keys of `assignees`. */
  public readonly assignments: Record<string, AppRoleAssignment> = {};

  constructor(scope: Construct, id: string, props: AwsFederationApplicationProps) {
    super(scope, id);
    if (props.audience === naming.AZURE_TOKEN_EXCHANGE_AUDIENCE) {
      invalidProp(this, 'audience', props.audience, 'is Microsoft\'s reserved token-exchange audience: its tokens carry the v2.0 issuer and a GUID audience, which the AWS role does not trust.',
        'use naming.azureFederationAudience(plan) (api://<system>-aws-federation), or leave counterparties.azure.tokenAudience out.');
    }
    if (!/^(api|https):\/\/\S+$/.test(props.audience) || props.audience.endsWith('/')) {
      invalidProp(this, 'audience', props.audience, 'is not an Application ID URI.', 'give api://<name> or a verified-domain https:// URI, without a trailing slash.');
    }
    if (Object.keys(props.assignees).length === 0) invalidProp(this, 'assignees', props.assignees, 'is empty: no identity could get a token.', 'assign at least the copy identity.');
    this.audience = props.audience;
    const roleValue = props.existing?.appRoleValue ?? naming.AZURE_FEDERATION_APP_ROLE;

    if (props.existing) {
      if (!UUID_RE.test(props.existing.clientId)) invalidProp(this, 'existing.clientId', props.existing.clientId, 'is not a client (application) ID.', 'give the app registration\'s Application (client) ID, a UUID.');
      const sp = new DataAzureadServicePrincipal(this, 'ServicePrincipal', { clientId: props.existing.clientId });
      this.clientId = props.existing.clientId;
      this.servicePrincipalObjectId = sp.objectId;
      this.appRoleId = Fn.lookup(sp.appRoleIds, roleValue);
    } else {
      this.appRoleId = stableUuid(`aws-federation-app-role:${props.audience}:${roleValue}`);
      this.application = new Application(this, 'Application', {
        displayName: props.displayName,
        identifierUris: [props.audience],
        signInAudience: 'AzureADMyOrg',
        owners: props.owners ? [...props.owners] : undefined,
        // v1 tokens: iss https://sts.windows.net/<tenant>/, aud = the Application ID URI.
        api: { requestedAccessTokenVersion: 1 },
        appRole: [{
          id: this.appRoleId,
          value: roleValue,
          displayName: 'Assume the Counterparty AWS reader roles',
          description: 'Managed identities assigned to this role get v1 tokens that the Counterparty AWS roles trust (sts:AssumeRoleWithWebIdentity).',
          allowedMemberTypes: ['Application'],
          enabled: true,
        }],
        // The URI and role are what AWS trusts: never replace them on an upgrade.
        lifecycle: { preventDestroy: true },
      });
      const sp = new ServicePrincipal(this, 'ServicePrincipal', {
        clientId: this.application.clientId,
        // Only assigned identities get tokens for this app.
        appRoleAssignmentRequired: true,
        owners: props.owners ? [...props.owners] : undefined,
      });
      this.clientId = this.application.clientId;
      this.servicePrincipalObjectId = sp.objectId;
    }

    for (const [name, identity] of Object.entries(props.assignees)) {
      this.assignments[name] = new AppRoleAssignment(this, `Assign-${name}`, {
        appRoleId: this.appRoleId,
        principalObjectId: identity.principalId,
        resourceObjectId: this.servicePrincipalObjectId,
      });
    }
  }
}
