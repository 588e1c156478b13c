// Message shapes of protocol v1 on top of the frame codec: building requests and checking responses.
import { KeywayError, isErrorCode, type ErrorCode } from '../core/errors.js';
import { oneLine } from '../core/one-line.js';
import type { FrameHeader } from './framing.js';

export const PROTOCOL_VERSION = 1;
export const OPS = ['describe', 'lookup', 'store', 'delete', 'list', 'version'] as const;
export type Op = (typeof OPS)[number];

/**
 * What a code in a plugin's answer becomes (docs/plugin-protocol.md lists the codes a plugin may
 * send). The others name keyway's own checks or its caller's acts, which a plugin cannot report:
 * from a plugin they mean a broken plugin, so `internal`. A Record, so a new code in
 * core/errors.ts does not compile until it is decided here; unknown strings become `internal`.
 */
export const FROM_PLUGIN_CODE: Readonly<Record<ErrorCode, ErrorCode>> = {
  invalid_argument: 'invalid_argument',
  not_found: 'not_found',
  already_exists: 'internal',
  permission_denied: 'permission_denied',
  unauthenticated: 'unauthenticated',
  unavailable: 'unavailable',
  throttled: 'throttled',
  timeout: 'timeout',
  cancelled: 'internal',
  too_large: 'too_large',
  checksum_mismatch: 'internal',
  failed_precondition: 'failed_precondition',
  unsupported: 'unsupported',
  internal: 'internal',
};

export interface RequestFields {
  readonly op: Op;
  readonly path?: string;
  readonly options?: Readonly<Record<string, string>>;
  readonly prefix?: string;
}

export function requestHeader(id: string, req: RequestFields | (Omit<RequestFields, 'op'> & { op: string }), size: number): FrameHeader {
  const h: FrameHeader = { v: PROTOCOL_VERSION, id, op: req.op };
  if (req.path !== undefined) h.path = req.path;
  if (req.options !== undefined) h.options = req.options;
  if (req.prefix !== undefined) h.prefix = req.prefix;
  h.size = size;
  return h;
}

export interface Describe {
  readonly protocol: number;
  readonly name?: string;
  readonly ops: readonly Op[];
  readonly optionKeys: readonly string[];
  readonly pluginVersion?: string;
}

function clip(s: string, n = 200): string {
  const flat = oneLine(s);
  return flat.length > n ? `${flat.slice(0, n)}...` : flat;
}

/** Turns an `ok:false` response into the KeywayError it carries, prefixed with the plugin name. */
export function responseError(plugin: string, header: FrameHeader): KeywayError {
  const err = header.error;
  const rawCode = typeof err === 'object' && err !== null ? (err as Record<string, unknown>).code : undefined;
  const rawMsg = typeof err === 'object' && err !== null ? (err as Record<string, unknown>).message : undefined;
  const code: ErrorCode = isErrorCode(rawCode) ? FROM_PLUGIN_CODE[rawCode] : 'internal';
  const message = typeof rawMsg === 'string' && rawMsg.length > 0 ? clip(rawMsg) : 'no message';
  return new KeywayError(code, `plugin ${plugin}: ${message}`);
}

export function protocolViolation(plugin: string, what: string): KeywayError {
  return new KeywayError('internal', `plugin ${plugin} broke the protocol: ${what}`);
}

/** Checks the generic response fields and throws the plugin's error for `ok:false`. */
export function checkResponse(plugin: string, header: FrameHeader): void {
  if (header.ok === true) return;
  if (header.ok === false) throw responseError(plugin, header);
  throw protocolViolation(plugin, 'response header has no boolean "ok"');
}

export function parseDescribe(plugin: string, header: FrameHeader): Describe {
  checkResponse(plugin, header);
  const protocol = header.protocol;
  if (typeof protocol !== 'number' || !Number.isInteger(protocol)) throw protocolViolation(plugin, 'describe response has no integer "protocol"');
  if (protocol !== PROTOCOL_VERSION) throw new KeywayError('unsupported', `plugin ${plugin} speaks protocol ${protocol}; keyway speaks ${PROTOCOL_VERSION}`);
  const ops = Array.isArray(header.ops) ? header.ops.filter((o): o is Op => (OPS as readonly unknown[]).includes(o)) : [];
  if (!ops.includes('lookup')) throw protocolViolation(plugin, 'describe response does not list "lookup" in "ops"');
  const keys = Array.isArray(header.option_keys) ? header.option_keys : [];
  if (!keys.every((k) => typeof k === 'string' && /^[a-z][a-z0-9_]{0,62}$/.test(k))) throw protocolViolation(plugin, 'describe "option_keys" must be lowercase identifiers');
  return {
    protocol,
    ops,
    optionKeys: keys as string[],
    ...(typeof header.name === 'string' ? { name: clip(header.name, 64) } : {}),
    ...(typeof header.plugin_version === 'string' ? { pluginVersion: clip(header.plugin_version, 64) } : {}),
  };
}

export function parseNames(plugin: string, header: FrameHeader): string[] {
  const names = header.names;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw protocolViolation(plugin, 'list response has no string array "names"');
  return names;
}

export function parseVersion(plugin: string, header: FrameHeader): string {
  const v = header.version;
  if (typeof v !== 'string' || v.length === 0 || v.length > 1024) throw protocolViolation(plugin, 'version response has no "version" string');
  return v;
}
