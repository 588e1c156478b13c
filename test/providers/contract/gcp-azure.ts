// gcp-sm and azure-kv against their REST emulators (a token file for GCP; client credentials after
// the 401 challenge for Azure).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azureKvFactory } from '../../../src/providers/azure-kv/index.js';
import { gcpSmFactory } from '../../../src/providers/gcp-sm/index.js';
import { AzureEmulator } from '../../emulators/azure/emulator.js';
import { GcpEmulator } from '../../emulators/gcp/emulator.js';
import type { ContractHarness, TestContext } from './harness.js';
import { httpSwitches } from './http-switches.js';
import { envOnlyDeps } from '../helpers.js';

function tempDir(t: TestContext, stop: () => Promise<void>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-contract-'));
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const P = 'contract-project';

export const gcpSm: ContractHarness = {
  type: 'gcp-sm',
  skip: false,
  unsupported: {},
  async setup(t) {
    const emu = await new GcpEmulator().start();
    const dir = tempDir(t, () => emu.stop());
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${emu.issueToken()}\n`, { mode: 0o600 });
    const provider = gcpSmFactory.create('gcp-sm', gcpSmFactory.configSchema.parse({ endpoint: emu.url, token_file: tokenFile }), envOnlyDeps());
    const put = (name: string, data: string | Buffer) => (emu.addVersion(P, name, data), { path: `${P}/${name}` });
    return {
      provider,
      putText: put,
      putBinary: put,
      missing: { path: `${P}/nosuchsecret` },
      denied(name, text) {
        const target = put(name, text);
        const s = emu.secrets.get(`${P}/${name}`);
        if (s) s.denied = true;
        return target;
      },
      // What Secret Manager documents for a server-side failure: HTTP 500, status INTERNAL.
      ...httpSwitches(emu, (on) => (emu.failure = on ? { status: 500, body: { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } } } : undefined)),
    };
  },
};

export const azureKv: ContractHarness = {
  type: 'azure-kv',
  skip: false,
  unsupported: {},
  async setup(t) {
    const emu = await new AzureEmulator().start();
    emu.apps.set('contract-app', { secret: 'contract-client-secret' });
    const dir = tempDir(t, () => emu.stop());
    const secretFile = join(dir, 'client-secret');
    writeFileSync(secretFile, 'contract-client-secret\n', { mode: 0o600 });
    const config = { vault_url: emu.url, authority_host: emu.url, verify_challenge_resource: false, client_id: 'contract-app', client_secret_file: secretFile };
    const provider = azureKvFactory.create('azure-kv', azureKvFactory.configSchema.parse(config), envOnlyDeps());
    return {
      provider,
      putText: (name, text) => (emu.setSecret(name, text), { path: name }),
      // Key Vault secrets are text; binary values are stored as base64 and decoded on request.
      putBinary: (name, bytes) => (emu.setSecret(name, bytes.toString('base64')), { path: name, options: { encoding: 'base64' } }),
      missing: { path: 'nosuchsecret' },
      denied(name, text) {
        emu.setSecret(name, text);
        const s = emu.secrets.get(name);
        if (s) s.denied = true;
        return { path: name };
      },
      ...httpSwitches(emu, (on) => (emu.failure = on ? { status: 500, body: { error: { code: 'InternalServerError', message: 'An unexpected error occurred.' } } } : undefined)),
    };
  },
};
