// A signed AWS JSON 1.1 call (`POST /`, `X-Amz-Target: <Prefix>.<Operation>`), shared by Secrets
// Manager and SSM. AWS error types become keyway codes here, once for both services.
import { KeywayError, type ErrorCode } from '../../core/errors.js';
import { awsErrorCode } from './error-codes.js';
import { httpRequest } from '../kit/http.js';
import { codeForStatus } from '../kit/status.js';
import { backendMessage, isRecord, parseJsonBody } from '../kit/values.js';
import type { AwsCredentialChain } from './credentials.js';
import { signRequest } from './sigv4.js';

export interface AwsJsonTarget {
  readonly endpoint: string;
  readonly region: string;
  /** Signing name: `secretsmanager`, `ssm`. */
  readonly service: string;
  /** X-Amz-Target prefix: `secretsmanager`, `AmazonSSM`. */
  readonly targetPrefix: string;
  readonly credentials: AwsCredentialChain;
  readonly timeoutMs: number;
}

/** The credential errors after which fresh credentials may help (rotated keys, expired tokens). */
const RETRY_WITH_FRESH_CREDENTIALS = new Set(['ExpiredTokenException', 'ExpiredToken', 'UnrecognizedClientException', 'InvalidClientTokenId']);

export class AwsError extends KeywayError {
  readonly awsType: string;
  constructor(code: ErrorCode, awsType: string, message: string) {
    super(code, message);
    this.awsType = awsType;
  }
}

/** `com.amazonaws.x#ResourceNotFoundException` and `ResourceNotFoundException:http://...` → the bare name. */
export function errorTypeName(raw: string): string {
  const afterHash = raw.includes('#') ? raw.slice(raw.lastIndexOf('#') + 1) : raw;
  const colon = afterHash.indexOf(':');
  return colon >= 0 ? afterHash.slice(0, colon) : afterHash;
}

export async function awsJsonCall(t: AwsJsonTarget, operation: string, input: Record<string, unknown>, signal: AbortSignal, what: string): Promise<Record<string, unknown>> {
  try {
    return await callOnce(t, operation, input, signal, what);
  } catch (e) {
    if (!(e instanceof AwsError) || !RETRY_WITH_FRESH_CREDENTIALS.has(e.awsType)) throw e;
    t.credentials.invalidate();
    return callOnce(t, operation, input, signal, what);
  }
}

async function callOnce(t: AwsJsonTarget, operation: string, input: Record<string, unknown>, signal: AbortSignal, what: string): Promise<Record<string, unknown>> {
  const credentials = await t.credentials.get(signal);
  const url = new URL(`${t.endpoint}/`);
  const body = JSON.stringify(input);
  const headers = signRequest({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${t.targetPrefix}.${operation}` },
    body,
    region: t.region,
    service: t.service,
    credentials,
  });
  const res = await httpRequest({ method: 'POST', url: url.toString(), headers, body, signal, timeoutMs: t.timeoutMs, what: `${what}: ${operation}` });
  const doc = parseJsonBody(res.body);
  if (res.status === 200) {
    if (!isRecord(doc)) throw new KeywayError('unavailable', `${what}: ${operation} returned a body that is not a JSON object`);
    return doc;
  }
  const rawType = (isRecord(doc) && typeof doc.__type === 'string' ? doc.__type : undefined) ?? res.header('x-amzn-errortype') ?? '';
  const type = errorTypeName(rawType);
  const message = isRecord(doc) ? backendMessage(doc.message ?? doc.Message) : '';
  const code = awsErrorCode(type) ?? codeForStatus(res.status);
  const label = type.length > 0 ? type : `HTTP ${res.status}`;
  throw new AwsError(code, type, `${what}: ${operation} failed: ${label}${message ? ` (${message})` : ''}`);
}
