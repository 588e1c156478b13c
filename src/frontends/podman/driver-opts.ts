// The `--driver-opts` value for Podman's shell driver. Podman runs each command through
// `/bin/sh -c`, so every word is single-quoted; it parses the option string as one CSV record of
// key=value pairs, so a comma or a double quote anywhere would split or break it — such paths are
// refused with a message naming them rather than quoted into something Podman misreads.
import { KeywayError } from '../../core/errors.js';

export interface FastLookup {
  /** The interpreter of the tiny client (perl, part of every Debian base system). */
  readonly interpreter: string;
  readonly client: string;
  /** The daemon's Podman lookup socket. */
  readonly socket: string;
  /** Sent to the daemon so it answers only for the same store. */
  readonly stateDir: string;
}

export interface DriverCommandSpec {
  /** argv prefix that runs the keyway CLI: node, its flags, the script. */
  readonly cli: readonly string[];
  /** argv prefix of a lean entry that does only the lookup (takes the globals, no subcommand). */
  readonly lookupCli?: readonly string[];
  /** Global flags in effect (`--config X`, `--state-dir Y`, ...), baked in so Podman's env does not matter. */
  readonly globals: readonly string[];
  readonly fastLookup?: FastLookup;
}

export const SHELL_OPS = ['list', 'lookup', 'store', 'delete'] as const;
export type ShellOp = (typeof SHELL_OPS)[number];

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function checkWord(word: string): string {
  const bad = /[,"\u0000-\u001f\u007f]/.exec(word);
  if (bad) {
    const what = bad[0] === ',' ? 'a comma' : bad[0] === '"' ? 'a double quote' : 'a control character';
    throw new KeywayError('invalid_argument', `cannot build --driver-opts: ${JSON.stringify(word.slice(0, 200))} contains ${what}, which Podman's option parser would split or reject (move it to a path without one)`);
  }
  return word;
}

function command(words: readonly string[]): string {
  return 'exec ' + words.map((w) => shellQuote(checkWord(w))).join(' ');
}

export function driverCommand(spec: DriverCommandSpec, op: ShellOp): string {
  const keyway = op === 'lookup' && spec.lookupCli ? [...spec.lookupCli, ...spec.globals] : [...spec.cli, ...spec.globals, 'podman', op];
  if (op === 'lookup' && spec.fastLookup) {
    const f = spec.fastLookup;
    return command([f.interpreter, f.client, f.socket, f.stateDir, '--', ...keyway]);
  }
  return command(keyway);
}

/** `list=...,lookup=...,store=...,delete=...` */
export function driverOpts(spec: DriverCommandSpec): string {
  return SHELL_OPS.map((op) => `${op}=${driverCommand(spec, op)}`).join(',');
}
