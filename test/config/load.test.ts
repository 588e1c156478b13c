import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { resolveLocations } from '../../src/config/paths.js';

function fails(toml: string, fragment: string): void {
  assert.throws(
    () => parseConfig(toml, 'k.toml'),
    (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.includes(fragment) && !e.message.includes('\n'),
  );
}

test('an empty config gives the documented defaults', () => {
  const c = parseConfig('', 'k.toml');
  assert.equal(c.limits.max_secret_bytes, 1048576);
  assert.equal(c.docker.socket, '/run/docker/plugins/keyway.sock');
  assert.equal(c.csi.socket, '/var/run/secrets-store-csi-providers/keyway.sock');
  assert.deepEqual(c.providers, {});
});

test('an unknown top-level key is an error naming it', () => fails('colour = "red"', 'unknown key colour'));
test('an unknown key inside a table is an error naming its path', () => fails('[limits]\nmax_bytes = 3', 'unknown key limits.max_bytes'));
test('a wrong type names the key path and what was expected', () => fails('[limits]\nmax_secret_bytes = "big"', 'limits.max_secret_bytes'));
test('invalid TOML names the line', () => fails('[limits\n', 'not valid TOML at line 1'));
test('a relative socket path is refused', () => fails('[api]\nsocket = "x.sock"', 'api.socket: expected an absolute path'));
test('a provider needs a type', () => fails('[providers.prod]\naddr = "x"', 'providers.prod.type'));
test('a provider instance name must be a valid reference provider name', () => fails('[providers.Prod]\ntype = "local"', 'providers.Prod'));

test('provider tables keep their type-specific options for the composition root', () => {
  const c = parseConfig('[providers.prod-vault]\ntype = "vault"\naddress = "https://v:8200"', 'k.toml');
  assert.deepEqual(c.providers['prod-vault'], { type: 'vault', address: 'https://v:8200' });
});

test('locations: root uses system paths, flags beat env which beats defaults', () => {
  const root = resolveLocations({ uid: 0, env: {}, flags: {} });
  assert.deepEqual([root.configPath, root.stateDir, root.runtimeDir], ['/etc/keyway/keyway.toml', '/var/lib/keyway', '/run/keyway']);
  const user = resolveLocations({ uid: 1000, env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' }, flags: {} });
  assert.deepEqual([user.configPath, user.stateDir, user.runtimeDir], ['/home/u/.config/keyway/keyway.toml', '/home/u/.local/share/keyway', '/run/user/1000/keyway']);
  const mixed = resolveLocations({ uid: 0, env: { KEYWAY_STATE_DIR: '/e' }, flags: { stateDir: '/f' } });
  assert.equal(mixed.stateDir, '/f');
  assert.equal(resolveLocations({ uid: 0, env: { KEYWAY_STATE_DIR: '/e' }, flags: {} }).stateDir, '/e');
});

test('a mode written as a bare 0440 is explained: quote it or use TOML octal', () => fails('[delivery]\ndefault_mode = 0440', 'write the mode quoted, "0440", or as TOML octal, 0o440'));
test('TOML octal and quoted octal modes both parse to the same mode', () => {
  assert.equal(parseConfig('[delivery]\ndefault_mode = 0o440', 'k.toml').delivery.default_mode, 0o440);
  assert.equal(parseConfig('[delivery]\ndefault_mode = "0440"', 'k.toml').delivery.default_mode, 0o440);
});
test('a setuid mode is refused in the config as anywhere else', () => fails('[delivery]\ndefault_mode = "4755"', 'delivery.default_mode: expected a file mode 0000-0777'));

test('no config error is zod\'s bare "Invalid input": each says what was expected', () => {
  const cases: [string, RegExp][] = [
    ['[delivery]\ndefault_mode = true', /delivery\.default_mode: expected a file mode/],
    ['[broker]\ntimeout = true', /broker\.timeout: expected a duration/],
    ['[api]\nenabled = "yes"', /api\.enabled: expected true or false, got a string/],
    ['[delivery]\nrefresh_interval_s = 1.5', /delivery\.refresh_interval_s: expected an integer, got a number/],
    ['[csi]\naccess = 3', /csi\.access: expected a table, got a number/],
    ['[providers.X]\ntype = "local"', /providers\.X: not a valid name: expected lowercase letters/],
    ['[limits]\nmax_secret_bytes = 0', /limits\.max_secret_bytes: expected a number >= 1/],
    ['[log]\nlevel = "loud"', /log\.level: expected one of "trace"/],
  ];
  for (const [toml, want] of cases) {
    assert.throws(() => parseConfig(toml, 'k.toml'), (e: Error) => {
      assert.match(e.message, want);
      assert.doesNotMatch(e.message, /Invalid (input|option|key)|Too small|received/);
      return true;
    });
  }
});
