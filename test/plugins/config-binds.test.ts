// A `[plugins.NAME]` table whose ro_binds would show keyway's state is refused when config is loaded,
// however the bind is spelled, with an error naming the plugin and the bind; not at the first spawn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { openContext } from '../../src/daemon/context.js';
import { tempDir } from './helpers.js';

const SHA = 'a'.repeat(64);

function configWith(base: string, binds: readonly string[]): string {
  const path = join(base, `keyway-${Math.random().toString(36).slice(2)}.toml`);
  const list = binds.map((b) => JSON.stringify(b)).join(', ');
  writeFileSync(path, `[api]\nenabled = false\n[plugins.probe]\npath = "/usr/libexec/keyway-probe"\nsha256 = "${SHA}"\nro_binds = [${list}]\n`);
  return path;
}

function open(base: string, config: string): () => Promise<void> {
  const ctx = openContext({ config, stateDir: join(base, 'parent', 'keyway'), runtimeDir: join(base, 'run'), logLevel: 'silent' });
  return () => ctx.close();
}

test('config load refuses a configured plugin whose ro_binds reach keyway\'s state, naming the plugin and the bind', async (t) => {
  const base = tempDir(t, 'keyway-config-binds-');
  mkdirSync(join(base, 'parent'));
  mkdirSync(join(base, 'run'), { mode: 0o700 });
  // The state dir must exist for its parent to count as covering it: open once cleanly first.
  await open(base, configWith(base, []))();
  symlinkSync(join(base, 'parent', 'keyway'), join(base, 'link-to-state'));
  // The whole host by any spelling, the kernel's interfaces, keyway's state dir (plain, via a
  // symlink, with `.`) and its runtime dir. A bind of a parent is not refused: spawns mask it.
  const refused = ['/', '//', '/./', `${base}/../../../../..`, '/proc', join(base, 'parent', 'keyway'), join(base, 'link-to-state'), `${base}/parent/keyway/.`, join(base, 'run')];
  for (const bind of refused) {
    assert.throws(
      () => open(base, configWith(base, [bind])),
      (e: unknown) => e instanceof KeywayError && ['invalid_argument', 'permission_denied'].includes(e.code) && e.message.startsWith('plugins.probe: ') && e.message.includes(JSON.stringify(bind)),
      `bind ${bind}`,
    );
  }
});

test('config load accepts a configured plugin whose ro_binds stay clear of keyway, contain it (masked at spawn), or do not exist yet', async (t) => {
  const base = tempDir(t, 'keyway-config-binds-');
  mkdirSync(join(base, 'parent'));
  mkdirSync(join(base, 'plugin-data'));
  const close = open(base, configWith(base, [join(base, 'plugin-data'), join(base, 'parent'), join(base, 'created-later')]));
  await close();
});
