import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountAt, mountOf, parseMountInfo, hasOption } from '../../src/delivery/mountinfo.js';
import { classifyMount } from '../../src/delivery/protection.js';

const SAMPLE = [
  '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
  '30 22 0:25 / /run rw,nosuid,nodev - tmpfs tmpfs rw,mode=755',
  '41 30 0:39 / /run/key\\040way/mounts rw,nosuid,nodev,noexec,relatime - tmpfs keyway-tmpfs rw,size=65536k,mode=700,noswap',
  '42 30 0:40 / /run/r rw,relatime shared:5 - ramfs keyway-ramfs rw,mode=700',
].join('\n');

void test('parseMountInfo reads mount points, types and both option lists, unescaping octal escapes', () => {
  const e = parseMountInfo(SAMPLE);
  assert.equal(e.length, 4);
  assert.equal(e[2]?.mountPoint, '/run/key way/mounts');
  assert.equal(e[2]?.fsType, 'tmpfs');
  assert.ok(e[2] && hasOption(e[2], 'noswap') && hasOption(e[2], 'noexec'));
  assert.equal(e[3]?.fsType, 'ramfs');
});

void test('mountOf picks the longest containing mount point and mountAt only exact ones', () => {
  const e = parseMountInfo(SAMPLE);
  assert.equal(mountOf('/run/key way/mounts/abc/file', e)?.fsType, 'tmpfs');
  assert.equal(mountOf('/run/other', e)?.mountPoint, '/run');
  assert.equal(mountOf('/var/lib', e)?.mountPoint, '/');
  assert.equal(mountAt('/run/key way', e), undefined);
});

void test('classifyMount calls noswap tmpfs and ramfs secure, plain tmpfs weak and disks insecure', () => {
  const [disk, run, noswap, ramfs] = parseMountInfo(SAMPLE);
  assert.equal(classifyMount(noswap!).protection, 'secure');
  assert.equal(classifyMount(ramfs!).protection, 'secure');
  assert.equal(classifyMount(run!).protection, 'weak');
  assert.equal(classifyMount(disk!).protection, 'insecure');
});
