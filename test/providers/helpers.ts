// Request and assertion helpers shared by the provider tests.
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import type { ProviderRequest } from '../../src/core/provider.js';

export function req(path: string, options: Readonly<Record<string, string>> = {}, signal: AbortSignal = new AbortController().signal, extra: Partial<ProviderRequest> = {}): ProviderRequest {
  return { path, options, signal, ...extra };
}

/** A rejection predicate: a KeywayError with code `c`, matching `text`, not quoting `secret`. */
export function code(c: string, text?: RegExp, secret?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof KeywayError, `expected KeywayError, got ${String(e)}`);
    assert.equal(e.code, c, e.message);
    if (text) assert.match(e.message, text);
    if (secret !== undefined) assert.ok(!e.message.includes(secret) && !String(e.stack).includes(secret), 'the error leaks the secret');
    return true;
  };
}
