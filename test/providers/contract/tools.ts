// pass (real pass + gpg) and systemd-creds (real systemd-creds), each run through a wrapper script
// that the failure switches rewrite: a tool that hangs, or one that prints more than is accepted.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { passFixture, skip as passSkip } from '../pass/fixture.js';
import { credsFixture, skip as credsSkip } from '../systemd-creds/fixture.js';
import type { Provider } from '../../../src/core/provider.js';
import type { ContractBackend, ContractHarness, Switch, TestContext } from './harness.js';

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

  /** A tool that waits forever (say on a smartcard or a pinentry nobody answers), or prints too much. */
  failures(): Pick<ContractBackend, 'hang' | 'oversize'> {
    return { hang: this.switch('exec sleep 60'), oversize: this.switch(`exec head -c ${OVERSIZE} /dev/zero`) };
  }
}

/** Moves a file or directory away while the switch is on. */
function away(path: string): Switch {
  return { on: () => renameSync(path, `${path}.away`), off: () => renameSync(`${path}.away`, path) };
}

/** What differs between the tool providers; the harness around it is the same. */
interface ToolSpec {
  readonly dir: string;
  /** Stores a value as a user of the tool would. */
  put(name: string, value: string | Buffer): void;
  provider(binary: string): Provider;
  readonly missing: string;
  /** Stores a value this host cannot decrypt. */
  denied(name: string, value: string): void;
  outage(tool: Wrapper): Switch;
}

function toolHarness(type: string, skip: string | false, fixture: (t: TestContext) => ToolSpec): ContractHarness {
  return {
    type,
    skip,
    unsupported: {},
    async setup(t) {
      const f = fixture(t);
      const tool = new Wrapper(f.dir, type);
      const put = (name: string, value: string | Buffer) => (f.put(name, value), { path: name });
      return {
        provider: f.provider(tool.file),
        putText: put,
        putBinary: put,
        missing: { path: f.missing },
        denied: (name, text) => (f.denied(name, text), { path: name }),
        outage: f.outage(tool),
        ...tool.failures(),
      };
    },
  };
}

export const pass = toolHarness('pass', passSkip, (t) => {
  const f = passFixture(t);
  return {
    dir: f.dir,
    put: (name, value) => void f.pass(['insert', '--multiline', name], value),
    provider: (binary) => f.provider({ binary }),
    missing: 'no/such/entry',
    // Encrypted for a key whose secret half this keyring lacks.
    denied: (name, value) => f.foreignEntry(name, value),
    // The store lives on a volume that went away (an unmounted home, a network share).
    outage: () => away(f.storeDir),
  };
});

export const systemdCreds = toolHarness('systemd-creds', credsSkip, (t) => {
  const f = credsFixture(t);
  return {
    dir: f.dir,
    put: (name, value) => void f.encrypt(name, value),
    provider: (binary) => f.provider({ binary }),
    missing: 'nosuchcredential',
    // Encrypted with another machine's host key.
    denied: (name, value) => void f.encrypt(name, value, { hostKey: join(f.dir, 'other-host.secret') }),
    // systemd-creds has no server; the closest outage is the tool itself missing from the host.
    outage: (tool) => away(tool.file),
  };
});
