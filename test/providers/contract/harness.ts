// What the provider contract suite (../contract.test.ts) needs from each built-in provider: a
// provider instance against its emulator or real tool, ways to put values in as a user would, and
// switches for the failure modes. A provider that cannot express a failure says why instead.
import type { Provider } from '../../../src/core/provider.js';

/** A reference path plus the query options that read a stored value back exactly. */
export interface Target {
  readonly path: string;
  readonly options?: Readonly<Record<string, string>>;
}

/** The failure modes a harness may be unable to produce for its provider. */
export type FailureMode = 'denied' | 'outage' | 'hang' | 'oversize';

export interface Switch {
  on(): void | Promise<void>;
  off(): void | Promise<void>;
}

export interface ContractBackend {
  readonly provider: Provider;
  /** Stores text under `name` the way a user of the backend would. */
  putText(name: string, text: string): Target | Promise<Target>;
  /** Stores arbitrary bytes under `name`; the target's options read them back exactly. */
  putBinary(name: string, bytes: Buffer): Target | Promise<Target>;
  /** A path under which nothing is stored. */
  readonly missing: Target;
  /** Stores text that the provider's identity may not read. */
  readonly denied?: (name: string, text: string) => Target | Promise<Target>;
  /** The backend is down or failing with a server error; lookups must fail with a retried code. */
  readonly outage?: Switch;
  /** The backend accepts a request and never answers. */
  readonly hang?: Switch;
  /** The backend answers with more bytes than the provider accepts. */
  readonly oversize?: Switch;
}

export interface ContractHarness {
  readonly type: string;
  /** A reason when the real tool the provider runs is not installed here. */
  readonly skip: string | false;
  /** Failure modes the provider cannot have, each with the reason; every other mode is required. */
  readonly unsupported: Readonly<Partial<Record<FailureMode, string>>>;
  setup(t: { after(fn: () => unknown): void }): Promise<ContractBackend>;
}

export type TestContext = Parameters<ContractHarness['setup']>[0];
