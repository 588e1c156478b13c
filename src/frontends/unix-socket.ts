// Listening on a unix socket safely: the parent must be a real directory, a stale socket from a
// dead process is replaced, a live one (another keyway) is refused, and anything else at the path
// (a file, a symlink) is left alone and refused. Mode is set before anyone can connect (umask).
import { lstatSync, mkdirSync, unlinkSync, chmodSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { KeywayError } from '../core/errors.js';

function alive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function prepareSocketPath(path: string, what: string): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const d = lstatSync(dir);
  if (d.isSymbolicLink() || !d.isDirectory()) throw new KeywayError('failed_precondition', `${what}: socket directory ${dir} is not a directory`);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new KeywayError('failed_precondition', `${what}: ${path} exists and is not a socket; remove it by hand`);
  if (await alive(path)) throw new KeywayError('already_exists', `${what}: another server is listening on ${path}`);
  unlinkSync(path);
}

/** Listens with the socket created under umask so it never exists with a looser mode. */
export async function listenUnix(server: Server, path: string, mode: number, what: string): Promise<void> {
  await prepareSocketPath(path, what);
  const old = process.umask(0o777 & ~mode);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, mode);
}

/** Closes the server (waiting for in-flight requests) and removes its socket file. */
export async function closeUnix(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // already gone
  }
}
