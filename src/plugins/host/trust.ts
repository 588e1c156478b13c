// Who may change a plugin file: only root or keyway's own user, and nobody through a parent
// directory (sshd's StrictModes rule). A file someone else can rewrite or replace can change what
// runs between `register` and a spawn, whatever hash was pinned; checked at register and every spawn.
import { lstatSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import { euid, parentDirProblem } from '../../core/safe-dir.js';

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

/** Refuses a file (by its stat) that a user other than root or keyway could rewrite. */
export function checkFileTrust(path: string, st: Stats): void {
  if (st.uid !== 0 && st.uid !== euid()) {
    throw new KeywayError('permission_denied', `plugin executable ${path} is owned by uid ${st.uid}; it must be owned by root or keyway's user (chown root ${path})`);
  }
  if ((st.mode & 0o022) !== 0) {
    throw new KeywayError('permission_denied', `plugin executable ${path} is writable by group or others (mode ${octal(st.mode)}); run chmod go-w ${path}`);
  }
}

/**
 * Refuses when any directory from `realPath`'s parent up to `/` breaks the parent-directory rule of
 * src/core/safe-dir.ts (owned by another user, or group/world-writable without the sticky bit):
 * whoever can write there can swap the file. `realPath` must have its symlinks resolved.
 */
export function checkParentDirs(realPath: string): void {
  let dir = dirname(realPath);
  for (;;) {
    let st: Stats;
    try {
      st = lstatSync(dir);
    } catch (e) {
      throw toKeywayError(e, `plugin directory ${dir}`);
    }
    switch (parentDirProblem(st)) {
      case undefined:
        break;
      case 'not-directory':
        throw new KeywayError('failed_precondition', `${dir} (a parent of plugin ${realPath}) is not a directory`);
      case 'owner':
        throw new KeywayError('permission_denied', `plugin ${realPath}: its parent directory ${dir} is owned by uid ${st.uid}, who could replace the plugin; it must be owned by root or keyway's user`);
      case 'writable':
        throw new KeywayError('permission_denied', `plugin ${realPath}: its parent directory ${dir} is writable by group or others (mode ${octal(st.mode)}), who could replace the plugin; run chmod go-w ${dir}`);
    }
    if (dir === '/') return;
    dir = dirname(dir);
  }
}
