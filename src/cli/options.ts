// Parsers for option values shared by commands; each throws invalid_argument naming the option.
import { KeywayError } from '../core/errors.js';
import { checkFileMode } from '../core/file-mode.js';

export function parseMode(text: string, option = '--mode'): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) throw new KeywayError('invalid_argument', `${option}: expected an octal mode such as 0400, got ${JSON.stringify(text.slice(0, 16))}`);
  return checkFileMode(parseInt(text, 8), `${option}:`);
}

export function parseId(text: string, option: string): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text) || Number(text) > 0xffffffff - 1) throw new KeywayError('invalid_argument', `${option}: expected a numeric id, got ${JSON.stringify(text.slice(0, 16))}`);
  return Number(text);
}

export function parseLabel(text: string, acc: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (key.length === 0 || /[\0\n]/.test(text)) throw new KeywayError('invalid_argument', `--label: expected KEY=VALUE, got ${JSON.stringify(text.slice(0, 64))}`);
  return { ...acc, [key]: eq < 0 ? '' : text.slice(eq + 1) };
}
