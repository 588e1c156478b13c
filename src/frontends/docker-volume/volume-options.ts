// `-o` options of an explicit volume (docs/docker.md):
//   ref=REF | secret=NAME | secrets=A,B | template=FILE   (exactly one: what the volume holds)
//   mode=0400, uid=N, gid=N               (how its files are delivered)
// Unknown keys are errors naming the key, so a typo never silently changes delivery.
import { KeywayError } from '../../core/errors.js';
import { validateFileName, validateSecretName } from '../../core/names.js';
import { describeReference, parseReference } from '../../core/reference.js';
import { checkTemplateName } from '../../templates/files.js';
import { templateTarget } from '../../templates/resolver.js';
import { renderedName } from '../../templates/run-spec.js';

export const VOLUME_OPTION_KEYS = ['ref', 'secret', 'secrets', 'template', 'mode', 'uid', 'gid', 'timeout'] as const;

export type VolumeSource =
  | { readonly kind: 'ref'; readonly ref: string }
  | { readonly kind: 'secret'; readonly name: string }
  | { readonly kind: 'secrets'; readonly names: readonly string[] }
  /** A file in the templates dir (config templates.dir), rendered on mount and on rotation. */
  | { readonly kind: 'template'; readonly file: string };

export interface VolumeSpec {
  readonly source: VolumeSource;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) throw bad(`option mode=${JSON.stringify(text)} is not an octal file mode such as 0400`);
  return parseInt(text, 8);
}

function parseId(key: string, text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xfffffffe) throw bad(`option ${key}=${JSON.stringify(text)} is not a numeric id (0-4294967294)`);
  return Number(text);
}

/** Parses Docker's Opts map (null or absent means none). `volume` names the implicit file. */
export function parseVolumeOptions(volume: string, opts: unknown): VolumeSpec | undefined {
  if (opts === null || opts === undefined) return undefined;
  if (typeof opts !== 'object' || Array.isArray(opts)) throw bad('Opts must be an object of strings');
  const entries = Object.entries(opts as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  const o: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!(VOLUME_OPTION_KEYS as readonly string[]).includes(k)) {
      throw bad(`unknown volume option ${JSON.stringify(k)} (known: ${VOLUME_OPTION_KEYS.join(', ')})`);
    }
    if (typeof v !== 'string') throw bad(`volume option ${k} must be a string`);
    o[k] = v;
  }
  // Podman's per-volume plugin timeout (seconds) is Podman's business; accept it, check its form.
  if (o.timeout !== undefined && !/^\d{1,6}$/.test(o.timeout)) throw bad(`option timeout=${JSON.stringify(o.timeout)} is not a number of seconds`);
  const given = (['ref', 'secret', 'secrets', 'template'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) throw bad(`volume options ${given.join(' and ')} exclude each other; give one`);
  let source: VolumeSource;
  if (o.ref !== undefined) {
    parseReference(o.ref);
    source = { kind: 'ref', ref: o.ref };
  } else if (o.secret !== undefined) {
    source = { kind: 'secret', name: validateSecretName(o.secret, 'option secret') };
  } else if (o.template !== undefined) {
    source = { kind: 'template', file: checkTemplateName(o.template, 'option template') };
  } else if (o.secrets !== undefined) {
    const names = o.secrets.split(',').map((s) => s.trim());
    const seen = new Set<string>();
    for (const n of names) {
      validateSecretName(n, 'a name in option secrets');
      validateFileName(n, 'a name in option secrets');
      if (seen.has(n)) throw bad(`option secrets names ${JSON.stringify(n)} twice`);
      seen.add(n);
    }
    source = { kind: 'secrets', names };
  } else {
    // Only delivery options: the volume holds the named secret of the same name.
    source = { kind: 'secret', name: volume };
  }
  return {
    source,
    ...(o.mode !== undefined ? { mode: parseMode(o.mode) } : {}),
    ...(o.uid !== undefined ? { uid: parseId('uid', o.uid) } : {}),
    ...(o.gid !== undefined ? { gid: parseId('gid', o.gid) } : {}),
  };
}

/** The spec of a named secret used as a volume without options. */
export function implicitSpec(name: string): VolumeSpec {
  return { source: { kind: 'secret', name } };
}

/** What a volume delivers: one file (name → target) or a directory of several. */
export function volumeFiles(volume: string, spec: VolumeSpec): { readonly single: boolean; readonly files: readonly { name: string; target: string }[] } {
  switch (spec.source.kind) {
    case 'ref':
      return { single: true, files: [{ name: volume, target: spec.source.ref }] };
    case 'secret':
      return { single: true, files: [{ name: spec.source.name, target: spec.source.name }] };
    case 'secrets':
      return { single: false, files: spec.source.names.map((n) => ({ name: n, target: n })) };
    case 'template':
      // A directory holding the one rendered file: a bind-mounted single file would pin the first
      // render's inode, and a live template volume must see re-renders.
      return { single: false, files: [{ name: renderedName(spec.source.file), target: templateTarget(spec.source.file) }] };
  }
}

/** A log- and inspect-safe summary (references reduced to provider and path). */
export function describeSource(source: VolumeSource): Record<string, string> {
  switch (source.kind) {
    case 'ref':
      return { Kind: 'ref', Source: describeReference(parseReference(source.ref)) };
    case 'secret':
      return { Kind: 'secret', Source: source.name };
    case 'secrets':
      return { Kind: 'directory', Source: source.names.join(',') };
    case 'template':
      return { Kind: 'template', Source: source.file };
  }
}
