// Parsing of `keyway run` options: `--secret (NAME|REF)[,target=FILE][,mode=0400][,uid=N][,gid=N]`,
// `--env VAR=(NAME|REF)` and `--watch[=restart|signal:SIG]`.
import { constants as osc } from 'node:os';
import { KeywayError } from '../core/errors.js';
import { validateFileName } from '../core/names.js';
import { isReference, parseReference } from '../core/reference.js';

export interface SecretSpec {
  /** NAME or REF. */
  readonly target: string;
  /** File name in CREDENTIALS_DIRECTORY; default the secret's name. */
  readonly file?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface EnvSpec {
  readonly variable: string;
  readonly target: string;
}

export type WatchMode = { readonly kind: 'restart' } | { readonly kind: 'signal'; readonly signal: NodeJS.Signals };

const KEYS = ['target', 'mode', 'uid', 'gid'] as const;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

function parseOctal(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) throw bad(`--secret: mode must be octal such as 0400, got ${JSON.stringify(text.slice(0, 16))}`);
  return parseInt(text, 8);
}

function parseNumericId(text: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text) || Number(text) > 0xfffffffe) throw bad(`--secret: ${what} must be a numeric id, got ${JSON.stringify(text.slice(0, 16))}`);
  return Number(text);
}

/**
 * Options are taken from the end: a reference may itself contain commas (in its query or
 * fragment), so only trailing `,key=value` parts with a known key count as options.
 */
export function parseSecretSpec(text: string): SecretSpec {
  const parts = text.split(',');
  const opts: Partial<Record<(typeof KEYS)[number], string>> = {};
  while (parts.length > 1) {
    const last = parts[parts.length - 1] as string;
    const eq = last.indexOf('=');
    const key = last.slice(0, eq) as (typeof KEYS)[number];
    if (eq < 0 || !KEYS.includes(key)) break;
    if (opts[key] !== undefined) throw bad(`--secret: ${key}= given twice`);
    opts[key] = last.slice(eq + 1);
    parts.pop();
  }
  const target = parts.join(',');
  if (target.length === 0) throw bad('--secret: missing NAME or REF before the options');
  // A NAME has no commas, so anything after its first comma was meant as an option.
  const unknown = isReference(target) ? undefined : parts.slice(1).find((p) => !KEYS.includes(p.slice(0, p.indexOf('=')) as (typeof KEYS)[number]));
  if (unknown !== undefined) {
    const eq = unknown.indexOf('=');
    const what = eq < 0 ? `${JSON.stringify(unknown.slice(0, 32))} is not KEY=VALUE` : `unknown option ${JSON.stringify(unknown.slice(0, eq).slice(0, 32))}`;
    throw bad(`--secret ${parts[0] ?? ''}: ${what} (options: ${KEYS.map((k) => `${k}=`).join(', ')})`);
  }
  if (isReference(target)) parseReference(target);
  return {
    target,
    ...(opts.target !== undefined ? { file: validateFileName(opts.target, '--secret target') } : {}),
    ...(opts.mode !== undefined ? { mode: parseOctal(opts.mode) } : {}),
    ...(opts.uid !== undefined ? { uid: parseNumericId(opts.uid, 'uid') } : {}),
    ...(opts.gid !== undefined ? { gid: parseNumericId(opts.gid, 'gid') } : {}),
  };
}

export function parseEnvSpec(text: string): EnvSpec {
  const eq = text.indexOf('=');
  const variable = eq < 0 ? text : text.slice(0, eq);
  if (eq < 0 || !ENV_NAME_RE.test(variable)) throw bad(`--env: expected VAR=(NAME|REF) with VAR a valid variable name, got ${JSON.stringify(variable.slice(0, 64))}`);
  const target = text.slice(eq + 1);
  if (target.length === 0) throw bad(`--env ${variable}: missing NAME or REF`);
  if (isReference(target)) parseReference(target);
  return { variable, target };
}

export function parseWatch(text: string | true): WatchMode {
  if (text === true || text === '' || text === 'restart') return { kind: 'restart' };
  if (text.startsWith('signal:')) {
    let sig = text.slice('signal:'.length).toUpperCase();
    if (!sig.startsWith('SIG')) sig = `SIG${sig}`;
    if (!(sig in osc.signals) || sig === 'SIGKILL' || sig === 'SIGSTOP') throw bad(`--watch: unknown or unusable signal ${JSON.stringify(text.slice(7, 20))}`);
    return { kind: 'signal', signal: sig as NodeJS.Signals };
  }
  // `--watch true` reads "true" as the mode: say how to pass a command instead.
  throw bad(`--watch: expected restart or signal:SIG, got ${JSON.stringify(text.slice(0, 32))} (a command goes after --: keyway run --watch -- ${text.slice(0, 32)})`);
}

/**
 * The default file name for a target: a NAME is its own file name; for a REF, the last token of
 * the fragment, else the last element of the path (`ref+vault://kv/app#/db/password` → `password`).
 */
export function defaultFileName(target: string): string {
  if (!isReference(target)) return validateFileName(target, `file name for ${JSON.stringify(target.slice(0, 64))}`);
  const ref = parseReference(target);
  const candidate = ref.pointer?.at(-1) ?? ref.path.split('/').filter((s) => s.length > 0).at(-1) ?? '';
  try {
    return validateFileName(candidate);
  } catch {
    throw bad(`--secret: cannot derive a file name from the reference; add ,target=FILE`);
  }
}
