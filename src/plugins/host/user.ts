// The unprivileged user a plugin runs as: `nobody` unless the entry says otherwise ("NAME",
// "UID" or "UID:GID"). Never root: a plugin must not keep root's access to files.
import { readFileSync } from 'node:fs';
import { KeywayError } from '../../core/errors.js';

export const DEFAULT_PLUGIN_USER = 'nobody';

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

const ID = /^(0|[1-9][0-9]{0,9})$/;

function passwdEntry(name: string): RunAs | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && f[3] !== undefined && ID.test(f[2]) && ID.test(f[3])) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** Checks the syntax of a `user` setting (at register and config load). */
export function validateUserSpec(spec: string, where: string): void {
  if (!/^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}(:[0-9]{1,10})?)$/.test(spec)) {
    throw new KeywayError('invalid_argument', `${where}: user ${JSON.stringify(spec.slice(0, 40))} must be a user name, UID or UID:GID`);
  }
}

/** Resolves a `user` setting to ids; refuses root and unknown names. */
export function resolveRunAs(spec: string | undefined, where: string): RunAs {
  const s = spec ?? DEFAULT_PLUGIN_USER;
  validateUserSpec(s, where);
  let out: RunAs | undefined;
  const m = /^([0-9]+)(?::([0-9]+))?$/.exec(s);
  if (m) {
    const uid = Number(m[1]);
    out = { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
  } else {
    out = passwdEntry(s) ?? (s === 'nobody' ? { uid: 65534, gid: 65534 } : undefined);
  }
  if (!out) throw new KeywayError('invalid_argument', `${where}: no user named ${JSON.stringify(s)} in /etc/passwd`);
  if (out.uid === 0 || out.gid === 0) throw new KeywayError('invalid_argument', `${where}: plugins never run as root (user ${JSON.stringify(s)}); choose an unprivileged user`);
  if (out.uid > 0xfffffffe || out.gid > 0xfffffffe) throw new KeywayError('invalid_argument', `${where}: user ${JSON.stringify(s)} is out of range`);
  return out;
}
