// A private credential directory and host key for systemd-creds tests (the host's own key and
// /etc/credstore stay untouched), the real systemd-creds, and a provider pointed at them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools } from '../../helpers/tools.js';
import { SystemdCredsProvider, type SystemdCredsSettings } from '../../../src/providers/systemd-creds/provider.js';

export const PATH = '/usr/local/bin:/usr/bin:/bin';
export const skip = ensureTools([['systemd-creds', 'systemd']]);

export interface CredsFixture {
  readonly dir: string;
  readonly credDir: string;
  readonly hostKey: string;
  /** Encrypts like a user would, with the test host key (or `hostKey`, created on first use). */
  encrypt(name: string, value: Buffer | string, opts?: { file?: string; hostKey?: string; extra?: string[] }): string;
  provider(extra?: Partial<SystemdCredsSettings>): SystemdCredsProvider;
}

export function credsFixture(t: { after: (fn: () => void) => void }): CredsFixture {
  const dir = mkdtempSync(join(tmpdir(), 'kw-creds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credDir = join(dir, 'credstore');
  mkdirSync(credDir);
  const setup = (key: string): void => {
    execFileSync('systemd-creds', ['setup'], { env: { PATH, SYSTEMD_CREDENTIAL_SECRET: key }, stdio: 'ignore' });
  };
  const hostKey = join(dir, 'host.secret');
  setup(hostKey);
  return {
    dir,
    credDir,
    hostKey,
    encrypt(name, value, opts = {}) {
      const file = opts.file ?? join(credDir, `${name}.cred`);
      const key = opts.hostKey ?? hostKey;
      if (!existsSync(key)) setup(key);
      execFileSync('systemd-creds', ['encrypt', `--name=${name}`, '--with-key=host', ...(opts.extra ?? []), '-', file], { env: { PATH, SYSTEMD_CREDENTIAL_SECRET: key }, input: value, stdio: ['pipe', 'ignore', 'ignore'] });
      return file;
    },
    provider: (extra = {}) => new SystemdCredsProvider('systemd-creds', { dirs: [credDir], hostKeyFile: hostKey, withKey: 'host', allowAnyPath: false, binary: 'systemd-creds', path: PATH, timeoutMs: 20_000, ...extra }),
  };
}
