// `docker run` with a keyway volume, side by side with (a) the same run on a `local` volume holding
// the same file and (b) a minimal volume plugin that returns a pre-written file without fetching,
// writing or wiping anything (the floor of any volume plugin). Private dockerd, alternating runs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPair, Skip, type Row, type Scenario } from './lib.js';
import { dockerSkipReason, startDockerd, type Dockerd } from '../test/helpers/dockerd.js';
import { imageSkipReason, importDockerImage } from '../test/helpers/images.js';
import { keywayPlugin, PLUGIN_DIR } from '../test/frontends/docker-volume/keyway-serve.js';

const VALUE = randomBytes(64);

// A volume plugin that does nothing but hand out one existing file.
const MINIMAL_PLUGIN = `
const [sock, file] = process.argv.slice(1);
const answers = {
  '/Plugin.Activate': { Implements: ['VolumeDriver'] },
  '/VolumeDriver.Capabilities': { Capabilities: { Scope: 'local' } },
  '/VolumeDriver.List': { Volumes: [] },
};
require('node:http').createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const name = (JSON.parse(body || '{}').Name) || '';
    const a = answers[req.url] ?? (req.url === '/VolumeDriver.Get' ? { Volume: { Name: name, Mountpoint: '' } } : req.url === '/VolumeDriver.Mount' || req.url === '/VolumeDriver.Path' ? { Mountpoint: file } : {});
    const text = JSON.stringify(a);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
}).listen(sock);`;

async function run(d: Dockerd, args: readonly string[]): Promise<void> {
  const r = await d.dockerAsync(args);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
}

export const dockerRun: Scenario = {
  name: 'docker-run',
  async run(): Promise<Row[]> {
    const why = dockerSkipReason() || imageSkipReason();
    if (why) throw new Skip(why);
    const d = await startDockerd('kw-bench-dockerd-');
    const kw = keywayPlugin();
    const dir = mkdtempSync(join(tmpdir(), 'kw-bench-min-'));
    const minName = `kwbench-min-${randomBytes(3).toString('hex')}`;
    const minSock = join(PLUGIN_DIR, `${minName}.sock`);
    const minimal = spawn(process.execPath, ['-e', MINIMAL_PLUGIN, minSock, join(dir, 'db')], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'db'), VALUE, { mode: 0o400 });
      await kw.start();
      const img = importDockerImage(d.env);
      if (kw.instance.run(['secret', 'create', 'db', '-'], { input: VALUE }).status !== 0) throw new Error('secret create failed');
      await run(d, ['volume', 'create', 'kwlocal']);
      await run(d, ['run', '--rm', '--network', 'none', '-v', 'kwlocal:/v', img, 'sh', '-c', `printf '%s' '${VALUE.toString('hex')}' > /v/db`]);
      for (let i = 0; i < 200 && !existsSync(minSock); i++) await new Promise((r) => setTimeout(r, 25));
      const base = ['run', '--rm', '--network', 'none'];
      const keyway = (): Promise<void> => run(d, [...base, '--volume-driver', kw.name, '-v', 'db:/run/secrets/db', img, 'cat', '/run/secrets/db']);
      const rows: Row[] = [];
      rows.push(
        await runPair({
          name: 'docker run with a secret volume',
          keywayLabel: 'keyway volume (fetch, tmpfs set, wipe)',
          baselineLabel: 'local volume',
          warmup: 2,
          reps: 15,
          target: 1.5,
          keyway,
          baseline: () => run(d, [...base, '-v', 'kwlocal:/run/secrets', img, 'cat', '/run/secrets/db']),
        }),
      );
      rows.push(
        await runPair({
          name: 'docker run with a plugin volume',
          keywayLabel: 'keyway volume (fetch, tmpfs set, wipe)',
          baselineLabel: 'minimal plugin, pre-written file',
          warmup: 2,
          reps: 15,
          target: 1.2,
          keyway,
          baseline: () => run(d, [...base, '--volume-driver', minName, '-v', 'mindb:/run/secrets/db', img, 'cat', '/run/secrets/db']),
        }),
      );
      return rows;
    } finally {
      minimal.kill('SIGKILL');
      rmSync(minSock, { force: true });
      await d.stop();
      await kw.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
