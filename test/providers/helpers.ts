// Request and assertion helpers shared by the provider tests.
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import type { ProviderRequest } from '../../src/core/provider.js';
import type { ProviderDeps } from '../../src/providers/factory.js';

/** What a provider that needs neither a logger nor the database is created with: only its environment. */
export const envOnlyDeps = (env: Record<string, string> = {}): ProviderDeps => ({ env, logger: undefined as never, db: undefined as never, stateDir: '/nonexistent' });

/** A lookup request; the third argument is its signal, or other fields (signal, identity). */
export function req(path: string, options: Readonly<Record<string, string>> = {}, more: AbortSignal | Partial<ProviderRequest> = {}): ProviderRequest {
  const extra = more instanceof AbortSignal ? { signal: more } : more;
  return { path, options, signal: new AbortController().signal, ...extra };
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
