// Deadlines and cancellation for plugin requests.
import { KeywayError } from '../../core/errors.js';

/** The caller's signal combined with the entry's per-request deadline. */
export function requestSignal(caller: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([caller, AbortSignal.timeout(timeoutMs)]);
}

export function abortError(plugin: string, signal: AbortSignal): KeywayError {
  const r: unknown = signal.reason;
  if (r instanceof KeywayError) return r;
  if (r instanceof Error && r.name === 'TimeoutError') return new KeywayError('timeout', `plugin ${plugin} did not answer within its deadline; its process group was killed`);
  return new KeywayError('cancelled', `request to plugin ${plugin} was cancelled`);
}
