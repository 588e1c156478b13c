// What src/cli.ts reads from argv before it loads anything else: the command name (so that only
// that command's module is loaded) and the plain `keyway get` invocations it runs without the
// command tree (commander and the command registry cost a `get` a tenth of its start-up). Anything
// the lean matcher is not sure of (help, `--opt=value`, a repeated or unknown option, a value or
// target starting with "-") is left to the full parser, so both paths always agree;
// test/cli/argv.test.ts checks that. No imports: it is part of the entry.

/** Global options that take a value, as the command tree declares them, by their GlobalOptions key. */
export const GLOBAL_VALUE_OPTIONS = {
  '--config': 'config',
  '--state-dir': 'stateDir',
  '--runtime-dir': 'runtimeDir',
  '--log-level': 'logLevel',
  '--log-format': 'logFormat',
} as const;

/** The command argv names, if any: its first argument that is neither a global option nor its value. */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return undefined;
    if (Object.hasOwn(GLOBAL_VALUE_OPTIONS, a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

type GlobalKey = (typeof GLOBAL_VALUE_OPTIONS)[keyof typeof GLOBAL_VALUE_OPTIONS];

export interface LeanGet {
  readonly target: string;
  readonly out?: string;
  readonly flags: Partial<Record<GlobalKey, string>>;
}

const plain = (s: string | undefined): s is string => s !== undefined && s !== '' && !s.startsWith('-');

/** `get TARGET [--out FILE]` with global options anywhere, each given once; else undefined. */
export function leanGetArgs(argv: readonly string[]): LeanGet | undefined {
  const flags: Partial<Record<GlobalKey, string>> = {};
  let command: string | undefined;
  let target: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const key = Object.hasOwn(GLOBAL_VALUE_OPTIONS, a) ? GLOBAL_VALUE_OPTIONS[a as keyof typeof GLOBAL_VALUE_OPTIONS] : undefined;
    if (key !== undefined || (a === '--out' && command !== undefined)) {
      const v = argv[++i];
      if (!plain(v)) return undefined;
      if (key === undefined) {
        if (out !== undefined) return undefined;
        out = v;
      } else {
        if (flags[key] !== undefined) return undefined;
        flags[key] = v;
      }
    } else if (!plain(a)) return undefined;
    else if (command === undefined) command = a;
    else if (target === undefined) target = a;
    else return undefined;
  }
  if (command !== 'get' || target === undefined) return undefined;
  return { target, ...(out !== undefined ? { out } : {}), flags };
}
