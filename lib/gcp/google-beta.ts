/**
 * The one `google-beta` resource the GCP counterparty needs:
 * `google_project_service_identity`, which creates (or returns) a Google
 * service agent. The GA provider (`@cdktf/provider-google` 16.12.1, google
 * 6.50) has no such resource, and the Cloud SQL and Artifact Registry service
 * agents must exist before they can be granted the CMEK key. There is no
 * prebuilt `@cdktf/provider-google-beta` in this project, so these are the two
 * small L1 classes such a provider would generate (same pattern as
 * `lib/terraform/random-password.ts`).
 */
import { TerraformProvider, TerraformResource, TerraformStack, type TerraformResourceLifecycle } from 'cdktf';
import type { Construct } from 'constructs';

const BETA_METADATA = { providerName: 'google-beta', providerVersionConstraint: '6.50.0' } as const;

export interface GoogleBetaProviderConfig {
  /** Default project of the provider. */
  readonly project: string;
  /** Default region of the provider. */
  readonly region: string;
  /**
   * Labels added to every resource the provider creates.
   * @default - none
   */
  readonly defaultLabels?: Record<string, string>;
}

/** The `hashicorp/google-beta` provider, pinned to the GA provider's version. */
export class GoogleBetaProvider extends TerraformProvider {
  public static readonly tfResourceType = 'google-beta';
  private readonly config: GoogleBetaProviderConfig;

  constructor(scope: Construct, id: string, config: GoogleBetaProviderConfig) {
    super(scope, id, { terraformResourceType: 'google-beta', terraformGeneratorMetadata: BETA_METADATA, terraformProviderSource: 'hashicorp/google-beta' });
    this.config = config;
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { project: this.config.project, region: this.config.region, default_labels: this.config.defaultLabels };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      project: { value: this.config.project, isBlock: false, type: 'simple', storageClassType: 'string' },
      region: { value: this.config.region, isBlock: false, type: 'simple', storageClassType: 'string' },
    };
    if (this.config.defaultLabels) out.default_labels = { value: this.config.defaultLabels, isBlock: false, type: 'map', storageClassType: 'stringMap' };
    return out;
  }
}

/**
 * The stack's `google-beta` provider: the one already in the stack (construct
 * ID `google-beta` at stack level), or a new one for `project` and `region`.
 */
export function googleBetaProviderFor(scope: Construct, project: string, region: string): GoogleBetaProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild('google-beta');
  if (existing instanceof GoogleBetaProvider) return existing;
  return new GoogleBetaProvider(stack, 'google-beta', { project, region });
}

export interface ProjectServiceIdentityConfig {
  /** The API whose service agent to create, e.g. `sqladmin.googleapis.com`. */
  readonly service: string;
  /** The project. */
  readonly project: string;
  /** The `google-beta` provider instance. */
  readonly provider: TerraformProvider;
  /** @default - none */
  readonly lifecycle?: TerraformResourceLifecycle;
}

/** `google_project_service_identity` (google-beta): a service agent, created if missing. Cannot be destroyed. */
export class ProjectServiceIdentity extends TerraformResource {
  public static readonly tfResourceType = 'google_project_service_identity';
  private readonly config: ProjectServiceIdentityConfig;

  constructor(scope: Construct, id: string, config: ProjectServiceIdentityConfig) {
    super(scope, id, {
      terraformResourceType: ProjectServiceIdentity.tfResourceType,
      terraformGeneratorMetadata: BETA_METADATA,
      provider: config.provider,
      lifecycle: config.lifecycle,
    });
    this.config = config;
  }

  /** The service agent's e-mail address. */
  public get email(): string {
    return this.getStringAttribute('email');
  }

  /** `serviceAccount:<email>`, ready for an IAM member. */
  public get member(): string {
    return `serviceAccount:${this.email}`;
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return { service: this.config.service, project: this.config.project };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return {
      service: { value: this.config.service, isBlock: false, type: 'simple', storageClassType: 'string' },
      project: { value: this.config.project, isBlock: false, type: 'simple', storageClassType: 'string' },
    };
  }
}
