// Server-side SigV4 verification, written separately from the client signer so the two check
// each other: parses the Authorization header, checks the credential scope and recomputes the
// signature from the request as received.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EmulatorRequest } from '../http.js';

export interface AwsKey {
  readonly secret: string;
  readonly sessionToken?: string;
  expired?: boolean;
}

export type AuthFailure = { readonly type: string; readonly message: string };

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function verifySigV4(req: EmulatorRequest, keys: ReadonlyMap<string, AwsKey>, region: string, service: string, now = Date.now()): AuthFailure | { readonly accessKeyId: string } {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string') return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = AUTH_RE.exec(auth);
  if (!m) return { type: 'IncompleteSignatureException', message: 'Authorization header requires Credential, SignedHeaders and Signature parameters.' };
  const [, akid = '', date = '', scopeRegion = '', scopeService = '', signedHeaders = '', signature = ''] = m;
  const key = keys.get(akid);
  if (!key) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (key.expired) return { type: 'ExpiredTokenException', message: 'The security token included in the request is expired' };
  if (scopeRegion !== region) return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${scopeRegion}'.` };
  if (scopeService !== service) return { type: 'InvalidSignatureException', message: `Credential should be scoped to correct service: '${service}'.` };
  const stamp = req.headers['x-amz-date'];
  if (typeof stamp !== 'string' || !/^\d{8}T\d{6}Z$/.test(stamp)) return { type: 'IncompleteSignatureException', message: 'Missing X-Amz-Date.' };
  if (stamp.slice(0, 8) !== date) return { type: 'InvalidSignatureException', message: 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.' };
  const when = Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(9, 11), +stamp.slice(11, 13), +stamp.slice(13, 15));
  if (Math.abs(now - when) > 15 * 60_000) return { type: 'InvalidSignatureException', message: 'Signature expired.' };
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return { type: 'InvalidSignatureException', message: 'SignedHeaders must include host and x-amz-date.' };
  const canonicalHeaders = names.map((n) => {
    const v = req.headers[n];
    return `${n}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')}\n`;
  });
  const query = [...req.url.searchParams.entries()].map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join('&');
  const path = req.url.pathname.split('/').map((s) => enc(decodeURIComponent(s))).join('/') || '/';
  const canonical = [req.method, path, query, canonicalHeaders.join(''), signedHeaders, createHash('sha256').update(req.body).digest('hex')].join('\n');
  const scope = `${date}/${scopeRegion}/${scopeService}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
  let k = createHmac('sha256', `AWS4${key.secret}`).update(date).digest();
  for (const part of [scopeRegion, scopeService, 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  const expected = createHmac('sha256', k).update(toSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return { type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
  }
  return { accessKeyId: akid };
}
