// AWS Signature Version 4 for the JSON APIs (Secrets Manager, SSM): signs method, path, query,
// headers and the body hash under a date/region/service scope. Written from the public
// "Signature Version 4 signing process" documentation; the test emulator verifies it independently.
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Epoch ms after which the credentials must be refreshed (temporary credentials). */
  readonly expiresAt?: number;
}

export interface SignInput {
  readonly method: string;
  readonly url: URL;
  /** Headers to sign; `host`, `x-amz-date` and `x-amz-security-token` are added. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentials;
  readonly now?: Date;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (uppercase). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

export function canonicalPath(url: URL): string {
  // Non-S3 services encode each segment of the already-encoded path once more.
  const segs = url.pathname.split('/').map((s) => uriEncode(decodeURIComponent(s)));
  const p = segs.join('/');
  return p.length === 0 ? '/' : p;
}

export function canonicalRequest(method: string, url: URL, headers: Readonly<Record<string, string>>, payloadHash: string): { text: string; signedHeaders: string } {
  const lower = Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const);
  lower.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const signedHeaders = lower.map(([k]) => k).join(';');
  const text = [method, canonicalPath(url), canonicalQuery(url), lower.map(([k, v]) => `${k}:${v}\n`).join(''), signedHeaders, payloadHash].join('\n');
  return { text, signedHeaders };
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/** Returns the headers to send: the input headers plus host, x-amz-date, token and Authorization. */
export function signRequest(input: SignInput): Record<string, string> {
  const now = input.now ?? new Date();
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, host: input.url.host, 'x-amz-date': stamp };
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;
  const payloadHash = sha256Hex(input.body);
  const { text, signedHeaders } = canonicalRequest(input.method, input.url, headers, payloadHash);
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(text)].join('\n');
  const signature = createHmac('sha256', signingKey(input.credentials.secretAccessKey, date, input.region, input.service)).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  // The transport sets Host itself from the URL.
  delete headers.host;
  return headers;
}
