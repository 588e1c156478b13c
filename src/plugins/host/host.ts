// The host for one catalog entry: typed protocol ops over the entry's lifecycle and dialect, each
// with the entry's deadline and the caller's cancellation.
import { KeywayError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import type { Frame, FrameHeader } from '../framing.js';
import type { PluginEntry } from '../entry.js';
import { checkResponse, parseDescribe, parseNames, parseVersion, requestHeader, type Describe, type RequestFields } from '../protocol.js';
import type { HostDeps } from './launcher.js';
import { oneshotRequest } from './oneshot.js';
import { podmanLookup } from './podman.js';
import { ServeClient } from './serve.js';
import { requestSignal } from './signals.js';

export interface LookupResult {
  readonly value: SecretValue;
  readonly version?: string;
}

export class PluginHost {
  readonly entry: PluginEntry;
  readonly #deps: HostDeps;
  readonly #serve: ServeClient | undefined;
  #oneshotIds = 0;

  constructor(entry: PluginEntry, deps: HostDeps) {
    this.entry = entry;
    this.#deps = deps;
    this.#serve = entry.lifecycle === 'serve' && entry.dialect === 'keyway' ? new ServeClient(entry, deps) : undefined;
  }

  /** The serve client, when the entry is a serve plugin (tests and metrics). */
  get serveClient(): ServeClient | undefined {
    return this.#serve;
  }

  async #call(fields: RequestFields, payload: SecretValue | undefined, caller: AbortSignal): Promise<Frame> {
    const frame = await this.callRaw(fields, payload, caller);
    try {
      checkResponse(this.entry.name, frame.header);
    } catch (e) {
      frame.payload.fill(0);
      throw e;
    }
    return frame;
  }

  /**
   * Sends one request and returns the response frame unchecked (`ok:false` included). For the
   * conformance suite, which also sends ops that do not exist.
   */
  async callRaw(fields: RequestFields | (Omit<RequestFields, 'op'> & { op: string }), payload: SecretValue | undefined, caller: AbortSignal): Promise<Frame> {
    if (this.entry.dialect === 'podman') throw new KeywayError('unsupported', `plugin ${this.entry.name} speaks the Podman dialect, which only has lookup`);
    const signal = requestSignal(caller, this.entry.timeoutMs);
    const bytes = payload?.expose();
    const size = bytes?.length ?? 0;
    let frame: Frame;
    if (this.#serve) {
      const { id: _id, ...fieldsNoId } = requestHeader('', fields, size);
      frame = await this.#serve.request(fieldsNoId, bytes, signal);
    } else {
      frame = await oneshotRequest(this.entry, this.#deps, requestHeader(String(++this.#oneshotIds), fields, size), bytes, signal);
    }
    return frame;
  }

  async #noPayload(fields: RequestFields, signal: AbortSignal): Promise<FrameHeader> {
    const f = await this.#call(fields, undefined, signal);
    f.payload.fill(0);
    return f.header;
  }

  async describe(signal: AbortSignal): Promise<Describe> {
    return parseDescribe(this.entry.name, await this.#noPayload({ op: 'describe' }, signal));
  }

  async lookup(path: string, options: Readonly<Record<string, string>>, caller: AbortSignal): Promise<LookupResult> {
    if (this.entry.dialect === 'podman') {
      const out = await podmanLookup(this.entry, this.#deps, path, options, requestSignal(caller, this.entry.timeoutMs));
      return { value: SecretValue.adopt(out) };
    }
    const f = await this.#call({ op: 'lookup', path, options }, undefined, caller);
    const version = f.header.version;
    return { value: SecretValue.adopt(f.payload), ...(typeof version === 'string' && version.length > 0 ? { version } : {}) };
  }

  async store(path: string, value: SecretValue, options: Readonly<Record<string, string>>, signal: AbortSignal): Promise<void> {
    await this.#noPayloadWith({ op: 'store', path, options }, value, signal);
  }

  async #noPayloadWith(fields: RequestFields, value: SecretValue, signal: AbortSignal): Promise<void> {
    const f = await this.#call(fields, value, signal);
    f.payload.fill(0);
  }

  async delete(path: string, options: Readonly<Record<string, string>>, signal: AbortSignal): Promise<void> {
    await this.#noPayload({ op: 'delete', path, options }, signal);
  }

  async list(prefix: string | undefined, signal: AbortSignal): Promise<string[]> {
    return parseNames(this.entry.name, await this.#noPayload({ op: 'list', ...(prefix !== undefined ? { prefix } : {}) }, signal));
  }

  async version(path: string, options: Readonly<Record<string, string>>, signal: AbortSignal): Promise<string> {
    return parseVersion(this.entry.name, await this.#noPayload({ op: 'version', path, options }, signal));
  }

  async close(): Promise<void> {
    await this.#serve?.close();
  }
}
