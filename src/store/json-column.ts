import { KeywayError } from '../core/errors.js';

/**
 * Parses a JSON text column. keyway writes only JSON there, so text that does not parse means the
 * row was changed outside keyway: `failed_precondition` naming the record, not a SyntaxError.
 */
export function jsonColumn<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new KeywayError('failed_precondition', `${what} in the database is not valid JSON (changed outside keyway?)`, { cause: e });
  }
}
