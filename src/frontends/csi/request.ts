// Turns a MountRequest into validated parts: the objects to fetch, the default mode, and who asks.
// `attributes` and `secrets` carry service account tokens, so nothing here ever quotes them:
// JSON.parse's own message includes a slice of the input (CVE-2025-7445 was exactly that, logged).
import { KeywayError } from '../../core/errors.js';
import type { WorkloadIdentity } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import { parseObjects, parseYaml, type CsiObject } from './objects.js';
import type { MountRequest } from './proto.js';

export const ATTR_POD_NAME = 'csi.storage.k8s.io/pod.name';
export const ATTR_POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
export const ATTR_POD_UID = 'csi.storage.k8s.io/pod.uid';
export const ATTR_SERVICE_ACCOUNT = 'csi.storage.k8s.io/serviceAccount.name';
export const ATTR_TOKENS = 'csi.storage.k8s.io/serviceAccount.tokens';
/** Parameters keyway reads; any other key without a "/" (the kubelet's and driver's namespaces) is a typo. */
export const KNOWN_PARAMETERS = ['objects', 'providerParams', 'secretProviderClass'] as const;
export const DEFAULT_FILE_MODE = 0o644;

export interface ParsedMount {
  readonly objects: readonly CsiObject[];
  readonly defaultMode: number;
  /** Owns the token SecretValues: call `disposeIdentity` when the mount is done. */
  readonly identity: WorkloadIdentity;
}

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

/** A JSON object of string values; the message names the field, never its content. */
function parseStringMap(text: string, what: string): Record<string, string> {
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(`${what} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(`${what} must be a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string') throw bad(`${what}: the value of ${JSON.stringify(k.slice(0, 128))} must be a string`);
    out[k] = v;
  }
  return out;
}

/** `permission` is the default mode as a decimal string ("420" = 0644). */
export function parsePermission(text: string): number {
  if (text === '') return DEFAULT_FILE_MODE;
  if (!/^[0-9]{1,4}$/.test(text)) throw bad('permission must be a decimal file mode such as "420" (0644)');
  const mode = Number(text);
  if (mode <= 0 || mode > 0o777) throw bad(`permission ${text} must be a file mode from 1 to 511 (0001 to 0777)`);
  return mode;
}

/**
 * `serviceAccount.tokens` is JSON inside a JSON string value: {"<audience>": {"token": "...",
 * "expirationTimestamp": "..."}}. The tokens are wrapped in SecretValue at once.
 */
export function parseTokens(text: string | undefined): Map<string, { token: SecretValue; expiresAt?: string }> | undefined {
  if (text === undefined || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(`${ATTR_TOKENS} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad(`${ATTR_TOKENS} must be a JSON object keyed by audience`);
  const tokens = new Map<string, { token: SecretValue; expiresAt?: string }>();
  try {
    for (const [audience, entry] of Object.entries(parsed)) {
      const e = entry as { token?: unknown; expirationTimestamp?: unknown } | null;
      if (e === null || typeof e !== 'object' || typeof e.token !== 'string' || e.token === '') {
        throw bad(`${ATTR_TOKENS}: audience ${JSON.stringify(audience.slice(0, 128))} has no token string`);
      }
      if (e.expirationTimestamp !== undefined && typeof e.expirationTimestamp !== 'string') {
        throw bad(`${ATTR_TOKENS}: expirationTimestamp of audience ${JSON.stringify(audience.slice(0, 128))} must be a string`);
      }
      tokens.set(audience, { token: SecretValue.fromString(e.token), ...(e.expirationTimestamp ? { expiresAt: e.expirationTimestamp } : {}) });
    }
  } catch (err) {
    for (const t of tokens.values()) t.token.zero();
    throw err;
  }
  return tokens;
}

/** `providerParams`: a YAML (or JSON) mapping of string keys to scalar values, handed to providers. */
export function parseProviderParams(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = parseYaml(text, 'parameter "providerParams"', 0);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('parameter "providerParams" must be a mapping of names to values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/.test(k)) throw bad(`providerParams key ${JSON.stringify(k.slice(0, 64))} is invalid (letters, digits, "_", ".", "-"; at most 63)`);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad(`providerParams.${k} must be a string, number or boolean`);
    out[k] = String(v);
  }
  return out;
}

export function disposeIdentity(identity: WorkloadIdentity): void {
  for (const t of identity.tokens?.values() ?? []) t.token.zero();
}

export function parseMountRequest(req: MountRequest): ParsedMount {
  const attributes = parseStringMap(req.attributes ?? '', 'attributes');
  const secrets = parseStringMap(req.secrets ?? '', 'secrets');
  if (!req.target_path) throw bad('target_path is empty');
  const defaultMode = parsePermission(req.permission ?? '');
  for (const key of Object.keys(attributes)) {
    if (key.includes('/') || (KNOWN_PARAMETERS as readonly string[]).includes(key)) continue;
    throw bad(`unknown parameter ${JSON.stringify(key.slice(0, 64))} (keyway reads: ${KNOWN_PARAMETERS.join(', ')})`);
  }
  const objects = parseObjects(attributes['objects']);
  const params = parseProviderParams(attributes['providerParams']);
  // Newer drivers can pass tokens in the secrets map (KEP-5538); prefer it when both are present.
  const tokens = parseTokens(secrets[ATTR_TOKENS] ?? attributes[ATTR_TOKENS]);
  const pod = {
    ...(attributes[ATTR_POD_NAME] ? { name: attributes[ATTR_POD_NAME] } : {}),
    ...(attributes[ATTR_POD_NAMESPACE] ? { namespace: attributes[ATTR_POD_NAMESPACE] } : {}),
    ...(attributes[ATTR_POD_UID] ? { uid: attributes[ATTR_POD_UID] } : {}),
    ...(attributes[ATTR_SERVICE_ACCOUNT] ? { serviceAccount: attributes[ATTR_SERVICE_ACCOUNT] } : {}),
  };
  const identity: WorkloadIdentity = {
    frontend: 'csi',
    ...(pod.uid ? { consumer: pod.uid } : {}),
    pod,
    ...(tokens ? { tokens } : {}),
    ...(params ? { params } : {}),
  };
  return { objects, defaultMode, identity };
}
