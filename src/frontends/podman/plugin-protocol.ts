// Wire format of `keyway podman-plugin` (docs/podman-plugin-protocol.md is the specification):
// one request per process on stdin — a one-line JSON header, a newline, exactly `Size` raw payload
// bytes, EOF — answered on stdout. Driver requests carry "Op"; the stateless provider request of
// Podman's later design carries "SecretName" and is answered with bare bytes.
import { KeywayError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';
import { PODMAN_MAX_BYTES } from './payload.js';

export const MAX_HEADER_BYTES = 65536;
/** Largest stdin a request can need: a full header plus Podman's largest value. */
export const MAX_REQUEST_BYTES = MAX_HEADER_BYTES + PODMAN_MAX_BYTES;
export const DRIVER_OPS = ['store', 'lookup', 'delete', 'list'] as const;
export type DriverOp = (typeof DRIVER_OPS)[number];
/** Option keys keyway understands in DriverOpts and ProviderOpts. */
export const OPTION_KEYS = ['ref'] as const;

export interface DriverRequest {
  readonly kind: 'driver';
  readonly op: DriverOp;
  readonly id?: string;
  readonly driverOpts: Readonly<Record<string, string>>;
  /** The payload (store only, else empty); owned by the receiver, who zeroes it. */
  readonly payload: SecretValue;
}

export interface ProviderRequestMessage {
  readonly kind: 'provider';
  readonly secretName: string;
  readonly providerOpts: Readonly<Record<string, string>>;
}

export type PluginRequest = DriverRequest | ProviderRequestMessage;

const bad = (message: string): KeywayError => new KeywayError('invalid_argument', `podman-plugin request: ${message}`);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function stringMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`"${field}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw bad(`"${field}.${k.slice(0, 64)}" must be a string`);
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw bad(`"${field}" has unknown option ${JSON.stringify(k.slice(0, 64))} (keyway knows: ${OPTION_KEYS.join(', ')})`);
    out[k] = val;
  }
  return out;
}

/** Parses a whole request (stdin to EOF). Never echoes payload bytes in errors. */
export function parseRequest(input: Buffer): PluginRequest {
  if (input.length === 0) throw bad('stdin was empty (expected a JSON header line)');
  const nl = input.indexOf(0x0a);
  const headerEnd = nl < 0 ? input.length : nl;
  if (headerEnd + (nl < 0 ? 0 : 1) > MAX_HEADER_BYTES) throw bad(`header is longer than ${MAX_HEADER_BYTES} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(input.subarray(0, headerEnd)));
  } catch {
    throw bad('header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const h = header as Record<string, unknown>;
  const rest = nl < 0 ? 0 : input.length - nl - 1;

  const size = h.Size ?? 0;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad('"Size" must be a non-negative integer');
  if (size > PODMAN_MAX_BYTES) throw new KeywayError('too_large', `podman-plugin request: "Size" ${size} is not less than Podman's limit of 512000`);
  if (rest !== size) throw bad(`${rest} payload bytes follow the header but "Size" is ${size}`);

  if (h.Op !== undefined && h.SecretName !== undefined) throw bad('has both "Op" (driver request) and "SecretName" (provider request)');
  if (h.SecretName !== undefined) {
    if (typeof h.SecretName !== 'string' || h.SecretName.length === 0) throw bad('"SecretName" must be a non-empty string');
    if (size !== 0) throw bad('a provider request carries no payload ("Size" must be 0)');
    return { kind: 'provider', secretName: h.SecretName, providerOpts: stringMap(h.ProviderOpts, 'ProviderOpts') };
  }
  if (h.Op === undefined) throw bad('header has neither "Op" (driver request) nor "SecretName" (provider request)');
  if (typeof h.Op !== 'string' || !(DRIVER_OPS as readonly string[]).includes(h.Op)) {
    throw new KeywayError('unsupported', `podman-plugin request: unknown "Op" ${JSON.stringify(String(h.Op).slice(0, 64))} (expected ${DRIVER_OPS.join(', ')})`);
  }
  const op = h.Op as DriverOp;
  if (h.ID !== undefined && typeof h.ID !== 'string') throw bad('"ID" must be a string');
  if (op !== 'list' && h.ID === undefined) throw bad(`"${op}" needs "ID"`);
  if (op !== 'store' && size !== 0) throw bad(`"${op}" carries no payload ("Size" must be 0)`);
  const driverOpts = stringMap(h.DriverOpts, 'DriverOpts');
  const payload = SecretValue.copyOf(input.subarray(input.length - rest));
  return { kind: 'driver', op, ...(typeof h.ID === 'string' ? { id: h.ID } : {}), driverOpts, payload };
}

/** A header line: JSON plus "\n". */
export function headerLine(fields: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(fields) + '\n');
}

export function errorHeader(e: KeywayError): Buffer {
  return headerLine({ Error: { Code: e.code, Message: e.message } });
}
