// aws-sm and aws-ssm against the AWS JSON API emulator (SigV4-verified, static keys from env).
import { awsSmFactory } from '../../../src/providers/aws-sm/index.js';
import { awsSsmFactory } from '../../../src/providers/aws-ssm/index.js';
import type { ProviderFactory } from '../../../src/providers/factory.js';
import { AwsError, type AwsEmulator } from '../../emulators/aws/emulator.js';
import { awsFixture } from '../../emulators/aws/fixture.js';
import { httpSwitches } from './http-switches.js';
import type { ContractBackend, ContractHarness, TestContext } from './harness.js';
import { envOnlyDeps } from '../helpers.js';

async function start(t: TestContext, factory: ProviderFactory): Promise<{ emu: AwsEmulator; backend: Pick<ContractBackend, 'provider' | 'outage' | 'hang' | 'oversize'> }> {
  const { emu, env } = await awsFixture(t, { akid: 'AKIDCONTRACT', secretKey: 'contract-secret-key', prefix: 'kw-contract-aws-' });
  const provider = factory.create(factory.type, factory.configSchema.parse({ endpoint: emu.url, timeout_ms: 10_000 }), envOnlyDeps(env));
  // InternalFailure is what AWS documents for its HTTP 500 answers.
  return { emu, backend: { provider, ...httpSwitches(emu, (on) => (emu.failure = on ? new AwsError('InternalFailure', 'We encountered an internal error. Please try again.', 500) : undefined)) } };
}

export const awsSm: ContractHarness = {
  type: 'aws-sm',
  skip: false,
  unsupported: {},
  async setup(t) {
    const { emu, backend } = await start(t, awsSmFactory);
    return {
      ...backend,
      putText: (name, text) => (emu.putSecret(name, text), { path: name }),
      putBinary: (name, bytes) => (emu.putSecret(name, bytes), { path: name }),
      missing: { path: 'no/such/secret' },
      denied(name, text) {
        emu.putSecret(name, text);
        const s = emu.secrets.get(name);
        if (s) s.denied = true;
        return { path: name };
      },
    };
  },
};

export const awsSsm: ContractHarness = {
  type: 'aws-ssm',
  skip: false,
  unsupported: {},
  async setup(t) {
    const { emu, backend } = await start(t, awsSsmFactory);
    return {
      ...backend,
      putText: (name, text) => (emu.putParameter(`/${name}`, text), { path: `/${name}` }),
      // Parameter Store holds text only; binary values are stored as base64 and decoded on request.
      putBinary: (name, bytes) => (emu.putParameter(`/${name}`, bytes.toString('base64')), { path: `/${name}`, options: { encoding: 'base64' } }),
      missing: { path: '/no/such/parameter' },
      denied(name, text) {
        emu.putParameter(`/${name}`, text);
        const p = emu.parameters.get(`/${name}`);
        if (p) p.denied = true;
        return { path: `/${name}` };
      },
    };
  },
};
