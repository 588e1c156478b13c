import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { makeRootlessUser, rootlessSkipReason, type RootlessUser } from '../../helpers/rootless.js';
import { scanFor } from '../../helpers/cli.js';
import { DB_FILE } from '../../../src/store/db.js';

const SKIP = rootlessSkipReason() ?? false;
let user: RootlessUser;

before(() => {
  if (SKIP === false) user = makeRootlessUser();
});
after(() => user?.cleanup());

/** The mount holding `path` in a mountinfo text (longest mount point prefix). */
function mountOf(mountinfo: string, path: string): { fsType: string; options: string[] } | undefined {
  let best: { mp: string; fsType: string; options: string[] } | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    const mp = f[4];
    if (sep < 0 || mp === undefined) continue;
    if ((path === mp || path.startsWith(mp === '/' ? '/' : mp + '/')) && (!best || mp.length >= best.mp.length)) {
      best = { mp, fsType: f[sep + 1] ?? '', options: [...(f[5] ?? '').split(','), ...(f[sep + 3] ?? '').split(',')] };
    }
  }
  return best;
}

/** How many mount-set records the user's store holds, read as the user (root must not touch its SQLite files). */
function records(u: RootlessUser): number {
  // node:sqlite directly: dist/ is a bundle with no store module of its own to import.
  const script = `import { DatabaseSync } from 'node:sqlite'; import { join } from 'node:path';
const db = new DatabaseSync(join(process.argv[1], ${JSON.stringify(DB_FILE)}), { readOnly: true }); process.stdout.write(String(db.prepare('SELECT count(*) AS n FROM mount_sets').get().n)); db.close();`;
  const r = u.run(process.execPath, ['--input-type=module', '-e', script, u.stateDir]);
  assert.equal(r.status, 0, r.stderr.toString());
  return Number(r.stdout.toString());
}

/** Processes of the user whose mount namespace still holds a keyway ramfs. */
function ramfsHolders(u: RootlessUser): number[] {
  return u.pids().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(' keyway-ramfs ');
    } catch {
      return false;
    }
  });
}

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('keyway run as a limited user delivers exact binary bytes 0400 on a private ramfs, the command keeps the real uid, nothing remains', { skip: SKIP }, () => {
  const value = Buffer.concat([randomBytes(64), Buffer.from([0, 255, 10, 13, 0]), Buffer.from(`CANARY-${randomBytes(8).toString('hex')}`)]);
  const created = user.keyway(['secret', 'create', 'blob', '-'], { input: value });
  assert.equal(created.status, 0, created.stderr.toString());
  const script = 'd=$CREDENTIALS_DIRECTORY; echo "$d"; id -u; id -g; stat -L -c "%a %u %g" "$d/blob"; sha256sum < "$d/blob"; grep CapEff /proc/self/status; echo ---; cat /proc/self/mountinfo';
  const r = user.keyway(['run', '--secret', 'blob', '--', 'sh', '-c', script]);
  assert.equal(r.status, 0, r.stderr.toString());
  const [head = '', mountinfo = ''] = r.stdout.toString().split('---\n');
  const [dir = '', uid, gid, stat, sha, caps] = head.trim().split('\n');
  assert.equal(uid, String(user.uid), 'the command runs as the user, not as root-in-namespace');
  assert.equal(gid, String(user.gid));
  assert.equal(stat, `400 ${user.uid} ${user.gid}`, 'file mode 0400, owned by the user');
  assert.equal(sha?.split(' ')[0], createHash('sha256').update(value).digest('hex'), 'exact bytes');
  assert.match(caps ?? '', /CapEff:\s+0+$/, 'the command holds no capability, even in its namespace');
  assert.ok(dir.startsWith(join(user.runtimeDir, 'mounts') + '/'), dir);
  const m = mountOf(mountinfo, dir);
  assert.ok(m !== undefined && (m.fsType === 'ramfs' || (m.fsType === 'tmpfs' && m.options.includes('noswap'))), JSON.stringify(m));
  // The mount lived only in the run's namespace, which ended with it.
  assert.equal(existsSync(dir), false);
  assert.deepEqual(readdirSync(join(user.runtimeDir, 'mounts')), []);
  assert.equal(records(user), 0, 'the mount set record is gone');
  assert.deepEqual(ramfsHolders(user), [], 'no process holds the ramfs any more');
  assert.deepEqual(scanFor([user.home, user.xdgRuntimeDir, '/tmp', '/var/tmp'], value.subarray(-24)), [], 'the value never reached a disk');
});

