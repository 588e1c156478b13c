// Load against the real `keyway serve` (Docker volume frontend on a test socket): 10,000 named
// secrets in the store, then 500 concurrent Mount/Unmount pairs over the volume API, half
// single-file and half directory volumes. Afterwards nothing may be left: no mounts under the
// runtime dir beyond the mount root, no mount-set directories, no mount_sets / volume_mounts
// records, the daemon's fd count back to its baseline, no child processes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDbFile } from '../../src/store/db.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { openContext } from '../../src/daemon/context.js';
import { readMountInfo } from '../../src/delivery/mountinfo.js';
import { call } from '../frontends/docker-volume/fixtures.js';
import { keywayPlugin, type KeywayPlugin } from '../frontends/docker-volume/keyway-serve.js';
import { rootSkipReason } from '../helpers/tools.js';

const skip = rootSkipReason('keyway serve mounts a tmpfs and needs root');
if (skip) console.error(`load: ${skip}`);

const SECRETS = 10_000;
const PAIRS = 500;
const DIR_WIDTH = 3;
let kw: KeywayPlugin;

/** Mount points at or under the instance's runtime dir. */
function mountsUnderRuntime(): string[] {
  const root = kw.instance.runtimeDir;
  return readMountInfo()
    .map((e) => e.mountPoint)
    .filter((p) => p === root || p.startsWith(`${root}/`));
}

function liveSets(): string[] {
  const root = join(kw.instance.runtimeDir, 'mounts');
  return existsSync(root) ? readdirSync(root).filter((e) => !e.startsWith('.')) : [];
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Direct children of `pid`, read from /proc/PID/stat (field 4 is the parent pid). */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return kids;
}

function records(): { sets: number; mounts: number } {
  const db = openDbFile(join(kw.instance.stateDir, 'keyway.db'));
  try {
    const n = (table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { sets: n('mount_sets'), mounts: n('volume_mounts') };
  } finally {
    db.close();
  }
}

const secretName = (n: number): string => `load-${n}`;
const valueOf = (n: number): string => `value-of-${n}`;

before(async () => {
  if (skip) return;
  kw = keywayPlugin();
  // Fill the store in this process through the same API the CLI uses, before serve starts.
  const ctx = openContext({ config: kw.instance.configPath, stateDir: kw.instance.stateDir, runtimeDir: kw.instance.runtimeDir });
  try {
    const signal = new AbortController().signal;
    for (let n = 0; n < SECRETS; n++) await ctx.named.create({ name: secretName(n), value: SecretValue.fromString(valueOf(n)), frontend: 'test' }, signal);
  } finally {
    await ctx.close();
  }
  await kw.start();
});

after(async () => {
  if (skip) return;
  await kw?.cleanup();
});

test('500 concurrent Mount/Unmount pairs over 10,000 secrets leak no mount, set, record, fd or process', { skip }, async () => {
  const s = kw.socket;
  const pid = kw.pid();
  assert.ok(pid, 'serve is running');
  // Volumes: the first half are implicit single-file volumes of a named secret, the second half
  // directory volumes of DIR_WIDTH secrets each; all spread over the whole store.
  const vols = Array.from({ length: PAIRS }, (_, k) => {
    if (k % 2 === 0) return { name: secretName(k * 19), opts: {}, files: [secretName(k * 19)] };
    const files = Array.from({ length: DIR_WIDTH }, (_, j) => secretName((k * 7919 + j * 1009) % SECRETS));
    return { name: `dir-${k}`, opts: { secrets: files.join(','), mode: '0440' }, files };
  });
  for (const v of vols) {
    const r = await call(s, '/VolumeDriver.Create', { Name: v.name, Opts: v.opts });
    assert.equal(r.status, 200, `${v.name}: ${JSON.stringify(r.body)}`);
  }
  // Warm-up, so lazily opened fds (providers, sqlite, the mount root) are in the baseline.
  const warm = await call(s, '/VolumeDriver.Mount', { Name: vols[1]?.name, ID: 'w'.repeat(64) });
  assert.equal(warm.status, 200, JSON.stringify(warm.body));
  assert.equal((await call(s, '/VolumeDriver.Unmount', { Name: vols[1]?.name, ID: 'w'.repeat(64) })).status, 200);
  const baseFds = fdCount(pid);
  const baseMounts = mountsUnderRuntime();

  let wrong = 0;
  const results = await Promise.all(
    vols.map(async (v, k) => {
      const id = k.toString(16).padStart(64, '0');
      const m = await call(s, '/VolumeDriver.Mount', { Name: v.name, ID: id });
      if (m.status !== 200) return `mount ${v.name}: ${JSON.stringify(m.body)}`;
      const mp = String(m.body.Mountpoint);
      // Check the content of one file: a mixed-up set would show up here.
      const file = v.files.length === 1 && !v.name.startsWith('dir-') ? mp : join(mp, v.files[0] ?? '');
      const want = valueOf(Number((v.files[0] ?? '').slice('load-'.length)));
      if (readFileSync(file, 'utf8') !== want) wrong++;
      const u = await call(s, '/VolumeDriver.Unmount', { Name: v.name, ID: id });
      return u.status === 200 ? undefined : `unmount ${v.name}: ${JSON.stringify(u.body)}`;
    }),
  );
  assert.deepEqual(results.filter(Boolean), [], kw.logs().slice(-3000));
  assert.equal(wrong, 0, 'every mount showed its own secret');

  assert.deepEqual(liveSets(), [], 'no mount-set directory left');
  assert.deepEqual(mountsUnderRuntime(), baseMounts, 'no mount left under the runtime dir beyond the root');
  assert.ok(baseMounts.length <= 1, `only the mount root is mounted: ${baseMounts.join(', ')}`);
  assert.deepEqual(records(), { sets: 0, mounts: 0 }, 'no mount_sets / volume_mounts records left');
  // Sockets of finished requests may take a moment to close.
  const end = Date.now() + 10_000;
  while (fdCount(pid) > baseFds + 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.ok(fdCount(pid) <= baseFds + 3, `fds: ${fdCount(pid)} now, ${baseFds} before`);
  assert.deepEqual(childrenOf(pid), [], 'serve has no child processes');
  assert.equal((await call(s, '/VolumeDriver.List', {})).status, 200, 'still serving');
});
