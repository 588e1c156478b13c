// Vault's API over the shared transport (../kit/http.ts): one keep-alive agent per provider with
// its optional CA and TLS server name, the token and namespace headers, and JSON bodies. Status
// codes are interpreted by the caller (see ./errors.ts).
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { toKeywayError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import { httpAgent, httpRequest } from '../kit/http.js';
import { parseJsonBody } from '../kit/values.js';

export interface VaultResponse {
  readonly status: number;
  /** Parsed JSON body; undefined for empty or non-JSON bodies. */
  readonly json: unknown;
}

export interface VaultRequestInit {
  readonly token?: SecretValue;
  readonly namespace?: string;
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

export interface HttpOptions {
  readonly address: URL;
  readonly caFile?: string;
  readonly tlsServerName?: string;
  /** Prefix for error messages (`vault provider "NAME"`). */
  readonly where: string;
}

export class VaultHttp {
  readonly #o: HttpOptions;
  readonly #agent: HttpAgent | HttpsAgent;

  constructor(o: HttpOptions) {
    this.#o = o;
    let ca: Buffer | undefined;
    if (o.caFile && o.address.protocol === 'https:') {
      try {
        ca = readFileSync(o.caFile);
      } catch (e) {
        throw toKeywayError(e, `${o.where}: ca_file`);
      }
    }
    this.#agent = httpAgent(o.address.protocol === 'https:', { ...(ca ? { ca } : {}), ...(o.tlsServerName ? { servername: o.tlsServerName } : {}) });
  }

  /** `apiPath` is the part after /v1/, already percent-encoded per segment. */
  async request(method: string, apiPath: string, init: VaultRequestInit): Promise<VaultResponse> {
    const url = new URL(this.#o.address);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/${apiPath}`;
    url.search = init.query && Object.keys(init.query).length > 0 ? new URLSearchParams(init.query as Record<string, string>).toString() : '';
    const headers: Record<string, string> = { 'x-vault-request': 'true', accept: 'application/json' };
    if (init.token) headers['x-vault-token'] = init.token.expose().toString('utf8');
    if (init.namespace) headers['x-vault-namespace'] = init.namespace;
    let body: Buffer | undefined;
    if (init.body !== undefined) {
      body = Buffer.from(JSON.stringify(init.body), 'utf8');
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await httpRequest({
        method,
        url,
        headers,
        ...(body ? { body } : {}),
        signal: init.signal,
        what: `${this.#o.where}: request`,
        agent: this.#agent,
        ...(this.#o.tlsServerName ? { servername: this.#o.tlsServerName } : {}),
        tlsHint: 'set ca_file or tls_server_name',
      });
      return { status: res.status, json: parseJsonBody(res.body) };
    } finally {
      body?.fill(0);
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