test('after keyway run is SIGKILLed as a limited user, its namespace dies with the command and the next start sweeps the record', { skip: SKIP }, async () => {
  assert.equal(user.keyway(['secret', 'create', 'k', '-'], { input: 'orphan-bytes' }).status, 0);
  const ready = join(user.home, 'ready');
  const kw = user.spawnKeyway(['run', '--secret', 'k', '--', 'sh', '-c', `echo $$ > ${ready}; exec sleep 600`], { stdio: 'ignore' });
  await waitFor(() => existsSync(ready) && readFileSync(ready, 'utf8').trim().length > 0, 'the command to start');
  const childPid = Number(readFileSync(ready, 'utf8').trim());
  assert.ok(ramfsHolders(user).includes(childPid), 'the command sees the private ramfs');
  kw.kill('SIGKILL');
  await once(kw, 'exit');
  // The inner keyway dies with the outer one (parent-death signal); the command lives on alone.
  await waitFor(() => ramfsHolders(user).every((p) => p === childPid), 'the inner keyway to die');
  assert.equal(records(user), 1, 'a SIGKILLed keyway leaves its record');
  process.kill(childPid, 'SIGKILL');
  await waitFor(() => ramfsHolders(user).length === 0, 'the namespace to go away');
  const next = user.keyway(['run', '--secret', 'k', '--', 'true']);
  assert.equal(next.status, 0, next.stderr.toString());
  assert.equal(records(user), 0, 'the next start swept the orphan record');
  assert.deepEqual(readdirSync(join(user.runtimeDir, 'mounts')), []);
});

test('keyway run as a limited user without user namespaces names the kernel setting, and --allow-weak opts in to the runtime dir', { skip: SKIP }, () => {
  assert.equal(user.keyway(['secret', 'create', 'w', '-'], { input: 'weak' }).status, 0);
  // bubblewrap's --disable-userns makes the kernel refuse further user namespaces inside it.
  const jail = ['--unshare-user', '--disable-userns', '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--'];
  const refused = user.run('bwrap', [...jail, process.execPath, user.cli, 'run', '--secret', 'w', '--', 'true']);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr.toString(), /user\.max_user_namespaces=\d+/, 'names the setting with its current value');
  assert.match(refused.stderr.toString(), /--allow-weak/);
  // The opt-in: the swappable tmpfs of /run/user/<uid>, in the host's mount namespace.
  const weak = user.run('bwrap', [...jail, process.execPath, user.cli, 'run', '--allow-weak', '--secret', 'w', '--', 'sh', '-c', 'cat "$CREDENTIALS_DIRECTORY/w"; echo; grep " /run/user/" /proc/self/mountinfo']);
  assert.equal(weak.status, 0, weak.stderr.toString());
  const [content, mount = ''] = weak.stdout.toString().split('\n');
  assert.equal(content, 'weak');
  assert.match(mount, / - tmpfs /);
  assert.doesNotMatch(mount, /noswap/);
});

test('keyway run as a limited user writes nothing to its unbounded ramfs past limits.max_secret_bytes per secret', { skip: SKIP }, () => {
  assert.equal(user.keyway(['secret', 'create', 'big', '-'], { input: Buffer.alloc(4096, 0x61) }).status, 0);
  const small = join(user.home, 'small.toml');
  writeFileSync(small, '[limits]\nmax_secret_bytes = 1024\n');
  chownSync(small, user.uid, user.gid);
  const r = user.keyway(['--config', small, 'run', '--secret', 'big', '--', 'true']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /too_large: .*limits\.max_secret_bytes/);
  assert.equal(records(user), 0, 'no mount set was created');
});
