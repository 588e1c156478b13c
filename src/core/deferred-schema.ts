// zod schemas written as usual but built by zod only when needed. Evaluating zod costs a CLI start
// more than everything else it does with the config, and a valid config never needs zod's error
// reporting. `recorder()` is a stand-in for `z` that records each call (`z.string().min(1)`...);
// `deferred()` turns a recording into a fast parse that handles the calls listed in STEPS without
// zod, and into the real schema, replayed on zod on first use, which decides every input the fast
// parse is not sure of and words every error. test/config/schema.test.ts checks that both agree on
// the config schema.
import { z as zod } from 'zod';

/** The fast parse's answer when zod has to decide. */
export const UNSURE: unique symbol = Symbol('unsure');
type Parse = (value: unknown) => unknown;

interface Call {
  readonly key: string;
  readonly args: readonly unknown[];
}

const RECORDING = Symbol('recording');
interface Recording {
  readonly [RECORDING]: readonly Call[];
}

function record(calls: readonly Call[]): Recording {
  const target = { [RECORDING]: calls };
  return new Proxy(target, {
    get: (t, key) => (key === RECORDING ? t[RECORDING] : typeof key === 'string' ? (...args: unknown[]) => record([...calls, { key, args }]) : undefined),
  });
}

function isRecording(v: unknown): v is Recording {
  return typeof v === 'object' && v !== null && RECORDING in v;
}

/** A stand-in for zod's `z`, typed as `z` so schema code type-checks (and infers) as zod code. */
export function recorder<Z>(): Z {
  return new Proxy({}, { get: (_, key) => (typeof key === 'string' ? (...args: unknown[]) => record([{ key, args }]) : undefined) }) as Z;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** zod hands out a shallow copy of a default, never the default object itself. */
function copyDefault(d: unknown): unknown {
  if (Array.isArray(d)) return [...d];
  return isPlainObject(d) ? { ...d } : d;
}

/** A field of an object shape: how to parse it and whether an absent key still gets a value. */
interface Field {
  readonly parse: Parse;
  readonly optional: boolean;
  readonly hasDefault: boolean;
}

function field(rec: unknown): Field {
  const last = isRecording(rec) ? rec[RECORDING].at(-1)?.key : undefined;
  return { parse: parser(rec), optional: last === 'optional' || last === 'default', hasDefault: last === 'default' };
}

function objectParser(shape: Record<string, unknown>, loose: boolean): Parse {
  const fields = Object.entries(shape).map(([k, v]) => [k, field(v)] as const);
  const known = new Set(Object.keys(shape));
  return (v) => {
    if (!isPlainObject(v)) return UNSURE;
    const out: Record<string, unknown> = {};
    for (const [k, f] of fields) {
      const present = Object.hasOwn(v, k);
      if (!present && f.optional && !f.hasDefault) continue;
      const r = f.parse(present ? v[k] : undefined);
      if (r === UNSURE) return UNSURE;
      out[k] = r;
    }
    for (const k of Object.keys(v)) {
      if (known.has(k)) continue;
      if (!loose) return UNSURE;
      out[k] = v[k];
    }
    return out;
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Each call the fast parse understands: given the parser so far, the parser after the call. */
const STEPS: Readonly<Record<string, (prev: Parse | undefined, args: readonly unknown[]) => Parse>> = {
  string: () => (v) => (isString(v) ? v : UNSURE),
  number: () => (v) => (isNumber(v) ? v : UNSURE),
  boolean: () => (v) => (typeof v === 'boolean' ? v : UNSURE),
  enum: (_, [values]) => (v) => (isString(v) && (values as readonly string[]).includes(v) ? v : UNSURE),
  literal: (_, [value]) => {
    const values: readonly unknown[] = Array.isArray(value) ? value : [value];
    return (v) => (values.includes(v) ? v : UNSURE);
  },
  // zod's URL check trims, normalises and parses; zod decides every URL given (a default needs none).
  url: () => () => UNSURE,
  strictObject: (_, [shape]) => objectParser(shape as Record<string, unknown>, false),
  looseObject: (_, [shape]) => objectParser(shape as Record<string, unknown>, true),
  array: (_, [element]) => {
    const el = parser(element);
    return (v) => {
      if (!Array.isArray(v)) return UNSURE;
      const out: unknown[] = [];
      for (const e of v) {
        const r = el(e);
        if (r === UNSURE) return UNSURE;
        out.push(r);
      }
      return out;
    };
  },
  record: (_, [keySchema, valueSchema]) => {
    const key = parser(keySchema);
    const value = parser(valueSchema);
    return (v) => {
      if (!isPlainObject(v)) return UNSURE;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const r = value(v[k]);
        if (key(k) !== k || r === UNSURE) return UNSURE;
        out[k] = r;
      }
      return out;
    };
  },
  union: (_, [options]) => anyOf(options),
  // The options' discriminators differ, so at most one accepts a value: the answer of a union.
  discriminatedUnion: (_, [, options]) => anyOf(options),
  // Checks: the value passes unchanged or zod decides.
  // A string's length or a number; anything else (an array, say) is zod's to decide.
  min: (prev, [n]) => check(prev, (v) => (isString(v) ? v.length >= (n as number) : isNumber(v) && v >= (n as number))),
  max: (prev, [n]) => check(prev, (v) => (isString(v) ? v.length <= (n as number) : isNumber(v) && v <= (n as number))),
  int: (prev) => check(prev, (v) => Number.isSafeInteger(v)),
  positive: (prev) => check(prev, (v) => (v as number) > 0),
  regex: (prev, [re]) => check(prev, (v) => new RegExp(re as RegExp).test(v as string)),
  refine: (prev, [fn]) => check(prev, (v) => Boolean((fn as (x: unknown) => unknown)(v))),
  transform: (prev, [fn]) => after(prev, (v) => (fn as (x: unknown) => unknown)(v)),
  // Wrappers for an absent value (zod's object parse passes undefined for an absent key).
  optional: (prev) => (v) => (v === undefined ? undefined : need(prev)(v)),
  default: (prev, [d]) => (v) => (v === undefined ? copyDefault(d) : need(prev)(v)),
};

/** The first option's answer that is sure. */
function anyOf(options: unknown): Parse {
  const each = (options as unknown[]).map(parser);
  return (v) => {
    for (const p of each) {
      const r = p(v);
      if (r !== UNSURE) return r;
    }
    return UNSURE;
  };
}

function need(p: Parse | undefined): Parse {
  if (!p) throw new Error('a schema recording must start with a z.* constructor');
  return p;
}

function after(prev: Parse | undefined, then: Parse): Parse {
  const p = need(prev);
  return (v) => {
    const r = p(v);
    return r === UNSURE ? r : then(r);
  };
}

function check(prev: Parse | undefined, ok: (v: unknown) => boolean): Parse {
  return after(prev, (v) => (ok(v) ? v : UNSURE));
}

/** The fast parse of a recording; throws on a call it does not know (then zod decides every input). */
function parser(rec: unknown): Parse {
  if (!isRecording(rec)) throw new Error('not a schema recording');
  let p: Parse | undefined;
  for (const { key, args } of rec[RECORDING]) {
    const step = Object.hasOwn(STEPS, key) ? STEPS[key] : undefined;
    if (!step) throw new Error(`no fast parse for .${key}()`);
    p = step(p, args);
  }
  return need(p);
}

/** Arguments with recordings (also inside arrays and plain objects, as shapes are) built on zod. */
function onZod(v: unknown): unknown {
  if (isRecording(v)) return replay(v);
  if (Array.isArray(v)) return v.map(onZod);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, onZod(x)]));
  return v;
}

