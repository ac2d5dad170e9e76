import { Testing, TerraformStack } from 'cdktf';
import { RandomPassword, RandomProvider } from '../../lib/terraform/random-password';

describe('RandomPassword', () => {
  test('synthesizes random_password with the hashicorp/random provider and no plaintext', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 's');
    new RandomProvider(stack, 'random');
    const pw = new RandomPassword(stack, 'pw', { length: 40, keepers: { rotation: '1' } });
    expect(pw.result).toMatch(/\$\{random_password\.pw\.result\}|TOKEN/);
    const out = JSON.parse(Testing.synth(stack));
    expect(out.terraform.required_providers.random).toEqual({ source: 'hashicorp/random', version: '~> 3.6' });
    expect(out.resource.random_password.pw).toMatchObject({ length: 40, special: true, min_numeric: 1, keepers: { rotation: '1' } });
  });

  test('refuses a short password, naming the construct and the fix', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    expect(() => new RandomPassword(stack, 'pw', { length: 8 })).toThrow(/s\/pw: length 8 is not allowed\. Fix: .*16 to 128/);
  });
});
