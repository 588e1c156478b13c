// The one error type of keyway. Every failure that crosses a module boundary is a KeywayError with a
// stable string code; each frontend maps codes to its wire format in exactly one place.
// Messages name what was wrong (option, reference part, path) and never contain secret bytes.

export const ERROR_CODES = [
  'invalid_argument', // bad input from a user or a peer: names, references, options, framing
  'not_found', // the secret, volume, plugin or provider does not exist
  'already_exists', // a name is taken
  'permission_denied', // the backend or the OS refused
  'unauthenticated', // credentials missing or expired
  'unavailable', // backend down or unreachable: retryable
  'throttled', // backend rate limit: retryable
  'timeout', // a deadline passed
  'cancelled', // the caller aborted
  'too_large', // a value or a message exceeds a limit
  'checksum_mismatch', // a pinned hash or an integrity check failed
  'failed_precondition', // the host or state is not as required (file modes, key mismatch, kernel), or a provider setting it needs is not configured
  'unsupported', // the operation does not exist for this provider or platform
  'internal', // a bug or an unexpected condition
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const codeSet: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && codeSet.has(value);
}

export class KeywayError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeywayError';
    this.code = code;
  }

  /** The one-line form used by the CLI and logs: `<code>: <message>`. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isKeywayError(e: unknown): e is KeywayError {
  return e instanceof KeywayError;
}

/** Errors that mean "try again later" for retries, breakers and last-known-good. */
export function isTransient(e: unknown): boolean {
  return isKeywayError(e) && (e.code === 'unavailable' || e.code === 'throttled' || e.code === 'timeout');
}

/**
 * Normalizes anything thrown into a KeywayError. Unknown errors become `internal` with a generic
 * message: their text might come from a library that echoed input, so it is kept only as `cause`.
 */
export function toKeywayError(e: unknown, context?: string): KeywayError {
  if (e instanceof KeywayError) return e;
  const prefix = context ? `${context}: ` : '';
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) {
    return new KeywayError(e.name === 'TimeoutError' ? 'timeout' : 'cancelled', `${prefix}operation ${e.name === 'TimeoutError' ? 'timed out' : 'was cancelled'}`, { cause: e });
  }
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string') {
    const mapped = errnoCode(errno);
    const path = (e as NodeJS.ErrnoException).path;
    return new KeywayError(mapped, `${prefix}${errno}${path ? ` on ${path}` : ''}`, { cause: e });
  }
  return new KeywayError('internal', `${prefix}unexpected error`, { cause: e });
}

function errnoCode(errno: string): ErrorCode {
  switch (errno) {
    case 'ENOENT':
      return 'not_found';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'permission_denied';
    case 'EEXIST':
      return 'already_exists';
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return 'too_large';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
      return 'unavailable';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ELOOP':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EINVAL':
    case 'ENAMETOOLONG':
      return 'invalid_argument';
    default:
      return 'internal';
  }
}

/** What a fired signal means for `what`: its own KeywayError reason, `timeout` for AbortSignal.timeout, else `cancelled`. */
export function abortedError(signal: AbortSignal, what = 'operation'): KeywayError {
  const reason: unknown = signal.reason;
  if (reason instanceof KeywayError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new KeywayError('timeout', `${what} timed out`, { cause: reason });
  return new KeywayError('cancelled', `${what} was cancelled`, { cause: reason });
}

/** Throws abortedError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) throw abortedError(signal, what);
}
