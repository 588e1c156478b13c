// Broker scenarios: cached resolve over the admin API vs a bare HTTP echo on a unix socket (the
// transport's floor); cached resolve in-process vs copying the bytes (the floor of handing out a
// private copy); request coalescing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPair, type Row, type Scenario } from './lib.js';
import { closeAgents, instance, post } from './helpers.js';
import { silentLogger } from '../src/core/logger.js';
import { SecretValue } from '../src/core/secret-value.js';
import type { Provider } from '../src/core/provider.js';
import { openDb } from '../src/store/db.js';
import { SecretsRepo } from '../src/store/secrets.js';
import { AuditLog } from '../src/store/audit.js';
import { ProviderRegistry } from '../src/broker/registry.js';
import { Broker } from '../src/broker/broker.js';

const VALUE = Buffer.alloc(32, 0x61);

const ECHO_SERVER = `
const [sock, b64] = process.argv.slice(1);
const value = Buffer.from(b64, 'base64');
require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': value.length }).end(value));
}).listen(sock);`;

export const resolveApi: Scenario = {
  name: 'resolve-api',
  async run(): Promise<Row[]> {
    const k = instance();
    const echoSock = join(k.dir, 'echo.sock');
    // The echo server runs in its own process, like keyway, so both pay the same process hop.
    const echo = spawn(process.execPath, ['-e', ECHO_SERVER, echoSock, VALUE.toString('base64')], { stdio: 'ignore' });
    try {
      k.cli(['secret', 'create', 'db', '-'], VALUE);
      await k.serve();
      for (let i = 0; i < 200 && !existsSync(echoSock); i++) await new Promise((r) => setTimeout(r, 25));
      const body = JSON.stringify({ target: 'db' });
      const row = await runPair({
        name: 'cached resolve over admin API',
        keywayLabel: 'POST /v1/resolve (cached)',
        baselineLabel: 'bare HTTP echo, unix socket',
        warmup: 200,
        reps: 2000,
        target: 3,
        keyway: async () => void (await post(k.adminSocket, '/v1/resolve', body)),
        baseline: async () => void (await post(echoSock, '/', body)),
      });
      return [row];
    } finally {
      closeAgents();
      echo.kill('SIGKILL');
      k.cleanup();
    }
  },
};

export const resolveInProcess: Scenario = {
  name: 'resolve-inproc',
  async run(): Promise<Row[]> {
    const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-'));
    const db = openDb(join(dir, 'state'));
    let upstream = 0;
    const slow: Provider = {
      type: 'slow',
      name: 'slow',
      optionKeys: [],
      async lookup() {
        upstream++;
        await new Promise((r) => setTimeout(r, 20));
        return SecretValue.copyOf(VALUE);
      },
    };
    const broker = new Broker({
      registry: new ProviderRegistry([{ get: (n) => (n === 'slow' ? slow : undefined), has: (n) => n === 'slow', names: () => ['slow'] }]),
      secrets: new SecretsRepo(db),
      audit: new AuditLog(db),
      logger: silentLogger(),
      maxSecretBytes: 1 << 20,
    });
    const ctx = { identity: { frontend: 'bench' }, signal: new AbortController().signal };
    try {
      const burst = await Promise.all(Array.from({ length: 1000 }, () => broker.resolve('ref+slow://x', ctx)));
      for (const r of burst) r.value.zero();
      const coalesced = upstream;
      const row = await runPair({
        name: 'cached resolve in-process',
        keywayLabel: 'broker.resolve (cached, audited)',
        baselineLabel: 'copy the bytes',
        warmup: 500,
        reps: 5000,
        keyway: async () => (await broker.resolve('ref+slow://x', ctx)).value.zero(),
        baseline: async () => SecretValue.copyOf(VALUE).zero(),
      });
      return [{ ...row, note: `1000 concurrent cold resolves → ${coalesced} upstream call` }];
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
