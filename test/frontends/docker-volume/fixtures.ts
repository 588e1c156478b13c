// In-test pieces for the protocol tests: a backend that keeps secrets in a Map and writes sets
// into a temp dir, a catalog over that Map, a real SQLite store, and a tiny plugin HTTP client.
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { resolveEach } from '../../../src/core/all-or-nothing.js';
import { KeywayError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { VolumesRepo } from '../../../src/store/volumes.js';
import type { DeliveredSet, VolumeBackend } from '../../../src/frontends/docker-volume/backend.js';
import { DockerPlugin } from '../../../src/frontends/docker-volume/plugin.js';

export interface FakeWorld {
  readonly dir: string;
  readonly setsDir: string;
  readonly secrets: Map<string, { bytes: Buffer; createdAt: string }>;
  readonly refs: Map<string, Buffer>;
  readonly db: Db;
  readonly repo: VolumesRepo;
  /** Set ids released so far. */
  readonly released: string[];
  backend: VolumeBackend;
  plugin(socket?: string): DockerPlugin;
}

export function fakeWorld(t: TestContext): FakeWorld {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-dv-'));
  const setsDir = join(dir, 'sets');
  mkdirSync(setsDir);
  const db = openDb(join(dir, 'state'));
  const secrets = new Map<string, { bytes: Buffer; createdAt: string }>();
  const refs = new Map<string, Buffer>();
  const released: string[] = [];
  let n = 0;
  const plugins: DockerPlugin[] = [];
  t.after(async () => {
    for (const p of plugins) await p.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const lookup = (target: string): Buffer => {
    if (target === 'ref+broken://x') throw new KeywayError('unavailable', 'provider "broken" is unreachable');
    const b = target.startsWith('ref+') ? refs.get(target) : secrets.get(target)?.bytes;
    if (!b) throw new KeywayError('not_found', `no secret ${JSON.stringify(target)}`);
    return b;
  };
  const backend: VolumeBackend = {
    resolve: (target) => new Promise((r) => setTimeout(r, target === 'slow' ? 300 : 0)).then(() => ({ value: SecretValue.copyOf(lookup(target)), source: target.startsWith('ref+') ? 'ref' : `secret ${target}`, provider: 'fake' })),
    version: (target) => Promise.resolve(lookup(target).toString('hex')),
    versionOf: (r) => r.value.expose().toString('hex'),
    resolveMany: (targets, ctx) => resolveEach(targets, (t, signal) => backend.resolve(t, { ...ctx, signal }), ctx.signal),
    createSet: (_consumer, files) => {
      const id = `set${++n}`;
      mkdirSync(join(setsDir, id));
      const set = fakeSet(id);
      void set.update(files);
      return Promise.resolve(set);
    },
    adoptSet: (id) => (readdirSync(setsDir).includes(id) ? fakeSet(id) : undefined),
  };
  /** A plain directory of plain files standing in for a mount set. */
  const fakeSet = (id: string): DeliveredSet => {
    const setDir = join(setsDir, id);
    let specs: { name: string; mode: number; uid: number; gid: number }[] = [];
    let gone = false;
    return {
      id,
      dir: setDir,
      get files() {
        return specs;
      },
      get released() {
        return gone;
      },
      filePath: (name) => join(setDir, name),
      read: (name) => SecretValue.copyOf(readFileSync(join(setDir, name))),
      update: (fs) => {
        for (const f of fs) {
          writeFileSync(join(setDir, f.name), f.bytes.expose());
          chmodSync(join(setDir, f.name), f.mode ?? 0o400);
        }
        specs = fs.map((f) => ({ name: f.name, mode: f.mode ?? 0o400, uid: f.uid ?? 0, gid: f.gid ?? 0 }));
        return Promise.resolve();
      },
      release: () => {
        if (gone) return;
        gone = true;
        rmSync(setDir, { recursive: true, force: true });
        released.push(id);
      },
    };
  };
  const repo = new VolumesRepo(db);
  const world: FakeWorld = {
    dir,
    setsDir,
    secrets,
    refs,
    db,
    repo,
    released,
    backend,
    plugin(socket = join(dir, `plugin${plugins.length}.sock`)) {
      const p = new DockerPlugin({
        socket,
        logger: silentLogger(),
        repo,
        catalog: { createdAt: (name) => secrets.get(name)?.createdAt, names: () => [...secrets.keys()] },
        openBackend: () => Promise.resolve(world.backend),
      });
      plugins.push(p);
      return p;
    },
  };
  return world;
}

export interface PluginReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Record<string, unknown>;
}

/** POSTs like Docker does: no Content-Type, Docker's Accept header, Host plugin.moby.localhost. */
export function call(socket: string, path: string, body?: unknown, headers: Record<string, string> = { accept: 'application/vnd.docker.plugins.v1.2+json' }): Promise<PluginReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ socketPath: socket, path, method: 'POST', agent: false, headers: { host: 'plugin.moby.localhost', ...headers, 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
