/**
 * `hashicorp/random` bindings for the one resource Counterparty needs: a
 * generated password that lives in Terraform state and the counterparty's own
 * secret store, never in the synthesized template. There is no prebuilt
 * `@cdktf/provider-random` in this project's dependencies, so these are the
 * two small L1 classes that the prebuilt providers would generate.
 *
 * cdktf is imported here, in `lib/terraform`, beside `lib/gcp` and `lib/azure`:
 * the only folders allowed to depend on cdktf.
 */
import { TerraformProvider, TerraformResource, type TerraformResourceLifecycle } from 'cdktf';
import type { Construct } from 'constructs';

const RANDOM_METADATA = { providerName: 'random', providerVersionConstraint: '~> 3.6' } as const;

/** The `hashicorp/random` provider (no configuration). */
export class RandomProvider extends TerraformProvider {
  constructor(scope: Construct, id: string) {
    super(scope, id, { terraformResourceType: 'random', terraformGeneratorMetadata: RANDOM_METADATA, terraformProviderSource: 'hashicorp/random' });
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {};
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    return {};
  }
}

export interface RandomPasswordConfig {
  /** @default 32 */
  readonly length?: number;
  /**
   * Include special characters.
   * @default true
   */
  readonly special?: boolean;
  /**
   * The special characters to draw from (some engines reject `@`, `/`, `"` and spaces).
   * @default '!#%*()-_=+[]{}<>:?'
   */
  readonly overrideSpecial?: string;
  /**
   * Values that force a new password when they change.
   * @default - none
   */
  readonly keepers?: Record<string, string>;
  /** @default - none */
  readonly lifecycle?: TerraformResourceLifecycle;
  /**
   * The provider instance to use.
   * @default - the stack's only `random` provider
   */
  readonly provider?: TerraformProvider;
}

/** `random_password`: a generated secret, kept in Terraform state (mark state as sensitive storage). */
export class RandomPassword extends TerraformResource {
  public static readonly tfResourceType = 'random_password';
  private readonly config: RandomPasswordConfig;

  constructor(scope: Construct, id: string, config: RandomPasswordConfig = {}) {
    super(scope, id, {
      terraformResourceType: RandomPassword.tfResourceType,
      terraformGeneratorMetadata: RANDOM_METADATA,
      provider: config.provider,
      lifecycle: config.lifecycle,
    });
    const length = config.length ?? 32;
    if (!Number.isInteger(length) || length < 16 || length > 128) {
      throw new Error(`${this.node.path}: length ${length} is not allowed. Fix: use a whole number of characters from 16 to 128.`);
    }
    this.config = { ...config, length };
  }

  /** The generated password (sensitive). */
  public get result(): string {
    return this.getStringAttribute('result');
  }

  protected synthesizeAttributes(): Record<string, unknown> {
    return {
      length: this.config.length,
      special: this.config.special ?? true,
      override_special: this.config.overrideSpecial ?? '!#%*()-_=+[]{}<>:?',
      min_lower: 1,
      min_upper: 1,
      min_numeric: 1,
      keepers: this.config.keepers,
    };
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    const attrs = this.synthesizeAttributes();
    const storageClassType = (v: unknown) => (typeof v === 'object' ? 'stringMap' : typeof v);
    return Object.fromEntries(
      Object.entries(attrs)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, { value: v, isBlock: false, type: typeof v === 'object' ? 'map' : 'simple', storageClassType: storageClassType(v) }]),
    );
  }
}
