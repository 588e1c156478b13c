// A throwaway password store for pass tests: its own GNUPGHOME with a no-passphrase key, the real
// pass and gpg, and a provider pointed at it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools } from '../../helpers/tools.js';
import { PassProvider, type PassSettings } from '../../../src/providers/pass/provider.js';

export const PATH = '/usr/local/bin:/usr/bin:/bin';

export const skip = ensureTools([
  ['pass', 'pass'],
  ['gpg', 'gnupg'],
]);

export interface PassFixture {
  readonly dir: string;
  readonly gnupgHome: string;
  readonly storeDir: string;
  readonly fpr: string;
  provider(extra?: Partial<PassSettings>): PassProvider;
  /** Runs pass directly, as a user would. */
  pass(args: string[], input?: Buffer | string): Buffer;
  /** Writes entry NAME encrypted for another keyring's key, whose secret key this store lacks. */
  foreignEntry(name: string, value: string): void;
}

export function gpgEnv(home: string): NodeJS.ProcessEnv {
  return { PATH, GNUPGHOME: home, LC_ALL: 'C' };
}

/** A throwaway GNUPGHOME with a no-passphrase key; returns the key's fingerprint. */
export function makeKey(home: string, uid: string): string {
  mkdirSync(home, { mode: 0o700, recursive: true });
  execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'future-default', 'default', 'never'], { env: gpgEnv(home), stdio: 'ignore' });
  const out = execFileSync('gpg', ['--list-keys', '--with-colons', uid], { env: gpgEnv(home), stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(out)?.[1];
  assert.ok(fpr, 'key fingerprint');
  return fpr;
}

export function passFixture(t: { after: (fn: () => void) => void }): PassFixture {
  const dir = mkdtempSync(join(tmpdir(), 'kw-pass-'));
  const gnupgHome = join(dir, 'gnupg');
  const storeDir = join(dir, 'store');
  const otherHome = join(dir, 'other-gnupg');
  t.after(() => {
    for (const home of [gnupgHome, otherHome]) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: gpgEnv(home), stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const fpr = makeKey(gnupgHome, 'keyway test <keyway@test.invalid>');
  const passEnv = { PATH, GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: storeDir, PASSWORD_STORE_GPG_OPTS: '--batch', HOME: dir };
  const pass = (args: string[], input?: Buffer | string): Buffer => execFileSync('pass', args, { env: passEnv, input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  pass(['init', fpr]);
  return {
    dir,
    gnupgHome,
    storeDir,
    fpr,
    pass,
    provider: (extra = {}) => new PassProvider('pass', { storeDir, gnupgHome, home: dir, binary: 'pass', path: PATH, timeoutMs: 20_000, ...extra }),
    foreignEntry(name, value) {
      // Only the other key's public half is imported into ours.
      const other = makeKey(otherHome, 'other <other@test.invalid>');
      const pub = execFileSync('gpg', ['--export', other], { env: gpgEnv(otherHome) });
      execFileSync('gpg', ['--batch', '--import'], { env: gpgEnv(gnupgHome), input: pub, stdio: ['pipe', 'ignore', 'ignore'] });
      execFileSync('gpg', ['--batch', '--yes', '--trust-model', 'always', '-e', '-r', other, '-o', join(storeDir, `${name}.gpg`)], { env: gpgEnv(gnupgHome), input: value });
    },
  };
}
