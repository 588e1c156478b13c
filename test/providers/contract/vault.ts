// vault against the Vault API emulator: KV v2 at secret/, a token whose policy reads secret/ok/*.
import { silentLogger } from '../../../src/core/logger.js';
import { vaultFactory } from '../../../src/providers/vault/index.js';
import { VaultEmulator } from '../../emulators/vault/server.js';
import type { ContractHarness } from './harness.js';
import { httpSwitches } from './http-switches.js';

export const vault: ContractHarness = {
  type: 'vault',
  skip: false,
  unsupported: {},
  async setup(t) {
    const emu = await VaultEmulator.start();
    const kv = emu.state.mount('secret', 2);
    emu.setPolicy('contract', { 'secret/data/ok/*': ['read'], 'secret/metadata/ok/*': ['read'] });
    const token = emu.state.issueToken({ policies: ['contract'] });
    const provider = vaultFactory.create('vault', vaultFactory.configSchema.parse({ address: emu.url }), { env: { VAULT_TOKEN: token.id }, logger: silentLogger(), db: undefined as never, stateDir: '/nonexistent' });
    t.after(async () => {
      await provider.close?.();
      await emu.close();
    });
    // A KV secret is a JSON object, read whole as its JSON text or one field at a time.
    const putField = (path: string, field: Record<string, unknown>) => emu.state.putV2(kv, path, field);
    return {
      provider,
      putText(name, text) {
        putField(`ok/${name}`, JSON.parse(text) as Record<string, unknown>);
        return { path: `secret/ok/${name}` };
      },
      // Binary values live base64-encoded in a field; ?field=&encoding=base64 decodes them.
      putBinary(name, bytes) {
        putField(`ok/${name}`, { value: bytes.toString('base64') });
        return { path: `secret/ok/${name}`, options: { field: 'value', encoding: 'base64' } };
      },
      missing: { path: 'secret/ok/nosuchsecret' },
      denied(name, text) {
        putField(`closed/${name}`, JSON.parse(text) as Record<string, unknown>);
        return { path: `secret/closed/${name}` };
      },
      // Vault answers 500 with {"errors":[...]} for internal failures; its docs say to try again later.
      ...httpSwitches(emu, (on) => (emu.failure = on ? { status: 500, body: { errors: ['internal error'] } } : undefined)),
    };
  },
};
