// The request context and error predicate the provider tests share (their broker is testBroker).
export const testCtx = (signal: AbortSignal = new AbortController().signal) => ({ identity: { frontend: 'test' }, signal });

/** Asserts-friendly predicate: a KeywayError-like value with this code whose message lacks `secret`. */
export function isCode(code: string, secret?: string) {
  return (e: unknown): boolean => {
    const err = e as { code?: unknown; message?: unknown; stack?: unknown };
    if (err.code !== code) throw new Error(`expected code ${code}, got ${String(err.code)}: ${String(err.message)}`);
    if (secret !== undefined && (String(err.message).includes(secret) || String(err.stack).includes(secret))) throw new Error('the error message contains the secret value');
    return true;
  };
}
