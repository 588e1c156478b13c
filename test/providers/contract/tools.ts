// pass (real pass + gpg) and systemd-creds (real systemd-creds), each run through a wrapper script
// that the failure switches rewrite: a tool that hangs, or one that prints more than is accepted.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { passFixture, skip as passSkip } from '../pass/fixture.js';
import { credsFixture, skip as credsSkip } from '../systemd-creds/fixture.js';
import type { ContractHarness, Switch } from './harness.js';

/** More than the 16 MiB a tool provider reads from stdout. */
const OVERSIZE = 17_000_000;

class Wrapper {
  readonly file: string;
  readonly #normal: string;

  constructor(dir: string, tool: string) {
    mkdirSync(join(dir, 'bin'), { recursive: true });
    this.file = join(dir, 'bin', tool);
    this.#normal = `exec ${tool} "$@"`;
    this.write(this.#normal);
  }

  write(body: string): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `#!/bin/sh\n${body}\n`);
    chmodSync(tmp, 0o755);
    renameSync(tmp, this.file);
  }

  switch(body: string): Switch {
    return { on: () => this.write(body), off: () => this.write(this.#normal) };
  }
}

export const pass: ContractHarness = {
  type: 'pass',
  skip: passSkip,
  unsupported: {},
  async setup(t) {
    const f = passFixture(t);
    const tool = new Wrapper(f.dir, 'pass');
    const put = (name: string, value: string | Buffer) => (f.pass(['insert', '--multiline', name], value), { path: name });
    return {
      provider: f.provider({ binary: tool.file }),
      putText: put,
      putBinary: put,
      missing: { path: 'no/such/entry' },
      denied: (name, text) => (f.foreignEntry(name, text), { path: name }),
      // The store lives on a volume that went away (an unmounted home, a network share).
      outage: { on: () => renameSync(f.storeDir, `${f.storeDir}.away`), off: () => renameSync(`${f.storeDir}.away`, f.storeDir) },
      // A pass that waits forever, say on a smartcard or a pinentry nobody answers.
      hang: tool.switch('exec sleep 60'),
      oversize: tool.switch(`exec head -c ${OVERSIZE} /dev/zero`),
    };
  },
};

export const systemdCreds: ContractHarness = {
  type: 'systemd-creds',
  skip: credsSkip,
  unsupported: {},
  async setup(t) {
    const f = credsFixture(t);
    const tool = new Wrapper(f.dir, 'systemd-creds');
    const put = (name: string, value: string | Buffer) => (f.encrypt(name, value), { path: name });
    return {
      provider: f.provider({ binary: tool.file }),
      putText: put,
      putBinary: put,
      missing: { path: 'nosuchcredential' },
      // Encrypted with another machine's host key.
      denied: (name, text) => (f.encrypt(name, text, { hostKey: join(f.dir, 'other-host.secret') }), { path: name }),
      // systemd-creds has no server; the closest outage is the tool itself missing from the host.
      outage: { on: () => renameSync(tool.file, `${tool.file}.away`), off: () => renameSync(`${tool.file}.away`, tool.file) },
      hang: tool.switch('exec sleep 60'),
      oversize: tool.switch(`exec head -c ${OVERSIZE} /dev/zero`),
    };
  },
};
