import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRequest, sha256Hex, signRequest, signingKey } from '../../../src/providers/aws/sigv4.js';

// The worked example of the AWS "Signature Version 4 signing process" documentation (IAM ListUsers).
const url = new URL('https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08');
const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host: 'iam.amazonaws.com', 'x-amz-date': '20150830T123600Z' };

test('the canonical request of the documented example hashes to the documented value', () => {
  const { text, signedHeaders } = canonicalRequest('GET', url, headers, sha256Hex(''));
  assert.equal(signedHeaders, 'content-type;host;x-amz-date');
  assert.equal(sha256Hex(text), 'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59');
});

test('signing the documented example yields the documented signature', () => {
  const out = signRequest({
    method: 'GET',
    url,
    headers: { 'content-type': headers['content-type'] },
    body: '',
    region: 'us-east-1',
    service: 'iam',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    now: new Date('2015-08-30T12:36:00Z'),
  });
  assert.equal(out.authorization, 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  assert.equal(out['x-amz-date'], '20150830T123600Z');
  assert.equal(out.host, undefined, 'fetch derives Host from the URL');
});

test('the signing key of the documented example matches', () => {
  const k = signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'iam');
  assert.equal(k.toString('hex'), 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
});

test('a session token is sent and signed', () => {
  const out = signRequest({ method: 'POST', url: new URL('http://127.0.0.1:9/'), headers: {}, body: '{}', region: 'eu-west-1', service: 'ssm', credentials: { accessKeyId: 'A', secretAccessKey: 'B', sessionToken: 'T' } });
  assert.equal(out['x-amz-security-token'], 'T');
  assert.match(out.authorization ?? '', /SignedHeaders=host;x-amz-date;x-amz-security-token,/);
});