function replay(rec: Recording): unknown {
  let target: unknown = zod;
  for (const { key, args } of rec[RECORDING]) {
    const method = (target as Record<string, (...a: unknown[]) => unknown>)[key];
    if (typeof method !== 'function') throw new Error(`zod has no .${key}()`);
    target = method.apply(target, args.map(onZod));
  }
  return target;
}

export interface Deferred<S extends zod.ZodType> {
  /** The parsed value, or UNSURE when the fast parse cannot vouch for the input. */
  fast(value: unknown): zod.output<S> | typeof UNSURE;
  /** The schema on zod, built on first call. */
  schema(): S;
  /** The fast parse when it is sure, else zod's answer. */
  safeParse(value: unknown): zod.ZodSafeParseResult<zod.output<S>>;
  /** As safeParse, but throws zod's error. */
  parse(value: unknown): zod.output<S>;
}

export function deferred<S extends zod.ZodType>(recording: S): Deferred<S> {
  let built: S | undefined;
  let fast: Parse;
  try {
    fast = parser(recording);
  } catch {
    fast = () => UNSURE;
  }
  // A schema built on zod already (no recording) is used as it is, zod deciding every input.
  const schema = (): S => (built ??= (isRecording(recording) ? replay(recording) : recording) as S);
  return {
    fast: (value) => fast(value) as zod.output<S> | typeof UNSURE,
    schema,
    safeParse(value) {
      const r = fast(value);
      return r === UNSURE ? schema().safeParse(value) : { success: true, data: r as zod.output<S> };
    },
    parse(value) {
      const r = fast(value);
      return r === UNSURE ? schema().parse(value) : (r as zod.output<S>);
    },
  };
}
